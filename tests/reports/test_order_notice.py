"""The notice to a site's owner: a remediation order printed as the commune's
administrative notice, in Vietnamese, as PDF and DOCX, with the site and a photo of its
last inspection, what is required and by when; a draft without a number until it is
issued, then its number and date, kept."""

import datetime as dt
import io
import json

import pytest
from django.urls import reverse
from docx import Document
from PIL import Image
from pypdf import PdfReader

from accounts.models import Role
from areas.loader import field_map, load_boundaries
from common import navigation
from hazards import orders, services
from hazards.models import RemediationOrder
from hazards.signals import ORDER_NOTICE
from tests.conftest import inside

pytestmark = [pytest.mark.django_db, pytest.mark.frozen("2026-04-06T09:00")]


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def order(demo_tree, make_user, make_site, inspect):
    manager = make_user(
        "quanly", demo_tree["991"], Role.AREA_MANAGER, is_staff=True, first_name="Lan", last_name="Trần"
    )
    worker = make_user(
        "canbo", demo_tree["99101"], Role.FIELD_WORKER, first_name="Bình", last_name="Lê", phone="0912 345 678"
    )
    site = make_site(demo_tree["99101"], actor=manager, name="Ao nhà ông Ba")
    check = inspect(site, "2026-04-02T08:00", signage="none", barrier="partial", actor=worker)
    services.photo_attach(actor=worker, inspection=check, data=jpeg())
    return orders.order_open(
        actor=manager, site=site, party_kind="household", party_name="Hộ ông Nguyễn Văn Ba",
        party_address="Thôn 3", requirements=["sign", "barrier"], deadline=dt.date(2026, 4, 30), follow_up=worker,
    )  # fmt: skip


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_the_notice_is_a_draft_until_issued_then_keeps_its_number_and_date(client, order, frozen_now):
    client.force_login(order.opened_by)
    draft = pdf_text(client.get(reverse("order-notice", args=[order.pk, "pdf"])).content)
    assert "Số:" in draft and "/TB-UBND" in draft and "1/TB-UBND" not in draft
    # Marked as a draft, so that nobody sends it to the owner as it is.
    assert "DỰ THẢO: chưa ban hành, chưa có số" in " ".join(draft.split())
    page = client.get(reverse("order-detail", args=[order.pk])).content.decode()
    assert reverse("order-action", args=[order.pk, "notice"]) in page
    response = client.post(reverse("order-action", args=[order.pk, "notice"]))
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.notice_number, order.notice_date) == ("1/TB-UBND", dt.date(2026, 4, 6))
    frozen_now.move_to(dt.datetime(2026, 4, 9, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7))))
    client.force_login(order.opened_by)  # three days on: a new session (sessions end after 12 hours)
    again = pdf_text(client.get(reverse("order-notice", args=[order.pk, "pdf"])).content)
    assert "Số: 1/TB-UBND" in again and "ngày 06 tháng 4 năm 2026" in again
    assert "DỰ THẢO" not in again


def test_the_notice_in_pdf_and_docx_says_who_must_do_what_by_when(client, order):
    client.force_login(order.opened_by)
    client.post(reverse("order-action", args=[order.pk, "notice"]))
    pdf = client.get(reverse("order-notice", args=[order.pk, "pdf"]))
    docx = client.get(reverse("order-notice", args=[order.pk, "docx"]))
    assert pdf["Content-Type"] == "application/pdf" and docx["Content-Type"].endswith("wordprocessingml.document")
    site = order.site
    # Vietnamese whatever the reader's language (the tests read English pages).
    expected = [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "ỦY BAN NHÂN DÂN XÃ SUỐI BẠC",
        "THÔNG BÁO",
        "Kính gửi: Hộ ông Nguyễn Văn Ba, Thôn 3",
        site.code,
        "Ao nhà ông Ba",
        # The body's name capitalised inside a sentence too (Nghị định 30/2020).
        "Qua kiểm tra, Ủy ban nhân dân xã Suối Bạc nhận thấy",
        "Ủy ban nhân dân xã Suối Bạc đề nghị Hộ ông Nguyễn Văn Ba:",
        # What to do, each a line, then by when.
        "- Lắp đặt biển báo cảnh báo nước sâu, nguy cơ đuối nước;",
        "- Làm rào chắn xung quanh khu vực nước sâu nguy hiểm.",
        "Thời hạn hoàn thành: chậm nhất ngày 30/04/2026.",
        # Whom the owner tells when the work is done, and how to reach them.
        "báo cho Lê Bình (số điện thoại 0912 345 678), người theo dõi",
        "02/04/2026",
    ]
    for text in (pdf_text(pdf.content), docx_text(docx.content)):
        flat = " ".join(text.split())
        missing = [e for e in expected if e not in flat]
        assert missing == [], flat
    # The photo of the last inspection is in both.
    assert len(PdfReader(io.BytesIO(pdf.content)).pages[0].images) == 1
    assert len(Document(io.BytesIO(docx.content)).inline_shapes) == 1


def test_only_people_who_see_the_order_get_its_notice_and_only_managers_issue_it(client, order, demo_tree, make_user):
    client.force_login(make_user("khac", demo_tree["992"], Role.AREA_MANAGER, is_staff=True))
    assert client.get(reverse("order-notice", args=[order.pk, "pdf"])).status_code == 404
    assert client.post(reverse("order-action", args=[order.pk, "notice"])).status_code == 404
    client.force_login(order.follow_up)
    assert client.get(reverse("order-notice", args=[order.pk, "docx"])).status_code == 200
    assert client.post(reverse("order-action", args=[order.pk, "notice"])).status_code == 404
    assert client.get(reverse("order-notice", args=[order.pk, "odt"])).status_code == 404
    assert RemediationOrder.objects.get().notice_number == ""


def heading(text: str) -> list[str]:
    """The lines above the number ("Số: ..."): the issuing body as the heading sets it."""
    lines = [" ".join(line.replace("\u00a0", " ").split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    return lines[: next(i for i, line in enumerate(lines) if line.startswith("Số:"))]


def docx_heading(content: bytes) -> list[str]:
    cell = Document(io.BytesIO(content)).tables[0].rows[0].cells[0]
    return heading("\n".join(p.text for p in cell.paragraphs))


@pytest.mark.parametrize(
    ("name", "lines"),
    [
        # The body above its commune, the commune's name whole (it was "...XÃ SUỐI" / "BẠC").
        ("Xã Suối Bạc", ["ỦY BAN NHÂN DÂN", "XÃ SUỐI BẠC"]),
        ("Phường Hòa Khánh Nam", ["ỦY BAN NHÂN DÂN", "PHƯỜNG HÒA KHÁNH NAM"]),
        # "Thị trấn" is one unit, not "thị" + "trấn"; too wide for one line, the type above the name.
        ("Thị trấn Nông trường Mộc Châu", ["ỦY BAN NHÂN DÂN", "THỊ TRẤN", "NÔNG TRƯỜNG MỘC CHÂU"]),
    ],
)
def test_the_notice_heading_keeps_the_commune_name_whole(client, order, name, lines):
    order.site.area.__class__.objects.filter(pk=order.site.area_id).update(name=name)
    client.force_login(order.opened_by)
    pdf = client.get(reverse("order-notice", args=[order.pk, "pdf"])).content
    docx = client.get(reverse("order-notice", args=[order.pk, "docx"])).content
    assert heading(PdfReader(io.BytesIO(pdf)).pages[0].extract_text()) == lines
    assert docx_heading(docx) == lines


def test_a_heading_line_that_fits_is_kept_whole_and_one_too_wide_wraps_at_words():
    from reports.administrative.model import heading_lines

    def fits(width):
        return lambda text: len(text) <= width

    assert heading_lines("UBND xã Suối Bạc", fits(20)) == ["UBND\u00a0XÃ\u00a0SUỐI\u00a0BẠC"]
    assert heading_lines("Ủy ban nhân dân thị xã Sơn Tây", fits(16)) == [
        "ỦY\u00a0BAN\u00a0NHÂN\u00a0DÂN",
        "THỊ\u00a0XÃ\u00a0SƠN\u00a0TÂY",
    ]
    # A name wider than any line wraps at its own spaces, never inside a word.
    assert heading_lines("Ủy ban nhân dân xã Một Cái Tên Rất Dài", fits(15))[-1] == "MỘT CÁI TÊN RẤT DÀI"
    # A body without a unit in its name is one part.
    assert heading_lines("Bộ Y tế", fits(20)) == ["BỘ\u00a0Y\u00a0TẾ"]


def test_a_notice_without_a_photo_fits_its_page_with_its_signature(client, demo_tree, make_user, make_site, inspect):
    """A site inspected without a photo: the notice is short and fits one page, its last
    paragraph beside the closing. The closing kept with that paragraph used to be carried
    whole to a second page, leaving half of the first empty (a nested KeepTogether)."""
    manager = make_user("quanly", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    worker = make_user(
        "canbo", demo_tree["99101"], Role.FIELD_WORKER, first_name="Bình", last_name="Lê", phone="0912 345 678"
    )
    site = make_site(demo_tree["99101"], actor=manager, name="Đập ông Ba")
    inspect(site, "2026-04-02T08:00", signage="in_place", barrier="none", actor=worker)
    order = orders.order_open(
        actor=manager, site=site, party_kind="household", party_name="Hộ ông Ba", requirements=["barrier"],
        deadline=dt.date(2026, 4, 30), follow_up=worker,
    )  # fmt: skip
    client.force_login(manager)
    pages = PdfReader(io.BytesIO(client.get(reverse("order-notice", args=[order.pk, "pdf"])).content)).pages
    assert len(pages) == 1
    text = " ".join(pages[0].extract_text().split())
    assert "Khi hoàn thành, đề nghị báo cho Lê Bình" in text and "CHỦ TỊCH" in text


def test_a_site_in_a_village_gets_the_notice_of_its_commune_numbered_in_the_commune_series(
    client, demo_tree, make_user, make_site, tmp_path
):
    """A village (thôn) has no People's Committee: a site lying in one is the commune's to
    require, so its notice is the commune's, with the commune's next number. It was issued
    as "ỦY BAN NHÂN DÂN THÔN …", with numbers of the village's own, beside the commune's."""
    commune = demo_tree["99101"]
    centre = inside(commune)
    village_geom = commune.geom.intersection(centre.buffer(0.002))
    path = tmp_path / "villages.geojson"
    feature = {"type": "Feature", "geometry": json.loads(village_geom.geojson),
               "properties": {"code": "9910101", "name": "Thôn Bản Chang", "parent": "99101", "loai": "Thôn"}}  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    load_boundaries(
        [path], fields=field_map(code="code", name="name", level="village", parent="parent", unit_type="loai")
    )
    manager = make_user("quanly", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    worker = make_user("canbo", commune, Role.FIELD_WORKER)
    in_commune = make_site(commune, actor=manager, location=commune.geom.difference(village_geom).point_on_surface)
    in_village = make_site(commune, actor=manager, location=centre, name="Ao thôn Bản Chang")
    assert (in_commune.area.code, in_village.area.code) == ("99101", "9910101")
    client.force_login(manager)
    numbers = []
    for site in (in_commune, in_village):
        order = orders.order_open(
            actor=manager, site=site, party_kind="household", party_name="Hộ ông Ba", requirements=["sign"],
            deadline=dt.date(2026, 4, 30), follow_up=worker,
        )  # fmt: skip
        client.post(reverse("order-action", args=[order.pk, "notice"]))
        numbers.append(RemediationOrder.objects.get(pk=order.pk).notice_number)
    assert numbers == ["1/TB-UBND", "2/TB-UBND"]
    for fmt, read in (("pdf", pdf_text), ("docx", docx_text)):
        text = " ".join(read(client.get(reverse("order-notice", args=[order.pk, fmt])).content).split())
        assert "ỦY BAN NHÂN DÂN XÃ SUỐI BẠC" in text and "Ủy ban nhân dân xã Suối Bạc đề nghị" in text, text
        assert "DÂN THÔN" not in text and "Ủy ban nhân dân thôn" not in text, text
        assert "Thôn Bản Chang, Xã Suối Bạc" in text, text


def test_an_issued_notice_prints_the_site_as_it_was_when_issued(client, order, inspect, frozen_now):
    """The notice is kept with its number and date: printed again once the owner has done
    the work, it still says what the site lacked on that date, with that inspection's
    photo, instead of telling the owner that a site with its sign and barrier in place
    lacks them."""
    client.force_login(order.opened_by)
    client.post(reverse("order-action", args=[order.pk, "notice"]))
    frozen_now.move_to(dt.datetime(2026, 4, 21, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7))))
    inspect(order.site, "2026-04-20T10:00", signage="in_place", barrier="complete", actor=order.follow_up)
    assert RemediationOrder.objects.get(pk=order.pk).state == "verified"
    client.force_login(order.opened_by)  # a new day's session
    pdf = client.get(reverse("order-notice", args=[order.pk, "pdf"])).content
    docx = client.get(reverse("order-notice", args=[order.pk, "docx"])).content
    for text in (pdf_text(pdf), docx_text(docx)):
        flat = " ".join(text.split())
        assert "ngày 02/04/2026: biển báo: không có biển báo; rào chắn: rào chắn chưa đầy đủ." in flat, flat
        assert "20/04/2026" not in flat
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1


@pytest.mark.parametrize(
    ("signage", "barrier", "asked", "finding"),
    [
        ("in_place", "partial", ["barrier"], "chưa có rào chắn theo quy định"),
        ("damaged", "complete", ["sign"], "chưa có biển báo theo quy định"),
        ("none", "none", ["barrier"], "chưa có đủ biển báo và rào chắn theo quy định"),
    ],
)
def test_the_notice_says_what_the_inspection_found_missing(
    client, demo_tree, make_user, make_site, inspect, signage, barrier, asked, finding
):
    """It said "lacks the warning sign and barrier" of a site whose sign was in place, next
    to the paragraph saying so, when only a barrier was asked for: the finding is the
    inspection's, whatever the order asks (an order asks only for what is missing)."""
    manager = make_user("quanly", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    worker = make_user("canbo", demo_tree["99101"], Role.FIELD_WORKER)
    site = make_site(demo_tree["99101"], actor=manager, name="Ao nhà ông Tư")
    inspect(site, "2026-04-02T08:00", signage=signage, barrier=barrier, actor=worker)
    order = orders.order_open(
        actor=manager, site=site, party_kind="household", party_name="Hộ ông Tư", requirements=asked,
        deadline=dt.date(2026, 4, 30), follow_up=worker,
    )  # fmt: skip
    client.force_login(manager)
    for fmt, read in (("pdf", pdf_text), ("docx", docx_text)):
        flat = " ".join(read(client.get(reverse("order-notice", args=[order.pk, fmt])).content).split())
        assert f"do Hộ ông Tư chịu trách nhiệm {finding}, có nguy cơ gây đuối nước" in flat, flat


def test_the_order_page_links_to_the_notice_files_reports_offers_and_renders_without_them(client, order, monkeypatch):
    """hazards' order page names no page of reports (tests/test_layers.py): reports offers
    the notice's files at hazards' place for them. Without reports' offers (reports not
    installed) the page still renders, without the notice and its issuing."""
    client.force_login(order.opened_by)
    page = client.get(reverse("order-detail", args=[order.pk])).content.decode()
    for fmt in ("pdf", "docx"):
        assert f'href="{reverse("order-notice", args=[order.pk, fmt])}"' in page
    assert reverse("order-action", args=[order.pk, "notice"]) in page
    monkeypatch.setitem(navigation.OFFERED, ORDER_NOTICE, [])
    response = client.get(reverse("order-detail", args=[order.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "/notices/" not in page and reverse("order-action", args=[order.pk, "notice"]) not in page

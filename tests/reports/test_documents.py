"""The report as a document a department signs: Vietnamese administrative form (Nghị định
30/2020/NĐ-CP) in PDF and in editable DOCX, from the report page (a draft without a
number) and from a submission (its number, date and frozen numbers)."""

import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from django.utils import translation
from docx import Document
from docx.oxml.ns import qn
from pypdf import PdfReader

from accounts.models import Role
from reports import services
from reports.administrative.model import place_and_date
from reports.periods import Period

pytestmark = [pytest.mark.django_db, pytest.mark.frozen("2026-03-05T10:00")]
D = dt.date.fromisoformat
QUERY = {"kind": "half", "year": 2025, "half": 1, "area": "991"}


@pytest.fixture
def manager(client, demo_tree, make_user):
    user = make_user("huyen", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "vi"})
    return user


@pytest.fixture
def sites(demo_tree, make_site, inspect):
    made = {}
    for n in range(3):
        site = make_site(demo_tree["99101"], name=f"Ao số {n}", active_from=D("2025-01-01"))
        inspect(site, "2025-03-01T09:00", "in_place" if n == 0 else "none", "complete" if n == 0 else "partial")
        made[n] = site
    made["well"] = make_site(demo_tree["99102"], name="Giếng làng", kind="well", active_from=D("2025-01-01"))
    return made


def pdf_text(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def test_the_date_line_writes_leading_zeros_as_the_decree_asks():
    with translation.override("vi"):
        assert place_and_date("Sông Xanh", D("2026-01-05")) == "Sông Xanh, ngày 05 tháng 01 năm 2026"
        assert place_and_date("Sông Xanh", D("2026-02-15")) == "Sông Xanh, ngày 15 tháng 02 năm 2026"
        assert place_and_date("Sông Xanh", D("2026-11-30")) == "Sông Xanh, ngày 30 tháng 11 năm 2026"


def test_the_submitted_report_as_pdf_in_administrative_form(client, demo_tree, manager, sites):
    with translation.override("vi"):
        submission = services.report_submit(
            actor=manager,
            area=demo_tree["991"],
            period=Period(D("2025-01-01"), D("2025-06-30"), "half"),
            symbol="BC-UBND",
            issuing_body="Ủy ban nhân dân huyện Đồi Thông",
            parent_body="Ủy ban nhân dân tỉnh Sông Xanh",
            place="Đồi Thông",
            signer_capacity="TM. Ủy ban nhân dân",
            signer_title="Chủ tịch",
            signer_name="Nguyễn Văn An",
            recipients="Ủy ban nhân dân tỉnh Sông Xanh;\nLưu: VT.",
            narrative="Đã rà soát toàn bộ ao hồ trên địa bàn.",
        )
    response = client.get(reverse("submission-document", args=[submission.pk, "pdf"]))
    assert response["Content-Type"] == "application/pdf"
    pages = pdf_text(response.content)
    first, text = pages[0], "\n".join(pages)
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ỦY BAN NHÂN DÂN TỈNH SÔNG XANH",
        "ỦY BAN NHÂN DÂN HUYỆN ĐỒI THÔNG",
        "Số: 1/BC-UBND",
        "Đồi Thông, ngày 05 tháng 3 năm 2026",
        "BÁO CÁO",
        "6 tháng đầu năm 2025",
    ):
        assert expected in first, expected
    for expected in (
        "Xã Suối Bạc",  # the table by area
        "Giếng",  # the breakdown by kind
        "Đã rà soát toàn bộ ao hồ trên địa bàn.",  # the manager's narrative
        "Nơi nhận:",
        "- Lưu: VT.",
        "TM. ỦY BAN NHÂN DÂN",
        "CHỦ TỊCH",
        "Nguyễn Văn An",
        "PHỤ LỤC",
        "(Kèm theo Báo cáo số 1/BC-UBND ngày 05/03/2026 của Ủy ban nhân dân huyện Đồi Thông)",
        sites[1].code,  # not protected: in the annex
        sites["well"].code,
    ):
        assert expected in text, expected
    assert sites[0].code not in text  # protected: not in the annex
    # Page numbers in the top margin, from the second page on.
    assert len(pages) >= 2 and pages[1].lstrip().startswith("2")


def test_the_report_page_gives_an_editable_docx_draft(client, manager, sites):
    response = client.get(reverse("report-file", args=["docx"]), QUERY)
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    document = Document(io.BytesIO(response.content))
    body = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)
    assert "BÁO CÁO" in body and "II. ĐÁNH GIÁ VÀ KIẾN NGHỊ" in body and "PHỤ LỤC" in body
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in cells and "Độc lập - Tự do - Hạnh phúc" in cells
    assert "Số:" in cells and "/BC-UBND" in cells  # a draft: no number yet
    assert "Nơi nhận:" in cells and sites[1].code in cells
    section = document.sections[0]
    assert section.different_first_page_header_footer  # no page number on the first page
    assert "PAGE" in section.header._element.xml  # a field: Word renumbers after edits
    assert section.page_width > section.page_height  # landscape for the wide table


def test_the_report_page_pdf_is_a_draft_in_the_pages_language(client, manager, sites):
    response = client.get(reverse("report-file", args=["pdf"]), QUERY)
    first = pdf_text(response.content)[0]
    assert "Số:" in first and "BÁO CÁO" in first and "huyện Đồi Thông" in first
    # A draft keeps room before the symbol for the number the clerk writes in.
    assert re.search(r"Số:[\s\u00a0]{3,}/BC-UBND", first), first[:300]
    client.post(reverse("set_language"), {"language": "en"})
    english = pdf_text(client.get(reverse("report-file", args=["pdf"]), QUERY).content)[0]
    assert "SOCIALIST REPUBLIC OF VIETNAM" in english and "REPORT" in english


def test_the_table_headings_are_not_broken_inside_a_word(client, manager, sites):
    """Table 1 has twenty columns on A4 landscape: with reportlab's 6 pt padding each side
    "STT" was set as "ST / T" and "chứng" as "chứn / g"."""
    response = client.get(reverse("report-file", args=["pdf"]), QUERY)
    lines = {line.strip() for line in pdf_text(response.content)[0].splitlines()}
    assert "STT" in lines
    assert not {"ST", "T", "chứn", "g"} & lines, sorted(lines)


def test_the_docx_lays_out_as_a_department_signs_it(client, manager, sites):
    """What LibreOffice showed of the DOCX (docs/screenshots/report-4-docx-page-*.png):
    the twenty-column table's headings broke inside words ("ST / T", "Chư / a") with
    Word's wide cell margins, Table 2's caption stood alone at the foot of page 1, a blank
    page came before the annex, and the area read "Huyện" in mid-sentence."""
    document = Document(io.BytesIO(client.get(reverse("report-file", args=["docx"]), QUERY).content))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "trên địa bàn huyện Đồi Thông, 6 tháng đầu năm 2025" in body
    area_table = document.tables[1]  # after the heading's
    # The PDF's table settings, whose headings keep their words (the test above).
    margins = area_table._tbl.tblPr.find(qn("w:tblCellMar"))
    assert {m.get(qn("w:w")) for m in margins} == {"50", "30"}  # 2.5 pt each side, 1.5 pt above and below
    heading_sizes = {run.font.size.pt for cell in area_table.rows[1].cells for run in cell.paragraphs[0].runs}
    assert heading_sizes == {8.5}
    captions = [p for p in document.paragraphs if p.text.startswith("Bảng ")]
    assert len(captions) >= 2 and all(p.paragraph_format.keep_with_next for p in captions)
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in area_table.rows[2:])
    # The annex opens a page by itself: no paragraph of a page break left to fall alone.
    annex = next(p for p in document.paragraphs if p.text == "PHỤ LỤC")
    assert annex.paragraph_format.page_break_before
    assert 'w:type="page"' not in document.element.body.xml


def test_the_signature_never_stands_alone_on_a_page():
    """However long the body, the page with the recipients and the signature also holds
    the body's last paragraph (the submitted DOCX with the order table had put the
    signature alone on page 3)."""
    from reports.administrative import AdministrativeDocument, Paragraph, Signature, pdf, word

    for count in range(8, 30):
        body = [Paragraph(f"Đoạn {n}: " + "các xã đã rà soát toàn bộ ao hồ trên địa bàn " * 4) for n in range(count)]
        body.append(Paragraph("Đề nghị tỉnh hỗ trợ kinh phí làm rào chắn."))
        document = AdministrativeDocument(
            issuing_body="Ủy ban nhân dân huyện Đồi Thông", kind="Báo cáo", subject="Thử", place="Đồi Thông",
            day=dt.date(2026, 7, 1), symbol="BC-UBND", body=body, recipients=["Lưu: VT."],
            signature=Signature(title="Chủ tịch", name="Nguyễn Văn An"),
        )  # fmt: skip
        with translation.override("vi"):
            pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf.render(document))).pages]
            docx = Document(io.BytesIO(word.render(document)))
        signed = next(text for text in pages if "Nơi nhận" in text)
        assert "kinh phí làm rào chắn" in " ".join(signed.split()), count
        last = next(p for p in reversed(docx.paragraphs) if "kinh phí" in p.text)
        assert last.paragraph_format.keep_with_next, count


def test_the_totals_rows_are_bold_in_the_pdf(client, manager, sites):
    response = client.get(reverse("report-file", args=["pdf"]), QUERY)
    fonts = {}

    def seen(text, _cm, _tm, font, _size):
        if text.strip() and font:
            fonts.setdefault(text.strip(), set()).add(font.get("/BaseFont", ""))

    for page in PdfReader(io.BytesIO(response.content)).pages:
        page.extract_text(visitor_text=seen)
    assert fonts.get("Tổng") and all("Bold" in font for font in fonts["Tổng"]), fonts.get("Tổng")


def test_the_report_states_the_evidence_intervals_of_the_settings(client, manager, sites, settings):
    """The intervals are settings (EVIDENCE_MAX_AGE_DAYS, TEMPORARY_EVIDENCE_MAX_AGE_DAYS):
    a province that re-checks every 180 days reads 180 in its report, not the default."""
    settings.EVIDENCE_MAX_AGE_DAYS, settings.TEMPORARY_EVIDENCE_MAX_AGE_DAYS = 180, 60
    document = Document(io.BytesIO(client.get(reverse("report-file", args=["docx"]), QUERY).content))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "trong vòng 180 ngày (60 ngày với công trình đang thi công)" in body
    page = client.get(reverse("report"), QUERY).content.decode()
    assert "trong vòng 180 ngày (60 ngày với" in page
    client.post(reverse("set_language"), {"language": "en"})
    pdf = "".join(pdf_text(client.get(reverse("report-file", args=["pdf"]), QUERY).content))
    assert "within 180 days (60 for works under construction)" in " ".join(pdf.split())
    page = client.get(reverse("report"), QUERY).content.decode()
    assert "within 180 days (60 for works under construction)" in page

"""The progress report on a history with known answers: sites opened and closed in the
period, inspections before and after its end, a sign damaged then repaired, temporary
sites, nested areas, targets, and every file format."""

import csv
import datetime as dt
import html
import io
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader

from accounts.models import Role
from areas.loader import load_boundaries
from hazards import lifecycle, services
from reports.derived import kept_result_differences, summary_differences
from reports.models import Target
from reports.periods import Period, half_year_containing
from reports.selectors import Country, _as_of_by_child, _current_by_child, progress_report, sites_behind
from reports.services import target_set
from tests.conftest import DEMO_FILES, inside

pytestmark = pytest.mark.django_db

H1_2025 = Period(dt.date(2025, 1, 1), dt.date(2025, 6, 30), "half")


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), (9, 9, 9)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def history(demo_tree, make_site, inspect, superuser):
    def site(code, name, since, **fields):
        return make_site(demo_tree[code], name=name, active_from=dt.date.fromisoformat(since), **fields)

    a = site("99101", "A", "2024-01-01")
    inspect(a, "2024-03-01T09:00", "none", "none")
    checked = inspect(a, "2025-03-01T09:00", "in_place", "complete")
    services.photo_attach(actor=superuser, inspection=checked, data=photo())
    inspect(a, "2025-08-01T09:00", "damaged", "none")  # after the period: not counted
    b = site("99101", "B", "2024-01-01")
    inspect(b, "2025-02-01T09:00", "damaged", "partial")
    inspect(b, "2025-05-01T09:00", "in_place", "partial")  # the sign was repaired
    c = site("99102", "C", "2025-02-01")  # opened during the period
    inspect(c, "2025-02-02T09:00", "none", "complete")
    d = site("99102", "D", "2024-01-01")
    inspect(d, "2024-06-01T09:00", "in_place", "complete")
    lifecycle.site_close(actor=superuser, site=d, reason="filled_in", closed_at=dt.date(2025, 4, 1))
    e = site("99201", "E", "2024-01-01")
    inspect(e, "2024-05-01T09:00", "in_place", "complete")  # more than 12 months before the end
    site("99201", "F", "2025-07-15")  # opened after the period
    site("99301", "G", "2024-01-01", deep_water=False)  # no deep water: never counts
    h = site("99302", "H", "2024-01-01")  # never inspected
    i = site("99101", "I", "2024-06-01", is_temporary=True, kind="pit")
    inspect(i, "2025-01-10T09:00", "in_place", "complete")  # temporary: verified for 90 days only
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "H": h, "I": i}


def counts(row):
    return {
        k: row.counts[k] for k in ("counting", "signed", "fenced", "protected", "inspected", "with_photo", "unverified")
    }


def test_every_number_of_a_past_half_year(history, demo_tree):
    report = progress_report(demo_tree["99"], H1_2025)
    rows = {row.area.code: row for row in report.rows}
    assert counts(rows["991"]) == {
        "counting": 4,
        "signed": 3,
        "fenced": 3,
        "protected": 2,
        "inspected": 4,
        "with_photo": 1,
        "unverified": 1,
    }
    assert counts(rows["992"]) == {
        "counting": 1,
        "signed": 1,
        "fenced": 1,
        "protected": 1,
        "inspected": 0,
        "with_photo": 0,
        "unverified": 1,
    }
    assert counts(rows["993"]) == {
        "counting": 1,
        "signed": 0,
        "fenced": 0,
        "protected": 0,
        "inspected": 0,
        "with_photo": 0,
        "unverified": 1,
    }
    assert counts(report.total) == {
        "counting": 6,
        "signed": 4,
        "fenced": 4,
        "protected": 3,
        "inspected": 4,
        "with_photo": 1,
        "unverified": 3,
    }
    assert report.total.share("protected") == 50.0
    # Against the directive's default of 100 %.
    assert (report.total.gap("signed"), report.total.gap("fenced"), report.total.gap("protected")) == (2, 2, 3)
    # Previous half-year (as of 31/12/2024): 991 had A, B, D, I counting and only D protected.
    assert rows["991"].previous["counting"] == 4 and rows["991"].previous["protected"] == 1
    assert rows["991"].change("protected") == Decimal("25.0")
    assert report.total.change("protected") == Decimal("16.7")  # 50 − 33.33…, rounded half up


def test_nested_areas_and_inherited_targets(history, demo_tree, superuser):
    target_set(
        actor=superuser,
        area=demo_tree["991"],
        indicator="protected",
        value=50,
        valid_from=dt.date(2025, 1, 1),
        deadline=dt.date(2025, 12, 31),
    )
    district = progress_report(demo_tree["991"], H1_2025)
    rows = {row.area.code: row for row in district.rows}
    assert rows["99101"].counts["counting"] == 3 and rows["99102"].counts["counting"] == 1
    assert rows["99101"].targets["protected"] == 50  # inherited from the district
    assert rows["99101"].gap("protected") == 0  # 2 of 3 protected, 50 % needs 2
    assert rows["99102"].gap("protected") == 1
    assert district.total.counts == progress_report(demo_tree["99"], H1_2025).rows[0].counts


def test_past_report_unchanged_by_later_inspections_and_closures(history, demo_tree, inspect, superuser):
    before = progress_report(demo_tree["99"], H1_2025)
    inspect(history["H"], "2025-09-01T09:00", "in_place", "complete")
    inspect(history["E"], "2026-01-05T09:00", "none", "none")
    lifecycle.site_close(actor=superuser, site=history["B"], reason="works_finished", closed_at=dt.date(2025, 10, 1))
    after = progress_report(demo_tree["99"], H1_2025)
    assert [counts(r) for r in after.rows] == [counts(r) for r in before.rows]
    assert counts(after.total) == counts(before.total)


def test_late_arriving_inspection_inside_the_period_is_counted(history, demo_tree, inspect):
    progress_report(demo_tree["99"], H1_2025)  # computed and kept
    # An offline tablet syncs a check it made in June 2025: as of 30/06/2025 H was checked.
    inspect(history["H"], "2025-06-20T09:00", "in_place", "none")
    rows = {r.area.code: r for r in progress_report(demo_tree["99"], H1_2025).rows}
    assert rows["993"].counts["signed"] == 1 and rows["993"].counts["unverified"] == 0


def test_current_numbers_from_the_summary_match_the_as_of_computation(history, demo_tree, inspect, superuser):
    inspect(history["H"], dt.datetime.now(dt.UTC) - dt.timedelta(days=1), "in_place", "complete")
    services.site_delete(actor=superuser, site=history["C"])
    services.site_update(actor=superuser, site=history["E"], location=inside(demo_tree["99301"]))
    current = half_year_containing(dt.date.today())
    root = demo_tree["99"]
    summary = _current_by_child(root, list(root.children.all()), current)
    computed = _as_of_by_child(root, current)
    assert summary == computed


def test_a_commune_moved_to_another_district_by_a_reload_is_counted_there_now(history, demo_tree, tmp_path):
    """A reload that gives a commune another district changes no site, so no site's
    trigger moves its numbers: the summary of each district holds its whole subtree and
    kept counting the commune's sites under the district it left."""
    communes = json.loads(DEMO_FILES[2].read_text())
    for feature in communes["features"]:
        if feature["properties"]["ma_xa"] == "99101":
            feature["properties"]["ma_huyen"] = "992"
    path = tmp_path / "communes.geojson"
    path.write_text(json.dumps(communes))
    load_boundaries([path])
    root = demo_tree["99"]
    current = half_year_containing(dt.date.today())
    summary = _current_by_child(root, list(root.children.all()), current)
    assert summary == _as_of_by_child(root, current)
    assert summary_differences(repair=False) == 0


def test_a_changed_evidence_interval_reaches_what_reports_kept(history, demo_tree, settings):
    """The next migrate writes a changed setting into the rules; the past periods' answers
    kept as computed by the old interval are dropped, and the summary rebuilt."""
    root = demo_tree["99"]
    before = progress_report(root, H1_2025).total.counts["unverified"]  # computed and kept
    settings.EVIDENCE_MAX_AGE_DAYS = 30
    call_command("migrate", verbosity=0)
    assert kept_result_differences(repair=False) == 0 and summary_differences(repair=False) == 0
    assert progress_report(root, H1_2025).total.counts["unverified"] > before


def test_sites_behind_each_number(history, demo_tree):
    root = demo_tree["99"]
    assert [s["name"] for s in sites_behind(root, H1_2025, "unverified")] == ["E", "H", "I"]
    assert [s["name"] for s in sites_behind(root, H1_2025, "protected", child_code="991")] == ["A", "I"]
    assert [s["name"] for s in sites_behind(root, H1_2025, "with_photo")] == ["A"]
    assert [s["name"] for s in sites_behind(root, H1_2025, "not_fenced", child_code="991")] == ["B"]


@pytest.fixture
def manager(client, demo_tree, make_user):
    user = make_user("tinh", demo_tree["99"], Role.AREA_MANAGER, is_staff=True)
    client.force_login(user)
    return user


QUERY = {"kind": "half", "year": 2025, "half": 1}


def test_report_page_links_each_number_to_its_sites(client, manager, history):
    page = client.get(reverse("report"), QUERY)
    assert page.status_code == 200
    assert "First half of 2025" in page.text
    links = [html.unescape(href) for href in re.findall(r'href="([^"]+)"', page.text)]
    assert reverse("report-sites") + "?kind=half&year=2025&half=1&area=99&indicator=unverified&child=991" in links
    listing = client.get(reverse("report-sites"), {**QUERY, "area": "99", "indicator": "unverified", "child": "991"})
    assert [s["name"] for s in listing.context["sites"]] == ["I"]


LIST_TITLES_VI = {
    "counting": "Các điểm tính chỉ tiêu",
    "signed": "Các điểm có biển báo",
    "fenced": "Các điểm có rào chắn đầy đủ",
    "protected": "Các điểm được bảo vệ (có cả biển báo và rào chắn)",
    "not_signed": "Các điểm chưa có biển báo",
    "not_fenced": "Các điểm chưa có rào chắn đầy đủ",
    "not_protected": "Các điểm chưa được bảo vệ",
    "inspected": "Các điểm được kiểm tra trong kỳ",
    "with_photo": "Các điểm có ảnh minh chứng",
    "unverified": "Các điểm chưa xác minh (quá hạn kiểm tra)",
}


def test_the_list_behind_each_number_is_titled_in_vietnamese(client, manager, history):
    """The lists' headings were marked for translation under an alias that makemessages
    does not read, so a Vietnamese planner saw "Sites counting toward the target: 46"."""
    for indicator, title in LIST_TITLES_VI.items():
        listing = client.get(
            reverse("report-sites"), {**QUERY, "area": "99", "indicator": indicator}, HTTP_ACCEPT_LANGUAGE="vi"
        )
        count = len(listing.context["sites"])
        assert f"<h1>{title}: {count}</h1>" in html.unescape(listing.text), indicator


def test_report_defaults_to_the_last_complete_half_year(client, manager, history):
    page = client.get(reverse("report"))
    today = dt.date.today()
    expected = half_year_containing(half_year_containing(today).start - dt.timedelta(days=1))
    assert page.context["report"].period == expected


def test_report_area_outside_scope_is_a_form_error(client, demo_tree, make_user, history):
    client.force_login(make_user("ho_sen", demo_tree["992"], Role.VIEWER))
    # The same answer as for an area that does not exist: nothing said about other areas.
    page = client.get(reverse("report"), {**QUERY, "area": "991"})
    assert page.status_code == 400 and "No area named “991” in your areas." in page.text
    assert client.get(reverse("report-file", args=["csv"]), {**QUERY, "area": "99"}).status_code == 400
    assert client.get(reverse("report-sites"), {**QUERY, "area": "991", "indicator": "counting"}).status_code == 400
    own = client.get(reverse("report"), QUERY)
    assert own.context["report"].area.code == "992"


def test_the_area_is_chosen_by_its_name(client, manager, history):
    found = client.get(reverse("report"), {**QUERY, "area": "suoi bac"})  # no tone marks, any case
    assert found.status_code == 200 and found.context["report"].area.code == "99101"
    assert 'value="Xã Suối Bạc (99101)"' in found.text
    several = client.get(reverse("report"), {**QUERY, "area": "Xã"})
    assert several.status_code == 400 and "Several areas match “Xã”" in several.text
    suggestions = client.get(reverse("report-areas"), {"q": "doi thong"}).json()["areas"]
    assert suggestions[0]["label"] == "Huyện Đồi Thông (991)"


def test_the_form_shows_the_default_year_and_half(client, manager, history):
    page = client.get(reverse("report"))
    report = page.context["report"]
    assert f'name="year" value="{report.period.start.year}"' in page.text


def test_bad_input_is_a_form_error_on_the_page(client, manager):
    for query in ({"year": "hai nghìn"}, {"kind": "week"}, {"half": "3"}, {"start": "30/02/2025", "kind": "range"}):
        response = client.get(reverse("report"), query)
        assert response.status_code == 400 and 'class="errors"' in response.text, query
    listing = client.get(reverse("report-sites"), {**QUERY, "indicator": "everything"})
    assert listing.status_code == 400 and "Unknown list everything" in listing.text


def test_bad_period_is_a_clear_400(client, manager):
    response = client.get(reverse("report"), {"kind": "range", "start": "2025-06-01", "end": "2025-01-01"})
    assert response.status_code == 400 and "The range starts after it ends" in response.text
    response = client.get(reverse("report-file", args=["pdf"]), {"kind": "range"})
    assert response.status_code == 400


def test_csv_and_xlsx_hold_the_table_with_codes(client, manager, history):
    data = client.get(reverse("report-file", args=["csv"]), {**QUERY, "area": "99"}).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    rows = rows[: rows.index([])]  # the remediation orders follow, after a blank line
    head = rows[1]
    counting, signed = head.index("Sites counting"), head.index("Warning sign in place – Sites")
    protected, share = head.index("Protected (both) – Sites"), head.index("Protected (both) – %")
    by_code = {r[0]: r for r in rows[2:]}
    assert (by_code["991"][counting], by_code["991"][signed], by_code["991"][protected]) == ("4", "3", "2")
    total = rows[-1]
    assert (total[0], total[counting], total[protected], total[share]) == ("99", "6", "3", "50.0")
    book = load_workbook(io.BytesIO(client.get(reverse("report-file", args=["xlsx"]), {**QUERY, "area": "99"}).content))
    values = [[c.value for c in r] for r in book.active.iter_rows(min_row=4)]
    assert [v[0] for v in values] == ["991", "992", "993", "99"]
    assert (values[-1][counting], values[-1][protected]) == (6, 3)


def test_pdf_is_the_report_document(client, manager, history):
    response = client.get(reverse("report-file", args=["pdf"]), {**QUERY, "area": "99"})
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "REPORT" in text and "First half of 2025" in text and "tỉnh Sông Xanh" in text  # in mid-sentence
    assert dt.date.today().strftime("%d/%m/%Y") in text
    assert "Huyện Đồi Thông" in text and "50.0" in text


def test_pdf_in_vietnamese(client, manager, history):
    client.post(reverse("set_language"), {"language": "vi"})
    response = client.get(reverse("report-file", args=["pdf"]), {**QUERY, "area": "99"})
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "BÁO CÁO" in text and "địa bàn tỉnh Sông Xanh" in text and "50,0" in text


def test_target_changes_are_audited(demo_tree, superuser):
    from accounts.audit import act_as
    from accounts.models import AuditEntry

    act_as(superuser)
    target_set(actor=superuser, area=demo_tree["991"], indicator="signed", value=90, deadline=dt.date(2099, 6, 30))
    entry = AuditEntry.objects.get(table="reports_target")
    assert entry.actor == superuser and entry.changes["value"] == [None, 90.0] and entry.area_path == "/99/991/"


def test_a_target_is_named_in_the_readers_number_format(demo_tree, superuser):
    """The admin's messages and titles name a target by its value: "60,0%" in Vietnamese
    (it read "60.0%")."""
    target = target_set(
        actor=superuser, area=demo_tree["99"], indicator="protected", value="62.5", deadline=dt.date(2099, 6, 30)
    )
    with translation.override("vi"):
        assert str(target) == f"{target.area} · Đã bảo vệ 62,5% · 30/06/2099"
    with translation.override("en"):
        assert str(target) == f"{target.area} · Protected 62.5% · 30/06/2099"


def test_whole_country_report_for_national_administrators(client, superuser, history, demo_tree):
    client.force_login(superuser)
    page = client.get(reverse("report"), QUERY)
    report = page.context["report"]
    assert report.area.code == "" and [r.area.code for r in report.rows] == ["99"]
    assert counts(report.total) == counts(progress_report(demo_tree["99"], H1_2025).total)
    current = half_year_containing(dt.date.today())
    country = Country()
    assert _current_by_child(country, list(country.children), current) == _as_of_by_child(country, current)


def test_managers_set_targets_only_in_their_areas(client, demo_tree, make_user):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    client.force_login(manager)
    ok = client.post(
        reverse("admin:reports_target_add"),
        {"area": demo_tree["99101"].pk, "indicator": "protected", "value": "80", "deadline": "2026-12-31"},
    )
    assert ok.status_code == 302
    refused = client.post(
        reverse("admin:reports_target_add"),
        {"area": demo_tree["99201"].pk, "indicator": "protected", "value": "80", "deadline": "2026-12-31"},
    )
    assert refused.status_code == 200
    too_high = client.post(
        reverse("admin:reports_target_add"),
        {"area": demo_tree["99102"].pk, "indicator": "signed", "value": "120", "deadline": "2026-12-31"},
    )
    assert too_high.status_code == 200
    # A share typed the Vietnamese way: 92,5 %.
    comma = client.post(
        reverse("admin:reports_target_add"),
        {"area": demo_tree["99102"].pk, "indicator": "signed", "value": "92,5", "deadline": "2026-12-31"},
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert comma.status_code == 302
    assert sorted(Target.objects.values_list("area__code", "value")) == [("99101", 80), ("99102", Decimal("92.5"))]
    # The list of targets says who set each, in the manager's language (it read "CREATED BY").
    listing = client.get(reverse("admin:reports_target_changelist"), HTTP_ACCEPT_LANGUAGE="vi")
    table = listing.text.split('id="result_list"', 1)[1].split("</thead>", 1)[0]
    headings = [html.unescape(h).strip() for h in re.findall(r"<a [^>]*>([^<]+)</a>", table)]
    assert "Người đặt" in headings and "Created by" not in headings, headings


def test_closing_a_site_keeps_earlier_results_and_drops_later_ones(history, demo_tree, superuser):
    from reports.models import AsOfResult

    progress_report(demo_tree["99"], H1_2025)
    kept = set(AsOfResult.objects.values_list("day", flat=True))
    assert dt.date(2025, 6, 30) in kept
    lifecycle.site_close(actor=superuser, site=history["H"], reason="filled_in", closed_at=dt.date(2025, 3, 1))
    assert not AsOfResult.objects.filter(day=dt.date(2025, 6, 30)).exists()
    assert AsOfResult.objects.filter(day=dt.date(2024, 12, 31)).exists()
    rows = {r.area.code: r for r in progress_report(demo_tree["99"], H1_2025).rows}
    assert rows["993"].counts["counting"] == 0

"""Sign-off: a manager submits a period's report (numbers and lists frozen, with a number,
date and who), the area above approves or returns it, recomputing later shows what has
changed since per cell with the late records behind it, and submissions are listed per
area and period."""

import datetime as dt
import html
import io
import json
import re
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from accounts.models import Role
from accounts.scope import OutOfScope
from areas.loader import load_boundaries
from hazards import lifecycle
from reports import documents, services, submissions
from reports.models import SubmittedSite
from reports.periods import Period
from reports.selectors import progress_report
from tests.conftest import communes_covering

pytestmark = [pytest.mark.django_db, pytest.mark.frozen("2026-03-15T10:00")]
D = dt.date.fromisoformat
H1_2025 = Period(D("2025-01-01"), D("2025-06-30"), "half")
DETAILS = {
    "symbol": "BC-UBND",
    "issuing_body": "Ủy ban nhân dân huyện Đồi Thông",
    "place": "Đồi Thông",
    "signer_capacity": "TM. Ủy ban nhân dân",
    "signer_title": "Chủ tịch",
    "signer_name": "Nguyễn Văn An",
    "recipients": "Ủy ban nhân dân tỉnh Sông Xanh;\nLưu: VT.",
    "narrative": "Các xã đã rà soát toàn bộ ao hồ.\n\nĐề nghị tỉnh hỗ trợ kinh phí làm rào chắn.",
}


@pytest.fixture
def people(demo_tree, make_user):
    return {
        "district": make_user("huyen", demo_tree["991"], Role.AREA_MANAGER, is_staff=True),
        "province": make_user("tinh", demo_tree["99"], Role.AREA_MANAGER, is_staff=True),
        "other": make_user("khac", demo_tree["992"], Role.AREA_MANAGER, is_staff=True),
    }


@pytest.fixture
def sites(demo_tree, make_site, inspect):
    a = make_site(demo_tree["99101"], name="Ao A", active_from=D("2025-01-01"))
    inspect(a, "2025-03-01T09:00", "in_place", "complete")
    b = make_site(demo_tree["99101"], name="Ao B", active_from=D("2025-01-01"))
    inspect(b, "2025-03-01T09:00", "none", "none")
    c = make_site(demo_tree["99102"], name="Giếng C", kind="well", active_from=D("2025-01-01"))
    return {"A": a, "B": b, "C": c}


def submit(actor, area, period=H1_2025):
    return services.report_submit(actor=actor, area=area, period=period, **DETAILS)


def test_a_submission_freezes_the_numbers_and_the_lists_behind_them(demo_tree, people, sites, inspect):
    district = demo_tree["991"]
    submission = submit(people["district"], district)
    assert (str(submission), submission.submitted_by, submission.status) == (
        "1/BC-UBND",
        people["district"],
        "submitted",
    )
    assert SubmittedSite.objects.filter(submission=submission).count() == 3
    before = submissions.frozen_report(submission)
    assert before.total.counts["protected"] == 1 and before.total.counts["counting"] == 3
    # A tablet that was offline sends a check made in June 2025: the live report changes...
    inspect(sites["C"], "2025-06-20T09:00", "in_place", "complete")
    assert progress_report(district, H1_2025).total.counts["protected"] == 2
    # ...the submitted one does not, and says what changed, where and why.
    assert submissions.frozen_report(submission).total.counts == before.total.counts
    found = submissions.changes(submission)
    assert found.cells[("*", "protected")] == (1, 2)
    assert found.cells[("99102", "protected")] == (0, 1)
    assert found.cells[("99102", "unverified")] == (1, 0)
    assert ("99101", "protected") not in found.cells
    [changed] = found.sites
    assert changed.code == sites["C"].code
    assert f"{demo_tree['99102'].name}: Protected (both)" in changed.entered
    assert any("Inspection of 20/06/2025 arrived on 15/03/2026" in text for _at, text in changed.records)
    assert [s["name"] for s in submissions.frozen_sites(submission, "protected")] == ["Ao A"]


def test_records_from_before_the_submission_show_only_for_a_site_with_none_after_it(demo_tree, people, sites, inspect):
    """The records behind a change are placed before or after the submission by the audit
    trail's own clock, the database's: by the application's (frozen here) every record
    seemed to come after it, and a site listed what its submitted numbers already held."""
    inspect(sites["C"], "2025-05-10T09:00", "in_place", "none")  # held by the submitted numbers
    submission = submit(people["district"], demo_tree["991"])
    inspect(sites["C"], "2025-06-20T09:00", "in_place", "complete")  # changes them
    [changed] = submissions.changes(submission).sites
    texts = " ".join(text for _at, text in changed.records)
    assert "Inspection of 20/06/2025" in texts and "Inspection of 10/05/2025" not in texts


def test_a_closure_or_a_merge_after_submission_shows_with_its_record(demo_tree, people, sites, superuser):
    submission = submit(people["district"], demo_tree["991"])
    lifecycle.site_close(actor=superuser, site=sites["B"], reason="filled_in", closed_at=D("2025-05-01"))
    lifecycle.site_merge(actor=superuser, duplicate=sites["C"], kept=sites["A"])
    found = submissions.changes(submission)
    assert found.cells[("*", "counting")] == (3, 1)
    records = {s.code: " ".join(text for _at, text in s.records) for s in found.sites}
    assert "closed on 01/05/2025 (Filled in)" in records[sites["B"].code]
    assert "merged into another site as a duplicate" in records[sites["C"].code]


def test_a_boundary_reload_is_no_dated_move_past_reports_count_the_site_in_its_new_area(
    demo_tree, people, sites, tmp_path
):
    """A reload re-assigns sites by a corrected boundary (hazards/receivers.py), without a
    dated area change: the period's report run again counts the well in the commune that
    now covers it, and the submitted report keeps its numbers and lists the well as changed
    since (README "Layout", the two write paths beside the services)."""
    district = demo_tree["991"]
    submission = submit(people["district"], district)
    before = {row.area and row.area.code: row.counts["counting"] for row in progress_report(district, H1_2025).rows}
    assert (before["99101"], before["99102"]) == (2, 1)
    path = tmp_path / "communes.geojson"
    path.write_text(json.dumps(communes_covering("99101", sites["C"].location)))
    load_boundaries([path])
    again = {row.area and row.area.code: row.counts["counting"] for row in progress_report(district, H1_2025).rows}
    assert (again["99101"], again["99102"]) == (3, 0)
    assert submissions.frozen_report(submission).total.counts["counting"] == 3
    found = submissions.changes(submission)
    assert found.cells[("99101", "counting")] == (2, 3) and found.cells[("99102", "counting")] == (1, 0)
    assert [changed.code for changed in found.sites] == [sites["C"].code]


def test_only_targets_set_after_the_submission_are_listed_as_set_since(demo_tree, people, sites, frozen_now):
    """A target the submitted numbers already used is not "set since the submission", even
    when it was set minutes before it (the page listed it: the look-back that finds
    touched sites was applied to targets too)."""
    district = demo_tree["991"]
    used = services.target_set(
        actor=people["province"], area=district, indicator="protected", value=50, deadline=D("2025-12-31"),
        valid_from=D("2025-01-01"),
    )  # fmt: skip
    frozen_now.shift(dt.timedelta(minutes=3))
    submission = submit(people["district"], district)
    assert submission.numbers["targets"][""]["protected"]["id"] == used.pk
    assert submissions.changes(submission).targets == []
    frozen_now.shift(dt.timedelta(minutes=3))
    later = services.target_set(
        actor=people["province"], area=demo_tree["99101"], indicator="protected", value=80,
        deadline=D("2025-12-31"), valid_from=D("2025-01-01"),
    )  # fmt: skip
    found = submissions.changes(submission)
    assert found.targets == [later]
    assert found.cells[("99101", "protected_target")] == (Decimal("50.0"), Decimal("80.0"))


def test_a_report_is_submitted_once_per_period_and_only_when_it_has_ended(demo_tree, people, sites):
    district = demo_tree["991"]
    submit(people["district"], district)
    with pytest.raises(ValidationError, match=r"already submitted as no\. 1/BC-UBND on 15/03/2026"):
        submit(people["district"], district)
    with pytest.raises(ValidationError, match="submit its report once it has ended"):
        submit(people["district"], district, Period(D("2026-01-01"), D("2026-06-30"), "half"))
    with pytest.raises(OutOfScope):
        submit(people["other"], district)
    second = submit(people["district"], district, Period(D("2025-07-01"), D("2025-12-31"), "half"))
    assert second.number == 2
    with pytest.raises(ValidationError) as refused:
        services.report_submit(
            actor=people["district"],
            area=district,
            period=Period(D("2024-01-01"), D("2024-12-31"), "year"),
            **{**DETAILS, "signer_name": " "},
        )
    assert "signer_name" in refused.value.message_dict


def test_the_area_above_approves_or_returns_it(demo_tree, people, sites):
    district = demo_tree["991"]
    submission = submit(people["district"], district)
    with pytest.raises(OutOfScope):
        services.report_decide(actor=people["district"], submission=submission, approve=True)
    with pytest.raises(ValidationError, match="Say what is to be corrected"):
        services.report_decide(actor=people["province"], submission=submission, approve=False)
    services.report_decide(actor=people["province"], submission=submission, approve=False, note="Thiếu xã Suối Bạc")
    again = submit(people["district"], district)  # a returned report may be submitted again
    assert again.number == 2
    services.report_decide(actor=people["province"], submission=again, approve=True)
    again.refresh_from_db()
    assert (again.status, again.decided_by) == ("approved", people["province"])
    with pytest.raises(ValidationError, match="already decided"):
        services.report_decide(actor=people["province"], submission=again, approve=False, note="x")


def test_who_submitted_a_report_does_not_approve_it(client, demo_tree, people, sites, make_user):
    """A provincial manager may submit a district's report (the province is one of their
    areas) but then approves it as the area above only through someone else: a sign-off
    by the person who submitted is no sign-off."""
    submission = submit(people["province"], demo_tree["991"])
    with pytest.raises(ValidationError, match="You submitted this report"):
        services.report_decide(actor=people["province"], submission=submission, approve=True)
    client.force_login(people["province"])
    page = client.get(reverse("submission-detail", args=[submission.pk]))
    assert 'name="decision"' not in page.text
    refused = client.post(reverse("submission-decide", args=[submission.pk]), {"decision": "approve"})
    assert refused.status_code == 400 and "You submitted this report" in html.unescape(refused.text)
    submission.refresh_from_db()
    assert submission.status == "submitted"
    colleague = make_user("tinh2", demo_tree["99"], Role.AREA_MANAGER, is_staff=True)
    services.report_decide(actor=colleague, submission=submission, approve=True)
    submission.refresh_from_db()
    assert (submission.status, submission.decided_by) == ("approved", colleague)


def test_the_report_says_who_submitted_and_decided_by_name(client, demo_tree, people, sites):
    """The submission's page and the report's page name people as the list of submitted
    reports does, by their full name (they showed the user name: "huyen")."""
    people["district"].first_name = "Nguyễn Văn An"  # as the demo keeps a Vietnamese name
    people["district"].save()
    people["province"].first_name = "Trần Thị Hoa"
    people["province"].save()
    submission = submit(people["district"], demo_tree["991"])
    services.report_decide(actor=people["province"], submission=submission, approve=True)
    client.force_login(people["province"])
    page = html.unescape(client.get(reverse("submission-detail", args=[submission.pk])).text)
    assert "by Nguyễn Văn An." in page and ", Trần Thị Hoa" in page and ", tinh" not in page
    report = client.get(reverse("report"), {"kind": "half", "year": 2025, "half": 1, "area": "991"})
    assert "by Nguyễn Văn An (" in html.unescape(report.text)


def test_submitting_from_the_report_page(client, demo_tree, people, sites):
    client.force_login(people["district"])
    query = {"kind": "half", "year": 2025, "half": 1, "area": "991"}
    page = client.get(reverse("report"), query)
    assert "Submit this report" in page.text
    form = client.get(reverse("submission-new"), query)
    assert form.status_code == 200 and "People&#x27;s Committee of huyện Đồi Thông" in form.text
    url = reverse("submission-new") + "?kind=half&year=2025&half=1&area=991"
    refused = client.post(url, {**DETAILS, "signer_title": ""})
    assert refused.status_code == 400 and "This field is required" in refused.text
    done = client.post(url, DETAILS)
    assert done.status_code == 302
    detail = client.get(done["Location"])
    assert "Report no. 1/BC-UBND" in detail.text and "every number is as submitted" in detail.text
    assert "Submitted as no. 1/BC-UBND on 15/03/2026 by huyen" in client.get(reverse("report"), query).text


def test_a_period_not_yet_ended_is_refused_on_the_form_not_with_an_error_page(client, people, sites):
    client.force_login(people["district"])
    url = reverse("submission-new") + "?kind=half&year=2026&half=1&area=991"  # ends 30/06/2026
    refused = client.post(url, DETAILS)
    assert refused.status_code == 400
    assert "The period ends on 30/06/2026; submit its report once it has ended." in html.unescape(refused.text)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("signer_name", "Nguyễn\x1bVăn An"),
        ("recipients", "UBND tỉnh;\x01\nLưu: VT."),
        ("narrative", "Đề nghị\x0b hỗ trợ"),
    ],
)
def test_a_control_character_in_the_document_s_text_is_refused_naming_the_field(
    client, demo_tree, people, sites, field, value
):
    """Such text broke the submission's DOCX (500) for its author and the area above (pentest N2)."""
    client.force_login(people["district"])
    url = reverse("submission-new") + "?kind=half&year=2025&half=1&area=991"
    refused = client.post(url, {**DETAILS, field: value})
    assert refused.status_code == 400 and "contains the control character U+00" in html.unescape(refused.text)
    assert not services.ReportSubmission.objects.exists()
    decided = submit(people["district"], demo_tree["991"])
    client.force_login(people["province"])
    answer = client.post(reverse("submission-decide", args=[decided.pk]), {"decision": "return", "note": "Sửa\x07 lại"})
    assert answer.status_code == 400 and "contains the control character U+0007" in html.unescape(answer.text)


def test_the_submission_page_marks_each_changed_cell(client, demo_tree, people, sites, inspect):
    submission = submit(people["district"], demo_tree["991"])
    inspect(sites["C"], "2025-06-20T09:00", "in_place", "complete")
    client.force_login(people["province"])
    page = client.get(reverse("submission-detail", args=[submission.pk]))
    assert page.status_code == 200
    assert re.search(r'class="count changed"><a [^>]+>1</a> <span class="now"[^>]*>→ 2</span>', page.text)
    assert "Inspection of 20/06/2025 arrived on 15/03/2026 (root)" in html.unescape(page.text)
    listing = client.get(reverse("submission-sites", args=[submission.pk]), {"indicator": "protected"})
    assert [s["name"] for s in listing.context["sites"]] == ["Ao A"]  # the list as submitted
    decided = client.post(reverse("submission-decide", args=[submission.pk]), {"decision": "approve"})
    assert decided.status_code == 302
    client.force_login(people["other"])
    assert client.get(reverse("submission-detail", args=[submission.pk])).status_code == 404


def test_a_quarter_is_named_on_the_list_the_submission_and_its_document(client, demo_tree, people, sites):
    quarter = submit(people["district"], demo_tree["991"], Period(D("2025-10-01"), D("2025-12-31"), "range"))
    other = submit(people["district"], demo_tree["991"], Period(D("2025-03-01"), D("2025-05-31"), "range"))
    client.force_login(people["province"])
    listing = client.get(reverse("submission-list"), HTTP_ACCEPT_LANGUAGE="vi").text
    assert "Quý IV năm 2025 <small>01/10/2025 – 31/12/2025</small>" in listing
    assert '<td class="name">01/03/2025 – 31/05/2025</td>' in listing  # no name: its dates, once
    page = client.get(reverse("submission-detail", args=[quarter.pk]), HTTP_ACCEPT_LANGUAGE="vi").text
    assert "Huyện Đồi Thông · Quý IV năm 2025</h1>" in page
    sites_page = client.get(
        reverse("submission-sites", args=[quarter.pk]), {"indicator": "counting"}, HTTP_ACCEPT_LANGUAGE="vi"
    ).text
    assert "Huyện Đồi Thông · Quý IV năm 2025 ·" in sites_page
    with translation.override("vi"):
        document = documents.for_submission(quarter)
        assert document.subject.endswith(", Quý IV năm 2025")
        assert "Đồi Thông, Quý IV năm 2025 (từ ngày 01/10/2025 đến ngày 31/12/2025)" in document.body[0].text
        unnamed = documents.for_submission(other).body[0].text
        assert "Đồi Thông từ ngày 01/03/2025 đến ngày 31/05/2025, như sau:" in unnamed


def test_submitted_reports_are_listed_per_area_and_period(client, demo_tree, people, sites):
    submit(people["district"], demo_tree["991"])
    submit(people["province"], demo_tree["99"])
    client.force_login(people["province"])
    listing = client.get(reverse("submission-list"))
    assert [(s.area.code, s.period_start) for s in listing.context["submissions"]] == [
        ("99", D("2025-01-01")),
        ("991", D("2025-01-01")),
    ]
    only = client.get(reverse("submission-list"), {"area": "Đồi Thông", "year": "2025"})
    assert [s.area.code for s in only.context["submissions"]] == ["991"]
    assert client.get(reverse("submission-list"), {"year": "2025"}).context["submissions"].count() == 2
    # The report's number and symbol (1/BC-UBND) is headed as such, not as a row number (STT).
    vietnamese = client.get(reverse("submission-list"), HTTP_ACCEPT_LANGUAGE="vi").text
    assert '<th class="name">Số, ký hiệu</th>' in vietnamese and ">STT<" not in vietnamese
    # The period as the report and its document name it, not as two raw dates.
    assert re.search(r'<td class="name">6 tháng đầu năm 2025 <small>01/01/2025 – 30/06/2025</small></td>', vietnamese)
    english = client.get(reverse("submission-list"), HTTP_ACCEPT_LANGUAGE="en").text
    assert "First half of 2025 <small>01/01/2025 – 30/06/2025</small>" in english
    bad = client.get(reverse("submission-list"), {"year": "năm ngoái"})
    assert bad.status_code == 400 and "The year is a number" in bad.text
    for beyond in ("9" * 30, "１２", "1900"):  # overflowing, other digits, outside the reports' years
        bad = client.get(reverse("submission-list"), {"year": beyond})
        assert bad.status_code == 400 and "The year is a number from 2015 to 2100" in bad.text
    client.force_login(people["other"])
    assert list(client.get(reverse("submission-list")).context["submissions"]) == []


def test_a_submission_stored_with_what_xml_cannot_hold_still_gives_its_docx(client, demo_tree, people, sites):
    """Text stored before the rule refused it (U+FFFF, control characters) made the
    submission's DOCX answer 500 to its author and the province (pentest N2, P7)."""
    submission = submit(people["district"], demo_tree["991"])
    type(submission).objects.filter(pk=submission.pk).update(
        signer_name="Nguyễn Văn A\uffff", narrative="Đánh giá\x01 \ufffe"
    )
    for person in (people["district"], people["province"]):
        client.force_login(person)
        response = client.get(reverse("submission-document", args=[submission.pk, "docx"]))
        assert response.status_code == 200
        text = b"".join(response.streaming_content) if response.streaming else response.content
        assert "Nguyễn Văn A\ufffd".encode() in zipfile.ZipFile(io.BytesIO(text)).read("word/document.xml")


def test_a_refused_list_or_file_answers_in_the_registry_s_shapes(client, demo_tree, people, sites):
    """A browser gets the registry's error page, a script the one JSON shape (never a bare
    text page): a file of the report for an area outside the scope, a submitted report's
    list of an unknown number or of unknown orders."""
    submission = submit(people["district"], demo_tree["991"])
    client.force_login(people["district"])
    refusals = [
        (reverse("report-file", args=["csv"]), {"area": "992", "period": "2025-H1"}),
        (reverse("submission-sites", args=[submission.pk]), {"indicator": "volcanoes"}),
        (reverse("submission-orders", args=[submission.pk]), {"event": "volcanoes"}),
    ]
    for url, query in refusals:
        page = client.get(url, query, HTTP_ACCEPT="text/html", HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 400 and page["Content-Type"].startswith("text/html"), url
        assert "<h1>" in page.text
        script = client.get(url, query, HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="en")
        assert script.status_code == 400 and script.json()["code"] == "invalid" and script.json()["detail"], url

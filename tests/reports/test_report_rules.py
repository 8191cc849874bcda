"""The rules behind the report's numbers, written down in README and tested here:
targets in force on a date (with a history), the gap to a target in its own column while
every linked number equals the length of its list, the 365-day boundary of evidence,
half-up rounding, and numbers in the reader's format."""

import csv
import datetime as dt
import html
import io
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from accounts.models import Role
from common.numbers import format_number, round_half_up, share
from reports import services
from reports.models import Target
from reports.periods import Period
from reports.selectors import progress_report, sites_behind
from reports.table import COLUMNS

pytestmark = [pytest.mark.django_db, pytest.mark.frozen("2026-03-15T10:00")]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
D = dt.date.fromisoformat
H1_2025 = Period(D("2025-01-01"), D("2025-06-30"), "half")
H2_2025 = Period(D("2025-07-01"), D("2025-12-31"), "half")


@pytest.fixture
def sites(demo_tree, make_site, inspect):
    """Ten sites in commune 99101: 7 signed, 4 fenced, 3 of them protected."""
    made = []
    for n in range(10):
        site = make_site(demo_tree["99101"], name=f"S{n}", active_from=D("2025-01-01"))
        inspect(
            site,
            "2025-03-01T09:00",
            "in_place" if n < 7 else "none",
            "complete" if n in (0, 1, 2, 9) else "partial",
        )
        made.append(site)
    return made


def test_a_target_applies_from_its_first_day_to_its_deadline(demo_tree, sites, superuser):
    province = demo_tree["99"]
    services.target_set(
        actor=superuser,
        area=province,
        indicator="signed",
        value=60,
        valid_from=D("2026-01-01"),
        deadline=D("2026-06-30"),
    )
    # "60 % by 30/06/2026" is not the target of 2025: the directive's 100 % is.
    assert progress_report(province, H2_2025).total.targets["signed"] == 100
    assert progress_report(province, Period(D("2026-01-01"), D("2026-06-30"), "half")).total.targets["signed"] == 60


def test_setting_a_new_target_keeps_the_old_one_for_past_reports(demo_tree, sites, superuser):
    province = demo_tree["99"]
    first = services.target_set(
        actor=superuser,
        area=province,
        indicator="protected",
        value=50,
        valid_from=D("2025-01-01"),
        deadline=D("2026-12-31"),
    )
    assert progress_report(province, H1_2025).total.targets["protected"] == 50
    second = services.target_set(
        actor=superuser, area=province, indicator="protected", value=80, deadline=D("2026-12-31")
    )
    first.refresh_from_db()
    assert (first.valid_from, first.valid_until) == (D("2025-01-01"), D("2026-03-14"))
    assert (second.valid_from, second.valid_until) == (D("2026-03-15"), D("2026-12-31"))
    assert progress_report(province, H1_2025).total.targets["protected"] == 50  # unchanged by the new target
    assert progress_report(province, Period(D("2026-01-01"), D("2026-06-30"), "half")).total.targets["protected"] == 80
    assert Target.objects.count() == 2  # the history


def test_targets_are_checked(demo_tree, superuser, make_user):
    province = demo_tree["99"]
    with pytest.raises(ValidationError, match="between 0 and 100"):
        services.target_set(actor=superuser, area=province, indicator="signed", value=120, deadline=D("2026-12-31"))
    with pytest.raises(ValidationError, match="before the day the target takes effect"):
        services.target_set(actor=superuser, area=province, indicator="signed", value=60, deadline=D("2026-01-01"))
    services.target_set(
        actor=superuser,
        area=province,
        indicator="signed",
        value=70,
        valid_from=D("2026-06-01"),
        deadline=D("2026-12-31"),
    )
    with pytest.raises(ValidationError, match=r"A target of 70\.0% is set from 01/06/2026"):
        services.target_set(actor=superuser, area=province, indicator="signed", value=60, deadline=D("2026-12-31"))
    later = Target.objects.get()
    services.target_remove(actor=superuser, target=later)  # not in force yet: it may go
    current = services.target_set(
        actor=superuser, area=province, indicator="signed", value=60, deadline=D("2026-12-31")
    )
    with pytest.raises(ValidationError, match="in force since 15/03/2026"):
        services.target_remove(actor=superuser, target=current)


def test_the_gap_to_a_target_is_its_own_column_and_every_list_matches_its_number(
    client, demo_tree, sites, make_user, superuser
):
    services.target_set(
        actor=superuser,
        area=demo_tree["99"],
        indicator="signed",
        value=60,
        valid_from=D("2025-01-01"),
        deadline=D("2026-12-31"),
    )
    client.force_login(make_user("tinh", demo_tree["99"], Role.AREA_MANAGER, is_staff=True))
    page = client.get(reverse("report"), {"kind": "half", "year": 2025, "half": 1, "area": "99"})
    assert page.status_code == 200
    total = progress_report(demo_tree["99"], H1_2025).total
    # 10 counting, 7 signed: 60 % needs 6, so no gap; 3 lack a sign and are listed.
    assert (total.counts["counting"], total.counts["signed"], total.gap("signed"), total.missing("signed")) == (
        10,
        7,
        0,
        3,
    )
    assert total.gap("protected") == 7 and total.gap("fenced") == 6
    checked = 0
    for href, number in re.findall(r'<a href="(/reports/sites/\?[^"]+)">([^<]+)</a>', page.text):
        listing = client.get(html.unescape(href))
        assert listing.status_code == 200
        assert len(listing.context["sites"]) == int(number.replace(".", "").replace(",", "")), href
        checked += 1
    assert checked == 4 * 8  # every linked count (8 columns): three child areas and the total


def test_a_check_covers_365_days_from_its_own_day(demo_tree, make_site, inspect):
    """README "Rules": the day of the check and the 364 after it; the same date a year
    later is already unverified (registry_unverified; tests/hazards/test_evidence.py holds
    the map, the lists and the APIs to it)."""
    commune = demo_tree["99101"]
    site = make_site(commune, name="A", active_from=D("2024-01-01"))
    inspect(site, "2024-06-30T23:30")

    def unverified(day: str) -> list[str]:
        return [s["name"] for s in sites_behind(commune, Period(D(day), D(day), "range"), "unverified")]

    assert unverified("2025-06-29") == []  # 365th day
    assert unverified("2025-06-30") == ["A"]  # the same date a year later
    # Across 29 February: a check of 29/02/2024 covers up to 27/02/2025.
    leap = make_site(commune, name="L", active_from=D("2024-01-01"))
    inspect(leap, "2024-02-29T09:00")
    assert "L" not in unverified("2025-02-27")
    assert "L" in unverified("2025-02-28")


def test_shares_are_rounded_half_up():
    assert share(1, 8) == Decimal("12.5")
    assert share(1, 16) == Decimal("6.3")  # 6.25: half to even would give 6.2
    assert share(1, 3) == Decimal("33.3") and share(2, 3) == Decimal("66.7")
    assert round_half_up(Decimal("0.05"), 1) == Decimal("0.1") and round_half_up(Decimal("-0.05"), 1) == Decimal("-0.1")
    assert share(0, 0) is None


def test_numbers_in_the_readers_format():
    with translation.override("vi"):
        assert format_number(1234567) == "1.234.567"
        assert format_number(Decimal("12.5"), 1) == "12,5"
        assert format_number(Decimal("2.5"), 1, sign=True) == "+2,5"
    with translation.override("en"):
        assert format_number(1234567) == "1,234,567"
        assert format_number(Decimal("12.5"), 1) == "12.5"


def test_the_page_shows_numbers_in_vietnamese(client, demo_tree, make_site, inspect, make_user):
    for n in range(16):
        site = make_site(demo_tree["99101"], name=f"S{n}", active_from=D("2025-01-01"))
        inspect(site, "2025-03-01T09:00", "in_place" if n == 0 else "none", "complete" if n == 0 else "none")
    client.force_login(make_user("tinh", demo_tree["99"], Role.AREA_MANAGER, is_staff=True))
    client.post(reverse("set_language"), {"language": "vi"})
    page = client.get(reverse("report"), {"kind": "half", "year": 2025, "half": 1, "area": "99101"})
    assert ">6,3<" in page.text  # 1 of 16 protected: 6,25 % rounded half up, decimal comma
    assert "100,0" in page.text  # the default target


def test_csv_and_xlsx_carry_typed_numbers(client, demo_tree, sites, make_user):
    client.force_login(make_user("tinh", demo_tree["99"], Role.AREA_MANAGER, is_staff=True))
    query = {"kind": "half", "year": 2025, "half": 1, "area": "99"}
    plain = client.get(reverse("report-file", args=["csv"]), query).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(plain)))
    rows = rows[: rows.index([])]  # the remediation orders follow, after a blank line
    head, total = rows[1], rows[-1]
    assert total[head.index("Sites counting")] == "10"
    assert total[head.index("Warning sign in place – %")] == "70.0"
    assert total[head.index("Protected (both) – Gap to target")] == "7"
    excel = client.get(reverse("report-file", args=["csv"]), {**query, "sep": "semicolon"}).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(excel), delimiter=";"))
    rows = rows[: rows.index([])]
    assert rows[-1][rows[1].index("Warning sign in place – %")] == "70,0"
    book = load_workbook(io.BytesIO(client.get(reverse("report-file", args=["xlsx"]), query).content))
    sheet = book.active
    last = sheet.max_row
    keys = [column.key for column in COLUMNS]
    counting = sheet.cell(row=last, column=3 + keys.index("counting"))
    assert counting.value == 10 and counting.number_format == "#,##0"
    assert sheet.cell(row=2, column=3 + keys.index("signed")).value == "Warning sign in place"
    signed_share = sheet.cell(row=last, column=3 + keys.index("signed_share"))
    assert signed_share.value == pytest.approx(0.7) and signed_share.number_format == "0.0%"
    assert sheet.cell(row=last, column=1).number_format == "@" and sheet.cell(row=last, column=1).value == "99"
    assert sheet.column_dimensions["B"].width >= 16


def test_a_number_shown_with_fewer_places_is_rounded_half_up_not_cut():
    """Django's number_format cuts off the digits it does not show: the report's chart wrote
    23 % for the 23,8 % of its table (walkthrough)."""
    with translation.override("vi"):
        assert format_number(Decimal("23.8"), 0) == "24"
        assert format_number(Decimal("12.25"), 1) == "12,3"
        assert format_number(Decimal("-0.05"), 1) == "-0,1"
        assert format_number(2.675, 2) == "2,68"  # as written, not as the float is stored
        assert format_number(Decimal("1234.5"), 0) == "1.235"


def test_the_trend_chart_names_its_periods_and_shows_the_table_s_share(
    client, demo_tree, make_site, inspect, make_user
):
    """The chart's axis said "1/2025", read as January, for the first half-year, and its
    points were cut to whole percents (walkthrough): each point is the share as the table
    writes it, under the period's short name."""
    for n in range(16):
        site = make_site(demo_tree["99101"], name=f"S{n}", active_from=D("2024-01-01"))
        inspect(site, "2024-03-01T09:00", "in_place" if n == 0 else "none", "complete" if n == 0 else "none")
    client.force_login(make_user("tinh", demo_tree["99"], Role.AREA_MANAGER, is_staff=True))
    query = {"kind": "half", "year": 2025, "half": 1, "area": "99101"}

    def chart(language: str) -> list[str]:
        page = client.get(reverse("report"), query, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        return [" ".join(t.text_content().split()) for t in lxml.html.fromstring(page).xpath("//svg//text")]

    assert chart("vi") == [
        "6,3%", "6 tháng đầu 2024", "6,3%", "6 tháng cuối 2024", "6,3%", "6 tháng đầu 2025"
    ]  # fmt: skip
    assert chart("en") == ["6.3%", "H1 2024", "6.3%", "H2 2024", "6.3%", "H1 2025"]

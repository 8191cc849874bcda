"""A period is named as Vietnamese reports name it, from its dates whatever chose them,
wherever a person reads it; a range with no name is given by its dates, once."""

import datetime as dt

import pytest
from django.utils import translation

from reports.periods import Period, half_year_containing, year

D = dt.date.fromisoformat


@pytest.mark.parametrize(
    ("start", "end", "vi", "en"),
    [
        ("2026-01-01", "2026-06-30", "6 tháng đầu năm 2026", "First half of 2026"),
        ("2025-07-01", "2025-12-31", "6 tháng cuối năm 2025", "Second half of 2025"),
        ("2025-01-01", "2025-12-31", "Năm 2025", "Year 2025"),
        ("2026-01-01", "2026-03-31", "Quý I năm 2026", "First quarter of 2026"),
        ("2026-04-01", "2026-06-30", "Quý II năm 2026", "Second quarter of 2026"),
        ("2025-07-01", "2025-09-30", "Quý III năm 2025", "Third quarter of 2025"),
        ("2025-10-01", "2025-12-31", "Quý IV năm 2025", "Fourth quarter of 2025"),
        # Not a year, half or quarter: its dates.
        ("2026-03-01", "2026-05-31", "01/03/2026 – 31/05/2026", "01/03/2026 – 31/05/2026"),
        ("2025-01-01", "2026-12-31", "01/01/2025 – 31/12/2026", "01/01/2025 – 31/12/2026"),
        ("2026-01-02", "2026-03-31", "02/01/2026 – 31/03/2026", "02/01/2026 – 31/03/2026"),
        ("2026-01-01", "2026-03-30", "01/01/2026 – 30/03/2026", "01/01/2026 – 30/03/2026"),
    ],
)
def test_a_range_is_named_by_its_dates(start, end, vi, en):
    period = Period(D(start), D(end), "range")
    with translation.override("vi"):
        assert period.label == vi
    with translation.override("en"):
        assert period.label == en
    assert period.named == (vi != period.dates)


def test_the_report_forms_periods_read_the_same_names():
    with translation.override("vi"):
        assert half_year_containing(D("2026-02-10")).label == "6 tháng đầu năm 2026"
        assert half_year_containing(D("2025-08-10")).label == "6 tháng cuối năm 2025"
        assert year(2025).label == "Năm 2025"


@pytest.mark.parametrize(
    ("period", "vi", "en"),
    [
        (half_year_containing(D("2026-02-10")), "6 tháng đầu 2026", "H1 2026"),
        (half_year_containing(D("2025-08-10")), "6 tháng cuối 2025", "H2 2025"),
        (year(2025), "Năm 2025", "Year 2025"),
        (Period(D("2026-01-01"), D("2026-03-31"), "range"), "Quý I/2026", "Q1 2026"),
        (Period(D("2025-10-01"), D("2025-12-31"), "range"), "Quý IV/2025", "Q4 2025"),
        (Period(D("2026-03-01"), D("2026-05-31"), "range"), "01/03/26–31/05/26", "01/03/26–31/05/26"),
    ],
)
def test_a_chart_names_a_period_shortly_and_never_like_a_month(period, vi, en):
    """A chart's axis said "1/2025" for the first half of 2025, which reads as January."""
    with translation.override("vi"):
        assert period.short_label == vi
    with translation.override("en"):
        assert period.short_label == en

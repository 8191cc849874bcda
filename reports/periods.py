"""Reporting periods: half-years, years and any date range, all inclusive of both ends."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from common.periods import period_dates, period_name, period_short_name


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    kind: str  # "half", "year" or "range"

    @property
    def label(self) -> str:
        """Its name in reports ("6 tháng đầu năm 2025"), or its dates if it has none."""
        return period_name(self.start, self.end) or self.dates

    @property
    def named(self) -> bool:
        """Whether the label names the period rather than giving its dates."""
        return period_name(self.start, self.end) is not None

    @property
    def dates(self) -> str:
        return period_dates(self.start, self.end)

    @property
    def short_label(self) -> str:
        """For a chart's axis: "6 tháng đầu 2025", "Năm 2025", "Quý I/2026", else its dates
        ("01/03/25–31/05/25")."""
        return period_short_name(self.start, self.end) or f"{self.start:%d/%m/%y}–{self.end:%d/%m/%y}"

    def previous(self) -> "Period":
        if self.kind == "half":
            return half_year_containing(self.start - dt.timedelta(days=1))
        if self.kind == "year":
            return year(self.start.year - 1)
        length = self.end - self.start
        end = self.start - dt.timedelta(days=1)
        return Period(end - length, end, "range")

    @property
    def is_current(self) -> bool:
        """Ends today or later: its numbers are the registry's current state."""
        return self.end >= timezone.localdate()

    @property
    def as_of(self) -> dt.date:
        """The day whose end the numbers describe: the period's end, or today if later."""
        return min(self.end, timezone.localdate())


def half_year_containing(day: dt.date) -> Period:
    if day.month <= 6:
        return Period(dt.date(day.year, 1, 1), dt.date(day.year, 6, 30), "half")
    return Period(dt.date(day.year, 7, 1), dt.date(day.year, 12, 31), "half")


def year(number: int) -> Period:
    return Period(dt.date(number, 1, 1), dt.date(number, 12, 31), "year")


def last_complete_half_year(today: dt.date | None = None) -> Period:
    today = today or timezone.localdate()
    return half_year_containing(half_year_containing(today).start - dt.timedelta(days=1))

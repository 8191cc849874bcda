"""How a period is named to a person: as Vietnamese reports name it when its dates are a
year, a half-year or a quarter ("Năm 2025", "6 tháng đầu năm 2025", "Quý I năm 2026"),
otherwise by its dates. Every page, list, e-mail and document that shows a reporting
period names it here (reports' Period.label, the orders a report's number lists), and a
chart's axis by the short name (period_short_name)."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

# By the period's first and last month within one year: its name, and its name short
# enough for a chart's axis ("6 tháng đầu 2025", "Quý I/2026"; "1/2025" for a half-year
# read as January 2025). A year keeps its name ("Năm 2025").
YEAR = _("Year %(year)d")
NAMES = {
    (1, 12): (YEAR, YEAR),
    (1, 6): (_("First half of %(year)d"), _("H1 %(year)d")),
    (7, 12): (_("Second half of %(year)d"), _("H2 %(year)d")),
    (1, 3): (_("First quarter of %(year)d"), _("Q1 %(year)d")),
    (4, 6): (_("Second quarter of %(year)d"), _("Q2 %(year)d")),
    (7, 9): (_("Third quarter of %(year)d"), _("Q3 %(year)d")),
    (10, 12): (_("Fourth quarter of %(year)d"), _("Q4 %(year)d")),
}


def period_dates(start: dt.date, end: dt.date) -> str:
    return f"{start:%d/%m/%Y} – {end:%d/%m/%Y}"


def period_name(start: dt.date, end: dt.date) -> str | None:
    """The period's name, from its dates whatever chose them (a range from 1 January to
    30 June is the first half), or None when it has none."""
    return _named(start, end, short=False)


def period_short_name(start: dt.date, end: dt.date) -> str | None:
    """The period's name on a chart's axis, or None when it has none."""
    return _named(start, end, short=True)


def _named(start: dt.date, end: dt.date, *, short: bool) -> str | None:
    months = (start.month, end.month)
    following = end + dt.timedelta(days=1)
    if start.day == 1 and following.day == 1 and start.year == end.year and months in NAMES:
        return str(NAMES[months][1 if short else 0]) % {"year": start.year}
    return None

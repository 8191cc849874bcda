"""The query parameters of /ogc/ items, read strictly: a value that cannot be what the API
description says is a 400 naming the parameter, never a guess and never a server error."""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from common.numbers import format_number

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000

# RFC 3339 date or date-time; an offset-less time is read as the registry's local time.
INSTANT = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[Tt ](?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?P<fraction>\.\d{1,9})?"
    r"(?P<offset>[Zz]|[+-]\d{2}:\d{2})?)?"
)
EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)


def limit(value: str | None) -> int:
    """The page size: DEFAULT_LIMIT when absent, MAX_LIMIT when more is asked."""
    if value in (None, ""):
        return DEFAULT_LIMIT
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        message = _("limit must be a whole number from 1 (at most %(max)s are sent).") % {
            "max": format_number(MAX_LIMIT)
        }
        raise ValidationError({"limit": message})
    return min(int(value), MAX_LIMIT)


def _bad_datetime():
    return ValidationError(
        {
            "datetime": _(
                "datetime must be an RFC 3339 date (2026-06-01) or date-time (2026-06-01T08:00:00+07:00) "
                "that exists, or an interval start/end with .. for an open end."
            )
        }
    )


def _instant(text: str, end: bool) -> dt.datetime | None:
    """A bound of the interval as an aware UTC time: a date-time, or a whole day (its start,
    or the next day's start as an end, in local time). None: open. Dates beyond what can be
    stored (year 0000, as QGIS writes for "no lower bound") are the earliest or latest time."""
    if text in ("", ".."):
        return None
    match = INSTANT.fullmatch(text)
    if match is None:
        raise _bad_datetime()
    parts = {name: int(match[name] or 0) for name in ("year", "month", "day", "hour", "minute", "second")}
    if parts["year"] == 0:
        # Year 0000 exists in RFC 3339 (1 BC) but not in Python: before anything stored.
        if not 1 <= parts["month"] <= 12 or not 1 <= parts["day"] <= 31:
            raise _bad_datetime()
        return EARLIEST
    try:
        moment = dt.datetime(
            parts["year"],
            parts["month"],
            parts["day"],
            parts["hour"],
            parts["minute"],
            min(parts["second"], 59),  # a leap second is the second before it
            int(((match["fraction"] or ".0")[1:] + "000000")[:6]),
        )
    except ValueError:  # 2026-02-30, 25:61
        raise _bad_datetime() from None
    if match["hour"] is None:  # a whole day
        if end:
            if moment.date() == dt.date.max:
                return LATEST
            moment += dt.timedelta(days=1)
        zone = timezone.get_current_timezone()
    elif match["offset"] is None:
        zone = timezone.get_current_timezone()
    elif match["offset"] in ("Z", "z"):
        zone = dt.UTC
    else:
        sign = -1 if match["offset"][0] == "-" else 1
        hours, minutes = int(match["offset"][1:3]), int(match["offset"][4:6])
        if hours > 23 or minutes > 59:
            raise _bad_datetime()
        zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    try:
        return moment.replace(tzinfo=zone).astimezone(dt.UTC)
    except OverflowError:  # within a day of the ends of the calendar
        return EARLIEST if moment.year == 1 else LATEST


def datetime_lookups(value: str, field: str) -> dict:
    """The filter the datetime parameter stands for: an instant, a day, or an interval."""
    if not value:
        return {}
    if "/" in value:
        start_text, _slash, end_text = value.partition("/")
        start, end = _instant(start_text, end=False), _instant(end_text, end=True)
        if start and end and start > end:
            raise ValidationError({"datetime": _("The start of the interval is after its end.")})
        lookups = {}
        if start:
            lookups[f"{field}__gte"] = start
        if end:
            lookups[f"{field}__lt" if "T" not in end_text.upper() else f"{field}__lte"] = end
        return lookups
    if value == "..":
        raise _bad_datetime()
    start = _instant(value, end=False)
    if "T" in value.upper():
        return {field: start}
    return {f"{field}__gte": start, f"{field}__lt": _instant(value, end=True)}

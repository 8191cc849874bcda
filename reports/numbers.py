"""Numbers as Vietnamese reports write them: shares rounded half up (12,25 % → 12,3 %;
Python's round() and "%.1f" round half to even), thousands grouped with "." and decimals
after "," in Vietnamese (1.234,5), with "," and "." in English (1,234.5) by
common.numbers.format_number. Formatting follows the active language, so pages and
documents in Vietnamese read alike."""

import math
from decimal import Decimal
from fractions import Fraction

from common.numbers import format_number


def round_half_up(value: Fraction | Decimal | int, places: int = 1) -> Decimal:
    """`value` rounded to `places` decimals, halves away from zero, computed exactly."""
    exact = Fraction(value)
    magnitude = math.floor(abs(exact) * 10**places + Fraction(1, 2))
    return Decimal(magnitude if exact >= 0 else -magnitude).scaleb(-places)


def share(part: int, whole: int, places: int = 1) -> Decimal | None:
    """`part` as a percentage of `whole`, rounded half up; None when `whole` is 0."""
    if not whole:
        return None
    return round_half_up(Fraction(100 * part, whole), places)


def points(now: Fraction | None, before: Fraction | None, places: int = 1) -> Decimal | None:
    """The change between two exact shares in percentage points, rounded half up."""
    if now is None or before is None:
        return None
    return round_half_up(now - before, places)


def exact_share(part: int, whole: int) -> Fraction | None:
    return Fraction(100 * part, whole) if whole else None


def format_share(value: Decimal | None, places: int = 1) -> str:
    """A percentage without its sign (table cells under a "%" heading); "" for None."""
    return format_number(value, places)


def format_percent(value: Decimal | None, places: int = 1) -> str:
    """A percentage with its sign: "12,5%" in Vietnamese, "12.5%" in English."""
    return "" if value is None else f"{format_number(value, places)}%"

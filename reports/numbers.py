"""The reports' own numbers beside common.numbers (which rounds a share half up and
writes numbers in the reader's format: 1.234,5 in Vietnamese, 1,234.5 in English): the
change between two shares, exact shares, and shares written as a report's cells and
sentences show them. Formatting follows the active language, so pages and documents in
Vietnamese read alike."""

from decimal import Decimal
from fractions import Fraction

from common.numbers import format_number, round_half_up


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

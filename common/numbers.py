"""Numbers in the reader's format: thousands grouped with "." and decimals after "," in
Vietnamese (1.234,5; config/formats/vi), with "," and "." in English (1,234.5). Every
page, file, document, command's output and API message that shows a count formats it
here; a measure a person types (a depth, an accuracy) is read here. And the one rounding
of a share, half up as Vietnamese reports write them (12,25 % → 12,3 %; Python's round()
and "%.1f" round half to even), for the reports and every other page that shows one (the
campaign board)."""

import math
import re
from decimal import Decimal
from fractions import Fraction

from django.utils.formats import number_format
from django.utils.functional import lazy

# Digits with at most one decimal separator, either one, whatever the language: Vietnamese
# writes 2,5 and English 2.5, and "2,5" must never be read as 25. No grouping: a measure in
# metres never needs it, and "1.000" would be ambiguous (the survey app's numbers.js reads
# the same way).
TYPED_DECIMAL = re.compile(r"\+?(?:\d+(?:[.,]\d+)?|[.,]\d+)")


def format_number(value: int | float | Decimal | None, places: int = 0, *, sign: bool = False) -> str:
    """A number in the active language's format, thousands grouped, rounded half up to
    `places` decimals; "" for None. (Django's number_format cuts off the digits it does not
    show: a chart wrote 23 % for a table's 23,8 %.)"""
    if value is None:
        return ""
    shown = round_half_up(value, places)
    text = number_format(shown, decimal_pos=places, use_l10n=True, force_grouping=True)
    return f"+{text}" if sign and shown > 0 else text


# format_number when the text is read, for a message made once at import (a serializer's
# refusals) and read in the language of each request.
format_number_lazy = lazy(format_number, str)


def typed_decimal(text: str) -> Decimal:
    """The measure a person typed ("2,5", "2.5", " 2 "); ValueError when it is no such number."""
    typed = "".join(str(text).split())
    if not TYPED_DECIMAL.fullmatch(typed):
        raise ValueError(text)
    return Decimal(typed.replace(",", "."))


def round_half_up(value: Fraction | Decimal | int | float, places: int = 1) -> Decimal:
    """`value` rounded to `places` decimals, halves away from zero, computed exactly; a float
    as written (2.675 to 2.68), not as the binary fraction stored (2.67499…)."""
    exact = Fraction(Decimal(repr(value))) if isinstance(value, float) else Fraction(value)
    magnitude = math.floor(abs(exact) * 10**places + Fraction(1, 2))
    return Decimal(magnitude if exact >= 0 else -magnitude).scaleb(-places)


def share(part: int, whole: int, places: int = 1) -> Decimal | None:
    """`part` as a percentage of `whole`, rounded half up; None when `whole` is 0."""
    if not whole:
        return None
    return round_half_up(Fraction(100 * part, whole), places)

"""Numbers in the reader's format: thousands grouped with "." and decimals after "," in
Vietnamese (1.234,5; config/formats/vi), with "," and "." in English (1,234.5). Every
page, file and document that shows a count formats it here."""

from decimal import Decimal

from django.utils.formats import number_format


def format_number(value: int | float | Decimal | None, places: int = 0, *, sign: bool = False) -> str:
    """A number in the active language's format, thousands grouped; "" for None."""
    if value is None:
        return ""
    text = number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)
    return f"+{text}" if sign and value > 0 else text

"""`{% followup_cells row area=… follow_up=… %}`: a follow-up table row's counts, each a
link to its list (?area=…&follow_up=…&order=<list>), written here in one call a row: four
template cells a row through the template loop were a large share of the follow-up
page's rendering (bench/NOTES.md)."""

from urllib.parse import urlencode

from django import template
from django.utils.safestring import mark_safe

from common.numbers import format_number

register = template.Library()


@register.simple_tag
def followup_cells(row, **params) -> str:
    """The row's cells; `params` with no value (no area chosen) are left out."""
    given = urlencode({name: value for name, value in params.items() if value})
    query = f"{given}&" if given else ""
    # Nothing here is markup: urlencode leaves letters, digits and "%+-._~=&" (the "&"
    # as the page's other links write it), the lists are FOLLOW_UP_LISTS' names and the
    # counts digits and separators.
    return mark_safe(  # noqa: S308
        "".join(f'<td><a href="?{query}order={key}">{format_number(n)}</a></td>' for key, n in row.cells)
    )

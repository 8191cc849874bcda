"""`{{ count|number }}`: a count in the reader's format (common.numbers), since Django's
own localisation groups no thousands unless every number on every page does;
`{{ share|number:1 }}` with one decimal; `{{ counts|percent_checked }}`: a campaign board
row's progress (order_selectors.percent_checked)."""

from decimal import Decimal

from django import template

from common.numbers import format_number
from hazards.order_selectors import percent_checked as board_percent_checked

register = template.Library()


@register.filter
def number(value, places: int = 0) -> str:
    return format_number(value, places)


@register.filter
def percent_checked(counts: dict) -> Decimal | None:
    return board_percent_checked(counts)

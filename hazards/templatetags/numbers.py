"""`{{ count|number }}`: a count in the reader's format (common.numbers), since Django's
own localisation groups no thousands unless every number on every page does."""

from django import template

from common.numbers import format_number

register = template.Library()


@register.filter
def number(value) -> str:
    return format_number(value)

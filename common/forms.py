"""Forms showing a service's refusal, and the fields of measures people type."""

from django import forms
from django.core.exceptions import ValidationError

from .numbers import typed_decimal


def add_refusal(form, exc: ValidationError) -> None:
    """`exc`, raised by a service, shown on `form`: messages about a field the form has
    under that field, the others (about a field it does not show, or about none) above
    the form. Django's add_error refuses a field the form lacks with a ValueError (500)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class _TypedMeasure:
    """A measure typed as people write it, "2,5" or "2.5" (common.numbers.typed_decimal),
    shown in the interface's language ("2,5" in Vietnamese)."""

    def __init__(self, **kwargs):
        super().__init__(localize=True, **kwargs)

    def to_python(self, value):
        if isinstance(value, str) and value.strip():
            try:
                value = str(typed_decimal(value))
            except ValueError:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return super().to_python(value)


class DecimalMeasureField(_TypedMeasure, forms.DecimalField):
    pass


class FloatMeasureField(_TypedMeasure, forms.FloatField):
    pass

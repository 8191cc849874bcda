"""Forms showing a service's refusal."""

from django.core.exceptions import ValidationError


def add_refusal(form, exc: ValidationError) -> None:
    """`exc`, raised by a service, shown on `form`: messages about a field the form has
    under that field, the others (about a field it does not show, or about none) above
    the form. Django's add_error refuses a field the form lacks with a ValueError (500)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)

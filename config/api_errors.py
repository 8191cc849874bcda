"""Every API error is JSON a person can act on: Django validation errors become 400 with
the messages per field, records outside the user's scope become a plain 404."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.scope import OutOfScope


def exception_handler(exc, context):
    if isinstance(exc, ValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(
            {"code": "invalid", "detail": _("The request was refused."), "errors": errors},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, OutOfScope):
        exc = Http404()
    return drf_exception_handler(exc, context)

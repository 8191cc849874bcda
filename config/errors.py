"""Errors in the one shape of common/errors.py: the REST and sync APIs' (DRF's exception
handler), and what Django answers itself when no view does (no such address, a refusal
before the view, a crash): JSON at the addresses programs read, the project's error
pages everywhere else."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.scope import OutOfScope
from common.errors import NON_FIELD, error_body, error_response, field_errors, sentence

# Where programs read JSON: the APIs, the tiles, OGC API Features, the map's data.
JSON_PREFIXES = ("/api/", "/tiles/", "/ogc/")
JSON_SUFFIXES = (".json", ".pbf")


def wants_json(request) -> bool:
    path = request.path
    return path.startswith(JSON_PREFIXES) or path.endswith(JSON_SUFFIXES)


def api_exception_handler(exc, context):
    """DRF's answer to an exception, in the one shape. A record outside the user's areas
    is not found; Django's validation errors are refusals like DRF's own."""
    if isinstance(exc, OutOfScope | Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, ValidationError):
        exc = exceptions.ValidationError(field_errors(exc))
    response = drf_exception_handler(exc, context)
    if response is None:  # not DRF's to answer: Django's 500 below
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {NON_FIELD: response.data}
        response.data = error_body("invalid", sentence(errors), errors)
    else:
        code = exc.get_codes()
        response.data = error_body(code if isinstance(code, str) else "error", exc.detail)
    return response


def _answer(request, status_code: int, code: str, detail: str):
    if wants_json(request):
        return error_response(status_code, code, detail)
    return render(request, "error.html", {"detail": detail}, status=status_code)


def _bare_answer(request, status_code: int, code: str, detail: str):
    """After a crash: the page without the site's frame (no user, no database)."""
    if wants_json(request):
        return error_response(status_code, code, detail)
    return HttpResponse(loader.get_template("500.html").render({"detail": detail}), status=status_code)


def bad_request(request, exception=None):
    return _answer(request, status.HTTP_400_BAD_REQUEST, "bad_request", _("The request could not be understood."))


def permission_denied(request, exception=None):
    detail = _("You may not open this. Ask your manager if you need it.")
    return _answer(request, status.HTTP_403_FORBIDDEN, "permission_denied", detail)


def page_not_found(request, exception=None):
    detail = _("There is nothing at this address, or it lies outside your areas.")
    return _answer(request, status.HTTP_404_NOT_FOUND, "not_found", detail)


def server_error(request):
    detail = _("Something went wrong on the server. It has been recorded; try again in a few minutes.")
    return _bare_answer(request, status.HTTP_500_INTERNAL_SERVER_ERROR, "server_error", detail)

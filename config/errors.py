"""Errors in the one shape of common/errors.py: the REST and sync APIs' (DRF's exception
handler), and what Django answers itself when no view does (no such address, a refusal
before the view, a crash): JSON at the addresses programs read, the project's error
pages everywhere else."""

import sys

from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.scope import OutOfScope
from common.errors import NON_FIELD, NOT_AUTHENTICATED, error_body, error_response, field_errors, sentence
from mapping.ogc.views import ogc_error

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
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.data = error_body(NOT_AUTHENTICATED, exc.detail)
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


def csrf_failure(request, reason=""):
    """A form or a request sent without the page's CSRF token (an old page, cookies
    blocked, a script): what to do, in the person's language, instead of Django's page."""
    detail = _("This page was open too long or your browser refused its cookie: load the page again and repeat.")
    return _answer(request, status.HTTP_403_FORBIDDEN, "csrf_failed", detail)


# Seconds a client is asked to wait when the database does not answer (a restart takes a few).
DATABASE_RETRY_AFTER_S = 15


def server_error(request):
    """Django's answer to a crash. A database that does not answer (restarting, its
    connection lost, a statement cancelled) is not a fault of the request: 503 with
    Retry-After, which tablets and GIS clients retry, instead of 500."""
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        detail = _("The registry's database is not answering just now. Try again in a minute.")
        response = _bare_answer(request, status.HTTP_503_SERVICE_UNAVAILABLE, "unavailable", detail)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
        return response
    detail = _("Something went wrong on the server. It has been recorded; try again in a few minutes.")
    return _bare_answer(request, status.HTTP_500_INTERNAL_SERVER_ERROR, "server_error", detail)


class BadInputMiddleware:
    """A ValidationError no view caught is the client's bad input (a malformed id in an
    address, a value a lookup cannot take), never the server's fault: 400 with its
    message, not 500. A method the view does not take, which Django refuses with an empty
    405, is answered with the methods it does take."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == status.HTTP_405_METHOD_NOT_ALLOWED and not response.content:
            allowed = response.get("Allow", "")
            detail = _("This address does not take %(method)s; it takes %(allowed)s.") % {
                "method": request.method,
                "allowed": allowed,
            }
            response = _answer(request, status.HTTP_405_METHOD_NOT_ALLOWED, "method_not_allowed", detail)
            response["Allow"] = allowed
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, ValidationError):
            return _answer(request, status.HTTP_400_BAD_REQUEST, "bad_request", " ".join(exception.messages))
        return None


class RefuseRepeatedParametersMiddleware:
    """At the addresses programs read (wants_json), a query parameter given more than once
    answers 400 naming it: each of their parameters takes one value, and which one the
    caller meant is not for the registry to guess (the last was taken, silently). Before
    the tiles' shortcut (mapping/middleware.py), so that the map's tiles are refused too;
    in the request's own language, the language middleware not having run."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        repeated = [name for name, values in request.GET.lists() if len(values) > 1]
        if repeated and wants_json(request):
            with translation.override(translation.get_language_from_request(request)):
                errors = {name: [_("Give %(name)s once, with one value.") % {"name": name}] for name in repeated}
                if request.path_info.startswith("/ogc/"):  # OGC clients read the standard's description
                    return ogc_error(status.HTTP_400_BAD_REQUEST, "invalid", sentence(errors), errors)
                return error_response(status.HTTP_400_BAD_REQUEST, "invalid", sentence(errors), errors)
        return self.get_response(request)


class RefuseNulMiddleware:
    """A NUL character in the path or a query parameter answers 400 before any view runs.
    PostgreSQL cannot hold NUL in text, so no lookup could use it, and every filter,
    form and admin page would otherwise turn it into a server error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info or any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            # Before the session and language middleware: the page without the site's
            # frame, in the request's own language as the language middleware would choose.
            with translation.override(translation.get_language_from_request(request)):
                detail = _("The address holds a NUL character, which no page of the registry accepts.")
                if request.path_info.startswith("/ogc/"):  # OGC clients read the standard's description
                    return ogc_error(status.HTTP_400_BAD_REQUEST, "invalid", detail)
                return _bare_answer(request, status.HTTP_400_BAD_REQUEST, "bad_request", detail)
        return self.get_response(request)

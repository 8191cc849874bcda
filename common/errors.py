"""One shape for every error the registry answers in JSON: the REST and sync APIs, the
planner map's data, the tiles and OGC API Features (which adds the standard's
`description`, the same text):

    {"code": "<what went wrong, for programs>",
     "detail": "<what went wrong and what to do, for a person>",
     "errors": {"<field or parameter>": ["<message>", ...]}}

`errors` only when fields or parameters were refused. Pages answer the same cases with
the error pages in templates/ (error.html; 500.html without the site's frame), and any
address under the APIs that Django itself answers (no such path, a crash) gets this
shape too (config/errors.py)."""

import functools

from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework import serializers

NON_FIELD = "non_field_errors"
# Every "not signed in" answer (401), whether no credentials came or they were refused (a
# wrong, revoked or deactivated token): DRF's NotAuthenticated and AuthenticationFailed
# both. A client does the same for either, signs in again; the detail says how.
NOT_AUTHENTICATED = "not_authenticated"


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD: exc.messages}


def messages(errors) -> list[str]:
    """Every message in DRF's or Django's errors, nested or not, in order."""
    if isinstance(errors, dict):
        return [message for value in errors.values() for message in messages(value)]
    if isinstance(errors, list | tuple):
        return [message for value in errors for message in messages(value)]
    return [str(errors)]


def sentence(errors: dict) -> str:
    """The messages as one text, each group after the name of what it is about."""
    parts = []
    for name, value in errors.items():
        text = " ".join(messages(value))
        parts.append(text if name == NON_FIELD else f"{name}: {text}")
    return " ".join(parts)


def error_body(code: str, detail, errors: dict | None = None, **extra) -> dict:
    body = {"code": code, "detail": str(detail)}
    if errors:
        body["errors"] = errors
    return {**body, **extra}


def error_response(status: int, code: str, detail, errors: dict | None = None, **extra) -> JsonResponse:
    return JsonResponse(
        error_body(code, detail, errors, **extra), status=status, json_dumps_params={"ensure_ascii": False}
    )


def refused(exc: ValidationError, code: str = "invalid", **extra) -> JsonResponse:
    """400: what in the request was refused, per field and as one text."""
    errors = field_errors(exc)
    return error_response(400, code, sentence(errors), errors, **extra)


def wants_page(request) -> bool:
    """A browser asks for an HTML page; a script for anything else."""
    return "text/html" in request.headers.get("Accept", "")


def answer(request, status: int, code: str, detail) -> HttpResponse:
    """An error at an address that both pages and scripts ask: the error page to a
    browser, the one shape to a script."""
    if wants_page(request):
        return render(request, "error.html", {"detail": detail}, status=status)
    return error_response(status, code, detail)


def refused_for(request, exc: ValidationError) -> HttpResponse:
    """400 for what in the request was refused: the error page saying it to a browser,
    refused() to a script."""
    if wants_page(request):
        return render(request, "error.html", {"detail": " ".join(exc.messages)}, status=400)
    return refused(exc)


def data_login_required(view):
    """For the JSON data of pages (the map's, the report's suggestions): 401 in the shape
    to nobody signed in, instead of a redirect a program follows to the sign-in form, and
    a ValidationError the view raises is a 400 refusal."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return error_response(401, NOT_AUTHENTICATED, _("Sign in first."))
        try:
            return view(request, *args, **kwargs)
        except ValidationError as exc:
            return refused(exc)

    return wrapped


class ApiError(serializers.Serializer):
    """The shape in the OpenAPI schema (the component ApiError), for clients generated from it."""

    code = serializers.CharField(help_text="What went wrong, for programs: invalid, not_found, not_authenticated, …")
    detail = serializers.CharField(help_text="What went wrong and what to do, for a person, in their language.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Only when fields or parameters were refused: the messages of each.",
    )


def error_responses(*statuses: int) -> dict:
    """`responses` of extend_schema for the error statuses an operation answers."""
    return dict.fromkeys(statuses, ApiError)

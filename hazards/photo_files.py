"""Photos and their thumbnails leave the server only through this view, which asks the
area scope first (selectors.photos_of_file): a file is served to whoever may see one of
the inspections it belongs to (a session, or a tablet's device token), and answers 404
to everyone else, anonymous included, as any record out of scope does.

In production the application never reads the file: nginx sends it after this check
(private_files.py)."""

from django.http import Http404
from django.views.decorators.http import require_safe
from rest_framework import exceptions

from accounts.tokens import signed_in_user

from . import selectors
from .private_files import private_file

CONTENT_TYPE = "image/jpeg"  # hazards/photos.py stores every photo and thumbnail as JPEG


@require_safe
def evidence_file(request, name: str):
    try:
        user = signed_in_user(request)
    except (exceptions.NotAuthenticated, exceptions.AuthenticationFailed):
        raise Http404 from None  # as for anyone who may not see it: nothing says it exists
    if not selectors.photos_of_file(user, name).exists():
        raise Http404
    return private_file(name, CONTENT_TYPE)

"""Photos and their thumbnails leave the server only through this view, which asks the
area scope first: a file is served to whoever may see one of the inspections it belongs
to (a session, or a tablet's device token), and answers 404 to everyone else, anonymous
included, as any record out of scope does.

In production the application never reads the file: nginx sends it after this check
(private_files.py)."""

from django.db.models import Q
from django.http import Http404
from django.views.decorators.http import require_safe
from rest_framework import exceptions

from accounts.scope import ADMINISTER, VIEW, scope_for
from accounts.tokens import signed_in_user

from .models import Photo
from .private_files import private_file

CONTENT_TYPE = "image/jpeg"  # hazards/photos.py stores every photo and thumbnail as JPEG


def may_see(user, name: str) -> bool:
    """Whether `user` may see the stored file `name`: one of its photos belongs to a live
    inspection they may view, or to any inspection where they administer (deleted
    records stay visible to the administrators who may restore them)."""
    scope = scope_for(user)
    named = Q(image=name) | Q(thumbnail=name)
    live = Photo.objects.filter(named, inspection__deleted_at__isnull=True, inspection__site__deleted_at__isnull=True)
    return scope.restrict(live, VIEW).exists() or scope.restrict(Photo.objects.filter(named), ADMINISTER).exists()


@require_safe
def evidence_file(request, name: str):
    try:
        user = signed_in_user(request)
    except (exceptions.NotAuthenticated, exceptions.AuthenticationFailed):
        raise Http404 from None  # as for anyone who may not see it: nothing says it exists
    if not may_see(user, name):
        raise Http404
    return private_file(name, CONTENT_TYPE)

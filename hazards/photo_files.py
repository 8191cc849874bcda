"""Photos and their thumbnails leave the server only through this view, which asks the
area scope first: a file is served to whoever may see one of the inspections it belongs
to (a session, or a tablet's device token), and answers 404 to everyone else, anonymous
included, as any record out of scope does.

In production the application never reads the file: it answers with an
`X-Accel-Redirect` to MEDIA_ACCEL_REDIRECT_PREFIX, an nginx location marked `internal`
(config/nginx.conf) that a client cannot ask for itself. Without the setting (development,
tests, a server without nginx) the file is sent from here."""

from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_safe
from rest_framework import exceptions

from accounts.scope import ADMINISTER, VIEW, scope_for
from accounts.tokens import signed_in_user

from .models import Photo

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
    prefix = settings.MEDIA_ACCEL_REDIRECT_PREFIX
    if prefix:
        response = HttpResponse(content_type=CONTENT_TYPE)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(name)
    else:
        path = Path(settings.MEDIA_ROOT) / name
        if not path.is_file():
            raise Http404
        response = FileResponse(open(path, "rb"), content_type=CONTENT_TYPE)  # noqa: SIM115 - the response closes it
    # What a file holds depends on who asks: never kept by a shared cache.
    patch_cache_control(response, private=True, max_age=3600)
    patch_vary_headers(response, ["Cookie", "Authorization"])
    return response

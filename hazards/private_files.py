"""Files under MEDIA_ROOT that only some people may fetch, sent once the caller has checked
who asks: by nginx (X-Accel-Redirect to MEDIA_ACCEL_REDIRECT_PREFIX, an `internal` location
no client can ask for itself, config/nginx.conf), or without that setting (development,
tests, a server without nginx) by the application."""

from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers


def private_file(name: str, content_type: str, download_as: str | None = None) -> HttpResponse:
    """The response that sends MEDIA_ROOT/`name`, for a caller already allowed to have it."""
    prefix = settings.MEDIA_ACCEL_REDIRECT_PREFIX
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(name)
    else:
        path = Path(settings.MEDIA_ROOT) / name
        if not path.is_file():
            raise Http404
        response = FileResponse(open(path, "rb"), content_type=content_type)  # noqa: SIM115 - the response closes it
    if download_as:
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(download_as)}"
    # What a file holds depends on who asks: never kept by a shared cache.
    patch_cache_control(response, private=True, max_age=3600)
    patch_vary_headers(response, ["Cookie", "Authorization"])
    return response

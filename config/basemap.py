"""The one background map of the project (settings.BASEMAP): templates hand it to the
map scripts as JSON, and the Content Security Policy allows its origin."""

from urllib.parse import urlsplit

from django.conf import settings


def basemap_origin() -> str:
    parts = urlsplit(settings.BASEMAP["url"].replace("{s}", "a"))
    host = parts.netloc
    # Leaflet's {s} subdomains (a.tile..., b.tile...) share one wildcard source.
    if "{s}" in settings.BASEMAP["url"]:
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"


def basemap(request):
    """Template context: `{{ basemap|json_script:"basemap" }}` for static/common/basemap.js,
    and the origin the survey's service worker serves stored tiles for."""
    return {"basemap": settings.BASEMAP, "basemap_origin": basemap_origin()}

"""The one background map of the project (settings.BASEMAP): templates hand it to the
map scripts as JSON, and the Content Security Policy allows its origin."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.switches import OFF, ON

# OpenStreetMap's own tile servers (tile.openstreetmap.org, its old a/b/c subdomains,
# tile.osm.org): their tile usage policy forbids downloading tiles to view later
# (https://operations.osmfoundation.org/policies/tiles/).
NO_OFFLINE_DOMAINS = ("openstreetmap.org", "osm.org")


def basemap_offline(url: str, setting: str | None) -> bool:
    """Whether tablets may store the basemap's tiles ("offline map of my communes"), from
    BASEMAP_OFFLINE: only when the operator turns it on, having read the tile server's
    terms (the registry cannot know them: many public servers forbid storing, commercial
    ones allow it by contract), and never against OpenStreetMap's known policy."""
    host = urlsplit(url.replace("{s}", "a")).hostname or ""
    forbidden = any(host == domain or host.endswith("." + domain) for domain in NO_OFFLINE_DOMAINS)
    value = (setting or "").strip().lower()
    if not value:
        return False
    if value not in ON | OFF:
        raise ImproperlyConfigured(f"BASEMAP_OFFLINE={setting!r}: write on or off.")
    if value in ON and forbidden:
        raise ImproperlyConfigured(
            "BASEMAP_OFFLINE is on, but BASEMAP_URL is OpenStreetMap's tile server, whose tile policy "
            "forbids downloading tiles for offline use: name your own or a commercial tile server in BASEMAP_URL."
        )
    return value in ON


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

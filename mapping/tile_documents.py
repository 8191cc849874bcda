"""What a GIS client needs besides the tiles to show the sites: a TileJSON describing the
tile layers, and a Mapbox GL style drawing them in the planner map's colours, which
MapLibre and QGIS (3.22 included) both load. Neither holds registry data (only addresses,
layer and field names, colours), so they are served without sign-in; the tiles they point
to ask for it."""

import functools
import re
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from hazards.filters import STATES

from .tiles import MAX_GRID_ZOOM

# The one home of the maps' colours: the palette their scripts import.
PALETTE = Path(settings.BASE_DIR) / "static" / "common" / "palette.js"
FILTERS = ("area", "kind", "signage", "barrier", "state", "due")
DETAIL_ZOOM = 14  # site tiles hold every site from here; clients zoom further into them (overzoom)
SITE_FIELDS = {"id": "String", "code": "String", "name": "String", "kind": "String", "deep": "Boolean"}


@functools.cache
def palette() -> tuple[dict[str, str], str]:
    """(colour of each state, colour of the due ring), as static/common/palette.js sets them."""
    text = PALETTE.read_text()
    block = re.search(r"STATE_COLOURS\s*=\s*\{(?P<pairs>[^}]*)\}", text)
    ring = re.search(r'DUE_RING\s*=\s*"(?P<colour>#[0-9a-fA-F]{6})"', text)
    colours = dict(re.findall(r'(\w+):\s*"(#[0-9a-fA-F]{6})"', block["pairs"])) if block else {}
    if set(colours) != set(STATES) or ring is None:
        raise RuntimeError(f"{PALETTE} no longer sets STATE_COLOURS for {', '.join(STATES)} and DUE_RING")
    return colours, ring["colour"]


def _filters(request) -> str:
    """The site filters of the request, kept in the addresses a document gives."""
    chosen = [(name, request.GET[name]) for name in FILTERS if request.GET.get(name)]
    return f"?{urlencode(chosen)}" if chosen else ""


def _tilejson_url(request) -> str:
    return request.build_absolute_uri(reverse("site-tilejson")) + _filters(request)


def tilejson(request) -> dict:
    tiles = request.build_absolute_uri(reverse("site-tile", args=[0, 0, 0])).replace("0/0/0.pbf", "{z}/{x}/{y}.pbf")
    west, south, east, north = settings.COUNTRY_BOUNDS
    counts = {state: "Number" for state in STATES}
    return {
        "tilejson": "3.0.0",
        "name": _("Places with deep water"),
        "description": _(
            "Sites coloured by state. Up to zoom %(zoom)d, clusters: one feature per grid cell with its "
            "site count (n) and the count in each state; above it, one feature per site."
        )
        % {"zoom": MAX_GRID_ZOOM},
        "scheme": "xyz",
        "tiles": [tiles + _filters(request)],
        "minzoom": 0,
        "maxzoom": DETAIL_ZOOM,
        "bounds": [west, south, east, north],
        "center": [round((west + east) / 2, 4), round((south + north) / 2, 4), 5],
        "vector_layers": [
            {
                "id": "clusters",
                "description": _("Sites counted per grid cell: n in all, and per state."),
                "minzoom": 0,
                "maxzoom": MAX_GRID_ZOOM,
                "fields": {"n": "Number", **counts},
            },
            {
                "id": "sites",
                "description": _(
                    "One feature per site, its id the same in every tile (60 bits of a hash of the site's id)."
                ),
                "minzoom": MAX_GRID_ZOOM + 1,
                "maxzoom": DETAIL_ZOOM,
                "fields": {**SITE_FIELDS, "state": "String", "due": "Boolean"},
            },
        ],
    }


def _circle(layer_id: str, source_layer: str, zooms: dict, condition: list, paint: dict) -> dict:
    return {"id": layer_id, "type": "circle", "source": "registry", "source-layer": source_layer, **zooms,
            "filter": condition, "paint": paint}  # fmt: skip


def style(request) -> dict:
    """Circles only, with legacy filters and zoom stops: what QGIS 3.22's style converter
    reads without a warning, and MapLibre too. A cluster takes the colour of the worst state
    among its sites; a site its state's, ringed when due for inspection."""
    colours, ring = palette()
    clusters = {"maxzoom": MAX_GRID_ZOOM + 1}
    sites = {"minzoom": MAX_GRID_ZOOM + 1}
    layers = []
    worse: list[str] = []
    for state in STATES:  # from the worst (unprotected) to closed
        condition = ["all", *[["!has", w] for w in worse], ["has", state]]
        paint = {
            "circle-color": colours[state],
            "circle-radius": {"stops": [[0, 4], [MAX_GRID_ZOOM, 10]]},
            "circle-stroke-color": "#ffffff",
            "circle-stroke-width": 1,
        }
        layers.append(_circle(f"clusters-{state}", "clusters", clusters, condition, paint))
        worse.append(state)
    due = {"circle-color": "rgba(0,0,0,0)", "circle-radius": 8, "circle-stroke-color": ring, "circle-stroke-width": 2}
    layers.append(_circle("sites-due", "sites", sites, ["==", "due", True], due))
    for state in STATES:
        paint = {"circle-color": colours[state], "circle-radius": 5, "circle-stroke-color": "#ffffff",
                 "circle-stroke-width": 1}  # fmt: skip
        layers.append(_circle(f"sites-{state}", "sites", sites, ["==", "state", state], paint))
    west, south, east, north = settings.COUNTRY_BOUNDS
    return {
        "version": 8,
        "name": _("Places with deep water"),
        "center": [round((west + east) / 2, 4), round((south + north) / 2, 4)],
        "zoom": 5,
        "sources": {"registry": {"type": "vector", "url": _tilejson_url(request)}},
        "layers": layers,
    }

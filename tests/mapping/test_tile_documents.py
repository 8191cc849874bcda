"""The TileJSON and the style a GIS client (QGIS, MapLibre) loads to show the sites'
vector tiles: public (they hold no registry data), pointing at the tiles with the filters
asked for, in the maps' own palette."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from hazards.filters import STATE_LABELS
from mapping.tiles import MAX_GRID_ZOOM

pytestmark = pytest.mark.django_db


def test_tilejson_describes_both_layers_and_keeps_the_filters(client):
    response = client.get(reverse("site-tilejson"), {"kind": "pond", "state": "unprotected", "page": "2"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    tilejson = response.json()
    assert tilejson["tilejson"] == "3.0.0" and tilejson["scheme"] == "xyz"
    # The filters the tiles take are kept in the address, anything else is not.
    assert tilejson["tiles"] == ["http://testserver/tiles/sites/{z}/{x}/{y}.pbf?kind=pond&state=unprotected"]
    layers = {layer["id"]: layer for layer in tilejson["vector_layers"]}
    assert layers["clusters"]["maxzoom"] == MAX_GRID_ZOOM and layers["sites"]["minzoom"] == MAX_GRID_ZOOM + 1
    assert set(STATE_LABELS) <= set(layers["clusters"]["fields"])
    assert {"id", "code", "name", "kind", "state", "due"} <= set(layers["sites"]["fields"])
    assert tilejson["bounds"] == list(settings.COUNTRY_BOUNDS)


def test_the_style_draws_each_state_in_the_maps_palette(client):
    style = client.get(reverse("site-tile-style"), {"area": "991"}).json()
    assert style["version"] == 8
    assert style["sources"]["registry"] == {"type": "vector", "url": "http://testserver/tiles/sites.json?area=991"}
    palette = (Path(settings.BASE_DIR) / "static" / "common" / "palette.js").read_text()
    by_id = {layer["id"]: layer for layer in style["layers"]}
    for state in STATE_LABELS:
        colour = re.search(rf'\b{state}: "(#[0-9a-f]{{6}})"', palette)[1]
        assert by_id[f"sites-{state}"]["paint"]["circle-color"] == colour
        assert by_id[f"sites-{state}"]["filter"] == ["==", "state", state]
        assert by_id[f"clusters-{state}"]["paint"]["circle-color"] == colour
    # A cluster takes the colour of the worst state among its sites: "protected" only
    # when it holds no unprotected, signed-only or fenced-only site.
    assert by_id["clusters-protected"]["filter"] == [
        "all",
        ["!has", "unprotected"],
        ["!has", "signed_only"],
        ["!has", "fenced_only"],
        ["has", "protected"],
    ]
    assert by_id["sites-due"]["filter"] == ["==", "due", True]


def test_documents_need_no_sign_in_and_other_sites_may_read_them(client):
    """They hold addresses, names and colours only; the tiles they point to ask for a
    sign-in. A web map on another site may fetch them (no cookies)."""
    response = client.get(reverse("site-tile-style"), headers={"Origin": "https://maps.example.org"})
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    assert client.head(reverse("site-tilejson")).status_code == 200
    assert client.post(reverse("site-tilejson")).status_code == 405
    assert client.get(reverse("site-tile", args=[14, 13000, 7276])).status_code == 401

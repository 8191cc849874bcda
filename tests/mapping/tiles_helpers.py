"""Reading vector tiles the way a map client does: tile numbers for a point, and the
decoded layers of a /tiles/sites/ response."""

import math

import mapbox_vector_tile
from django.urls import reverse


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def fetch_tile(client, z: int, x: int, y: int, **filters) -> dict:
    response = client.get(reverse("site-tile", args=[z, x, y]), filters)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.content)


def features(tile: dict, layer: str) -> list[dict]:
    return tile.get(layer, {}).get("features", [])


def site_codes(tile: dict) -> set[str]:
    return {f["properties"]["code"] for f in features(tile, "sites")}


def cluster_total(tile: dict) -> int:
    return sum(f["properties"]["n"] for f in features(tile, "clusters"))

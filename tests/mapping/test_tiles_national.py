"""At national scale (a million sites over the 34 real provinces) every low-zoom tile
stays small: a cell grid of at most 64 clusters, whose counts add up to every site."""

import pytest
from django.conf import settings
from django.db import connection

from areas.loader import load_boundaries
from bench.generate import SITES
from mapping import tiles
from tests.conftest import BOUNDARIES
from tests.mapping.tiles_helpers import features, fetch_tile, tile_of

pytestmark = pytest.mark.django_db
MILLION = 1_000_000
FEATURE_CAP = 2 ** (2 * tiles.CELL_LEVELS_BELOW)  # one feature per grid cell at most


@pytest.fixture
def million_sites(db):
    load_boundaries([BOUNDARIES / "vn_provinces_34_post2025_gisvn_simplified.geojson"])
    with connection.cursor() as cursor:
        # The benchmark generator's sites, without per-row triggers; the pyramid is rebuilt after.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(SITES, {"scale": MILLION})
        cursor.execute("SET session_replication_role = origin")
        cursor.execute("SELECT mapping_rebuild_cells()")
        cursor.execute("ANALYZE hazards_site")
        cursor.execute("SELECT count(*) FROM hazards_site")
        count = cursor.fetchone()[0]
    assert count >= MILLION * 0.99
    return count


def test_low_zoom_tiles_stay_under_the_feature_cap(client, superuser, million_sites):
    client.force_login(superuser)
    for z in range(0, 7):
        west, south, east, north = settings.COUNTRY_BOUNDS  # islands included
        _, x0, y0 = tile_of(west, north, z)
        _, x1, y1 = tile_of(east, south, z)
        total = 0
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                clusters = features(fetch_tile(client, z, x, y), "clusters")
                assert len(clusters) <= FEATURE_CAP, (z, x, y, len(clusters))
                total += sum(c["properties"]["n"] for c in clusters)
        assert total == million_sites, z

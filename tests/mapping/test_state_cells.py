"""The map grid by state (mapping.SiteStateCell), which tiles of zoom 0 to 8 read unless
a kind, signage or barrier filter asks for the whole grid: after every kind of write its
counts equal the sites counted directly, as the map's lists count them, and a tile made
from it shows a user the counts of their own provinces only."""

import datetime as dt
import io
import json
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import Role
from areas.loader import load_boundaries
from areas.models import Area
from hazards import lifecycle, selectors, services
from mapping import tiles
from mapping.models import SiteStateCell
from tests.conftest import communes_covering, inside
from tests.mapping.tiles_helpers import cluster_total, features, fetch_tile, tile_of

pytestmark = pytest.mark.django_db

# A second province east of the demo's (Tỉnh Sông Xanh, 99), in the same tiles up to zoom 7.
SQUARE = [[[106.2, 21.9], [106.5, 21.9], [106.5, 22.2], [106.2, 22.2], [106.2, 21.9]]]
# The levels the grid by state keeps: those of the tiles of zoom 0 to STATE_GRID_MAX_ZOOM.
LEVELS = range(tiles.CELL_LEVELS_BELOW, tiles.STATE_GRID_MAX_ZOOM + tiles.CELL_LEVELS_BELOW + 1)


@pytest.fixture
def areas(demo_tree, tmp_path):
    path = tmp_path / "province_98.geojson"
    feature = {
        "type": "Feature",
        "properties": {"ma_tinh": "98", "ten_tinh": "Tỉnh Đồi Đỏ"},
        "geometry": {"type": "Polygon", "coordinates": SQUARE},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    load_boundaries([path])
    return {**demo_tree, "98": Area.objects.get(code="98")}


def request_for(user, **params):
    request = RequestFactory().get("/", params)
    request.user = user
    return request


def listed(user) -> Counter:
    """The user's sites by province and state, as the map's lists count them."""
    rows = selectors.filtered_sites(user, request_for(user)).values_list("area__path", "state")
    return Counter((path.split("/")[1], state) for path, state in rows)


def by_state(level: int) -> Counter:
    rows = SiteStateCell.objects.filter(level=level).values("area__code", "state").annotate(total=Sum("n"))
    return Counter({(row["area__code"], row["state"]): row["total"] for row in rows})


def assert_grid_counts_the_sites(superuser):
    expected = listed(superuser)
    for level in LEVELS:
        assert by_state(level) == expected, level
    assert not SiteStateCell.objects.exclude(level__in=LEVELS).exists()
    assert not SiteStateCell.objects.filter(n__lte=0).exists()  # emptied cells are deleted


def test_counts_follow_every_write_as_the_lists_count(areas, superuser, make_site, inspect, tmp_path):
    sites = [
        make_site(areas[code], kind=kind, location=inside(areas[code]))
        for code, kind in [("99101", "pond"), ("99102", "well"), ("99201", "dam"), ("99301", "pit"), ("98", "lake")]
    ]
    sites.append(make_site(areas["98"], kind="canal"))
    assert_grid_counts_the_sites(superuser)
    assert listed(superuser) == Counter({("99", "unprotected"): 4, ("98", "unprotected"): 2})

    # Inspections move sites between states, an older one changes nothing.
    now = timezone.now()
    inspect(sites[0], now - dt.timedelta(days=2), "in_place", "complete")
    inspect(sites[1], now - dt.timedelta(days=2), "in_place", "none")
    inspect(sites[4], now - dt.timedelta(days=2), "damaged", "complete")
    inspect(sites[0], now - dt.timedelta(days=30), "none", "none")
    assert_grid_counts_the_sites(superuser)
    assert listed(superuser)[("99", "protected")] == 1

    # Closures, a reopening, a deletion and a restoration.
    lifecycle.site_close(actor=superuser, site=sites[2], reason="filled_in")
    lifecycle.site_close(actor=superuser, site=sites[3], reason="works_finished")
    sites[3].refresh_from_db()
    lifecycle.site_reopen(actor=superuser, site=sites[3])
    services.site_delete(actor=superuser, site=sites[5])
    assert_grid_counts_the_sites(superuser)
    assert listed(superuser)[("99", "closed")] == 1 and listed(superuser)[("98", "unprotected")] == 0
    sites[5].refresh_from_db()
    services.site_restore(actor=superuser, site=sites[5])
    assert_grid_counts_the_sites(superuser)

    # A site moved into the other province takes its counts with it.
    services.site_update(actor=superuser, site=sites[1], location=inside(areas["98"]))
    sites[1].refresh_from_db()
    assert sites[1].area.code == "98"
    assert_grid_counts_the_sites(superuser)
    assert listed(superuser)[("98", "signed_only")] == 1

    # A corrected commune file re-assigns a site to another commune.
    moved = sites[2]
    corrected = tmp_path / "communes.geojson"
    corrected.write_text(json.dumps(communes_covering("99101", moved.location)))
    load_boundaries([corrected])
    moved.refresh_from_db()
    assert moved.area.code == "99101"
    assert_grid_counts_the_sites(superuser)
    assert call_command("verify_derived", "--check", stdout=io.StringIO()) is None


def test_a_province_viewer_sees_only_its_provinces_counts(client, areas, superuser, make_user, make_site, inspect):
    ours = make_site(areas["98"], kind="lake")
    inspect(ours, timezone.now() - dt.timedelta(days=1), "in_place", "complete")
    make_site(areas["98"], kind="pond", location=ours.location)
    theirs = make_site(areas["99101"], kind="pond")
    viewer = make_user("tinh98", areas["98"], Role.VIEWER)
    client.force_login(viewer)
    for z in range(0, 11):
        tile = tile_of(ours.location.x, ours.location.y, z)
        clusters = features(fetch_tile(client, *tile), "clusters")
        assert sum(c["properties"]["n"] for c in clusters) == 2, z
        assert sum(c["properties"].get("protected", 0) for c in clusters) == 1, z
        # The tile comes from the grid by state (from the whole grid at zooms 9 and 10),
        # and equals the sites counted one by one.
        request = request_for(viewer)
        assert tiles.grid_answers(request)
        assert tiles.grid_for(request, z)[0] is (SiteStateCell if z <= 8 else tiles.SiteCell)
        assert tiles.cluster_tile_from_grid(request, *tile) == tiles.cluster_tile_from_sites(request, *tile)
    shared = tile_of(theirs.location.x, theirs.location.y, 5)
    assert shared == tile_of(ours.location.x, ours.location.y, 5)
    client.force_login(superuser)
    assert cluster_total(fetch_tile(client, *shared)) == 3
    assert cluster_total(fetch_tile(client, *shared, area="99")) == 1


def test_filters_read_the_grid_that_carries_them(client, areas, superuser, make_site, inspect):
    """Up to zoom 8 a state or area filter is answered by the grid by state; kind,
    signage and barrier by the whole grid; both give the tile the sites give."""
    for code, kind in [("99101", "pond"), ("99201", "well"), ("98", "pond")]:
        site = make_site(areas[code], kind=kind)
        inspect(site, timezone.now() - dt.timedelta(days=1), "in_place", "none")
    make_site(areas["99301"], kind="pond")
    z, x, y = tile_of(inside(areas["98"]).x, inside(areas["98"]).y, 5)
    for params, model, total in [
        ({}, SiteStateCell, 4),
        ({"state": "signed_only"}, SiteStateCell, 3),
        ({"state": "signed_only", "area": "99"}, SiteStateCell, 2),
        ({"kind": "pond"}, tiles.SiteCell, 3),
        ({"kind": "pond", "state": "unprotected"}, tiles.SiteCell, 1),
        ({"signage": "in_place"}, tiles.SiteCell, 3),
        ({"barrier": "none", "area": "98"}, tiles.SiteCell, 1),
    ]:
        request = request_for(superuser, **params)
        assert tiles.grid_for(request, z)[0] is model, params
        assert tiles.cluster_tile_from_grid(request, z, x, y) == tiles.cluster_tile_from_sites(request, z, x, y)
        client.force_login(superuser)
        assert cluster_total(fetch_tile(client, z, x, y, **params)) == total, params


def test_verify_derived_finds_and_repairs_the_grid_by_state(areas, superuser, make_site):
    for code in ("99101", "99201", "98"):
        make_site(areas[code])
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mapping_sitestatecell SET n = n + 1 WHERE id = (SELECT min(id) FROM mapping_sitestatecell)"
        )
        cursor.execute("DELETE FROM mapping_sitestatecell WHERE id = (SELECT max(id) FROM mapping_sitestatecell)")
    with pytest.raises(CommandError):
        call_command("verify_derived", "--check", stdout=io.StringIO())
    out = io.StringIO()
    call_command("verify_derived", stdout=out)
    assert "Map grid: 2 rows repaired." in out.getvalue().splitlines()
    assert_grid_counts_the_sites(superuser)

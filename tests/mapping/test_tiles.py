"""Vector tiles of the sites: single sites with their attributes above zoom 10, clusters
with counts per state below, both following filters, the area scope and every change."""

import base64
import datetime as dt
import threading

import mapbox_vector_tile
import pytest
from django.db import connection, connections
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.tokens import token_issue
from hazards import current_state, lifecycle, services
from mapping import tiles
from mapping.models import SiteCell
from tests.conftest import inside
from tests.mapping.tiles_helpers import cluster_total, features, fetch_tile, site_codes, tile_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def sites(demo_tree, make_site, inspect):
    """Four sites in commune 99101 in different states and one in another district."""
    commune = demo_tree["99101"]
    base = inside(commune)
    made = {}
    for i, (kind, signage, barrier) in enumerate(
        [
            ("pond", "in_place", "complete"),
            ("well", "in_place", "none"),
            ("pit", "none", "complete"),
            ("dam", "none", "none"),
        ]
    ):
        location = base.clone()
        location.x += i * 0.0004
        site = make_site(commune, kind=kind, name=f"Điểm {kind}", location=location)
        inspect(site, timezone.now() - dt.timedelta(days=3), signage, barrier)
        made[kind] = site
    made["other"] = make_site(demo_tree["99201"], name="Ao huyện khác")
    return made


def at(site, z):
    return tile_of(site.location.x, site.location.y, z)


def test_site_tile_carries_each_site_with_its_attributes(client, superuser, sites):
    client.force_login(superuser)
    tile = fetch_tile(client, *at(sites["pond"], 14))
    by_code = {f["properties"]["code"]: f for f in features(tile, "sites")}
    pond = by_code[sites["pond"].code]["properties"]
    assert pond == {
        "id": str(sites["pond"].pk),
        "code": sites["pond"].code,
        "name": "Điểm pond",
        "kind": "pond",
        "deep": True,
        "state": "protected",
        "due": False,
    }
    states = {by_code[sites[k].code]["properties"]["state"] for k in ("well", "pit", "dam")}
    assert states == {"signed_only", "fenced_only", "unprotected"}
    x, y = by_code[sites["pond"].code]["geometry"]["coordinates"]
    assert 0 <= x <= 4096 and 0 <= y <= 4096


def test_filters_change_what_tiles_carry(client, superuser, sites):
    client.force_login(superuser)
    where = at(sites["pond"], 14)
    assert site_codes(fetch_tile(client, *where, kind="pit")) == {sites["pit"].code}
    assert site_codes(fetch_tile(client, *where, signage="in_place")) == {sites["pond"].code, sites["well"].code}
    assert site_codes(fetch_tile(client, *where, barrier="none")) == {sites["well"].code, sites["dam"].code}
    assert site_codes(fetch_tile(client, *where, state="unprotected")) == {sites["dam"].code}
    assert site_codes(fetch_tile(client, *where, due="true")) == set()
    low = at(sites["pond"], 6)
    assert cluster_total(fetch_tile(client, *low, state="protected")) == 1
    assert cluster_total(fetch_tile(client, *low, kind="well")) == 1
    assert cluster_total(fetch_tile(client, *low, area="99101")) == 4


def test_due_filter_counts_overdue_sites_at_every_zoom(client, superuser, sites, inspect):
    old = timezone.now() - dt.timedelta(days=400)
    services.site_update(actor=superuser, site=sites["dam"], name="Đập cũ")
    sites["dam"].inspections.update(inspected_at=old, observed_at=old)
    current_state.refresh_current_state([sites["dam"].pk])
    client.force_login(superuser)
    assert site_codes(fetch_tile(client, *at(sites["dam"], 14), due="true")) == {sites["dam"].code}
    low = fetch_tile(client, *at(sites["dam"], 7), due="true")
    # The "other" site was never inspected: it is due too.
    assert cluster_total(low) == 2
    assert cluster_total(fetch_tile(client, *at(sites["dam"], 7), due="false")) == 3


def test_cluster_tile_counts_each_state(client, superuser, sites):
    client.force_login(superuser)
    tile = fetch_tile(client, *at(sites["pond"], 5))
    clusters = features(tile, "clusters")
    assert sum(c["properties"]["n"] for c in clusters) == 5
    totals = {s: sum(c["properties"].get(s, 0) for c in clusters) for s in ("protected", "signed_only", "fenced_only")}
    assert totals == {"protected": 1, "signed_only": 1, "fenced_only": 1}
    assert sum(c["properties"].get("unprotected", 0) for c in clusters) == 2


def test_clusters_from_the_pyramid_equal_clusters_counted_from_sites(superuser, sites):
    request = RequestFactory().get("/")
    request.user = superuser
    for z in (3, 6, 9, 10):
        z, x, y = at(sites["pond"], z)
        assert tiles.cluster_tile_from_grid(request, z, x, y) == tiles.cluster_tile_from_sites(request, z, x, y)


def pyramid() -> list[tuple]:
    return sorted(
        SiteCell.objects.values_list("level", "cx", "cy", "area_id", "kind", "signage", "barrier", "closed", "n")
    )


def test_pyramid_follows_every_change_as_a_rebuild_would(superuser, sites, inspect, demo_tree):
    inspect(sites["dam"], timezone.now(), "in_place", "complete")
    lifecycle.site_close(actor=superuser, site=sites["well"], closed_at=timezone.localdate(), reason="filled_in")
    moved = inside(demo_tree["99301"])
    services.site_update(actor=superuser, site=sites["pit"], location=moved)
    services.site_delete(actor=superuser, site=sites["other"])
    kept = pyramid()
    with connection.cursor() as cursor:
        cursor.execute("SELECT mapping_rebuild_cells()")
    assert pyramid() == kept
    assert sum(n for *_, n in kept if _[0] == 3) == 4  # level 3: the four live sites once each
    closed = [row for row in kept if row[0] == 13 and row[7]]
    assert len(closed) == 1 and closed[0][4] == "well"


def test_tiles_hold_only_the_users_areas(client, make_user, sites, demo_tree):
    client.force_login(make_user("huyen1", demo_tree["991"], Role.AREA_MANAGER))
    other = sites["other"]
    assert site_codes(fetch_tile(client, *at(other, 14))) == set()
    assert other.code in {sites["pond"].code, other.code}
    for z in range(0, 11):
        # Exactly the district's own sites that lie in the other site's tile.
        ours = sum(at(site, z) == at(other, z) for key, site in sites.items() if key != "other")
        assert cluster_total(fetch_tile(client, *at(other, z))) == ours, z
        assert cluster_total(fetch_tile(client, *at(other, z), due="true")) == 0
    # Asking for the other district by name is refused as a code no area has.
    for z, code in ((6, "992"), (14, "99201")):
        asked = client.get(reverse("site-tile", args=at(other, z)), {"area": code})
        assert asked.status_code == 400 and list(asked.json()["errors"]) == ["area"]


def test_tiles_of_the_easternmost_column_count_their_sites(client, make_user, sites, demo_tree):
    """At zooms 1 and 2 Vietnam lies in the tiles that end at the antimeridian, whose
    buffered box once wrapped round to the Americas: a district's clusters, counted from
    its sites, came back empty."""
    client.force_login(make_user("huyen1", demo_tree["991"], Role.AREA_MANAGER))
    for z in (1, 2):
        tile = at(sites["pond"], z)
        assert tile[1] == 2**z - 1
        assert cluster_total(fetch_tile(client, *tile)) == 4
        assert cluster_total(fetch_tile(client, *tile, due="false")) == 4


@pytest.mark.parametrize(
    ("z", "x", "y"),
    [
        (0, 0, 0),
        (1, 1, 0),
        (1, 0, 1),
        (2, 3, 1),
        (2, 0, 3),
        (8, 203, 112),
        (14, 13113, 7597),
        (14, 16383, 0),
        (22, 0, 4194303),
    ],
)
def test_the_tile_box_is_the_buffered_envelope_in_degrees(z, x, y):
    """The location index is asked with the box computed from the tile numbers: it is the
    buffered tile envelope transformed to degrees, cut at the world's edges (tiles at the
    antimeridian, the poles' rows, the finest zoom)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT ST_XMin(a), ST_YMin(a), ST_XMax(a), ST_YMax(a), ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
            FROM (SELECT %s::int AS z, %s::int AS x, %s::int AS y) t,
                 {tiles.TILE_BOX} AS a,
                 ST_Transform(ST_Intersection(ST_TileEnvelope(z, x, y, margin => {tiles.BUFFER / tiles.EXTENT}),
                                              ST_TileEnvelope(0, 0, 0)), 4326) AS b""",  # noqa: S608 (fixed SQL)
            [z, x, y],
        )
        row = cursor.fetchone()
    assert row[:4] == pytest.approx(row[4:], abs=1e-9)


def test_a_site_in_the_buffer_reaches_the_tile_and_one_beyond_does_not(client, superuser, demo_tree, make_site):
    """A pond just past a tile's edge is drawn in the tile's buffer (its symbol is not cut
    at the edge); one past the buffer belongs to the next tile only."""
    client.force_login(superuser)
    commune = demo_tree["99101"]
    here = inside(commune)
    z, x, y = tile_of(here.x, here.y, 14)
    east_edge = (x + 1) / 2**z * 360 - 180  # the tile's eastern meridian
    tile_degrees = 360 / 2**z
    within, beyond = here.clone(), here.clone()
    within.x = east_edge + tile_degrees * tiles.BUFFER / tiles.EXTENT / 2
    beyond.x = east_edge + tile_degrees * tiles.BUFFER / tiles.EXTENT * 2
    near = make_site(commune, name="Ao sát mép", location=within)
    far = make_site(commune, name="Ao xa mép", location=beyond)
    codes = site_codes(fetch_tile(client, z, x, y))
    assert near.code in codes and far.code not in codes
    assert {near.code, far.code} <= site_codes(fetch_tile(client, z, x + 1, y))


def test_tile_requests_that_cannot_be_served(client, superuser, sites):
    assert client.get("/tiles/sites/5/25/14.pbf").status_code == 401
    client.force_login(superuser)
    assert client.get("/tiles/sites/5/32/14.pbf").status_code == 404
    assert client.get("/tiles/sites/23/0/0.pbf").status_code == 404
    bad = client.get("/tiles/sites/14/13000/7000.pbf", {"kind": "volcano"})
    assert bad.status_code == 400 and "kind" in bad.json()["detail"]


def test_each_thread_prepares_tile_queries_on_its_own_connection(superuser, sites):
    """A web server's threads each hold a database connection; a tile query prepared on
    one does not exist on another (the live server's threads once failed on this)."""
    request = RequestFactory().get("/")
    request.user = superuser
    z, x, y = at(sites["pond"], 14)
    assert sites["pond"].code in site_codes(mapbox_vector_tile.decode(tiles.tile(request, z, x, y)))
    answers = []

    def other_thread():
        try:
            answers.append(tiles.tile(request, z, x, y))  # its connection sees none of this test's sites
        except Exception as exc:  # reported by the assertion below
            answers.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert answers == [b""]


@pytest.mark.django_db(transaction=True)
def test_tiles_survive_a_new_database_connection(client, superuser, sites):
    client.force_login(superuser)
    z, x, y = at(sites["pond"], 14)
    assert sites["pond"].code in site_codes(fetch_tile(client, z, x, y))
    connection.close()  # the server's connection ends (CONN_MAX_AGE); its prepared statements with it
    assert sites["pond"].code in site_codes(fetch_tile(client, z, x, y))


def test_features_carry_ids(client, superuser, sites):
    """MVT ids are what QGIS tells features apart by: a site's is its own (60 bits of a
    hash of its id) in every tile, a cluster's its cell's number at the tile's level."""
    client.force_login(superuser)
    shown = [site for key, site in sites.items() if key != "other"]
    ids = {}
    for z in (14, 15, 16):
        for key, site in sites.items():
            if key != "other":
                ids.update(
                    {(f["id"], f["properties"]["id"]) for f in features(fetch_tile(client, *at(site, z)), "sites")}
                )
    site_of = dict(ids)
    assert len(site_of) == len(ids) == len(shown)  # one id a site, whatever the tile
    assert set(site_of.values()) == {str(site.pk) for site in shown}
    assert all(0 <= fid < 2**60 for fid in site_of)
    z, x, y = at(sites["pond"], 8)
    clusters = features(fetch_tile(client, z, x, y), "clusters")
    level = z + 3
    cell_x, cell_y = (int(v) for v in tile_of(sites["pond"].location.x, sites["pond"].location.y, level)[1:])
    ids = [c["id"] for c in clusters]
    assert cell_y * 2**level + cell_x in ids and len(set(ids)) == len(ids) == 2


def test_gis_clients_get_tiles_with_a_device_token(client, make_user, sites, demo_tree, superuser):
    """QGIS sends Basic (user name and device token), a web map Bearer: both receive the
    tiles of the token holder's areas; a request without either is asked for Basic."""
    worker = make_user("lan", demo_tree["99101"], Role.AREA_MANAGER)
    _token, key = token_issue(actor=superuser, user=worker, name="qgis")
    url = reverse("site-tile", args=at(sites["pond"], 14))
    plain = base64.b64encode(f"lan:{key}".encode()).decode()
    for header in (f"Basic {plain}", f"Bearer {key}"):
        response = client.get(url, headers={"Authorization": header})
        assert response.status_code == 200
        assert sites["pond"].code in site_codes(mapbox_vector_tile.decode(response.content))
    other = reverse("site-tile", args=at(sites["other"], 14))
    assert (
        site_codes(mapbox_vector_tile.decode(client.get(other, headers={"Authorization": f"Bearer {key}"}).content))
        == set()
    )
    refused = client.get(url)
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Basic realm=")
    assert client.get(url, headers={"Authorization": "Bearer revoked-or-wrong"}).status_code == 401
    assert client.head(url, headers={"Authorization": f"Bearer {key}"}).status_code == 200

"""The map asks for tiles with the page's signed token instead of the session: the same
tiles, within the same scope, without looking up session or user, and refused once the
token is altered or has expired."""

import re

import mapbox_vector_tile
import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role, User, username_key
from mapping import tile_tokens
from tests.conftest import inside
from tests.mapping.tiles_helpers import site_codes, tile_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_districts(demo_tree, make_site):
    mine = make_site(demo_tree["99101"], name="Ao xã mình", location=inside(demo_tree["99101"]))
    theirs = make_site(demo_tree["99201"], name="Ao huyện khác", location=inside(demo_tree["99201"]))
    return mine, theirs


def page_token(client) -> str:
    """The token the map page hands its script."""
    page = client.get(reverse("map")).content.decode()
    return re.search(r'data-tile-token="([^"]+)"', page).group(1)


def tile_with(token: str, site, z: int = 14, **extra):
    """A tile asked as the map asks: the token, no session cookie."""
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    return browser.get(
        reverse("site-tile", args=tile_of(site.location.x, site.location.y, z)),
        HTTP_AUTHORIZATION=f"Tile {token}",
        **extra,
    )


def test_the_map_pages_token_opens_the_same_tiles_as_the_session(client, superuser, two_districts):
    mine, _theirs = two_districts
    client.force_login(superuser)
    token = page_token(client)
    by_token = tile_with(token, mine)
    assert by_token.status_code == 200
    assert by_token["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert "Authorization" in by_token["Vary"] and by_token["Cache-Control"] == "private, max-age=30"
    # Without it the server closes the connection after each tile (no keep-alive).
    assert by_token["Content-Length"] == str(len(by_token.content))
    by_session = client.get(reverse("site-tile", args=tile_of(mine.location.x, mine.location.y, 14)))
    assert mine.code in site_codes(mapbox_vector_tile.decode(by_token.content))
    assert by_token.content == by_session.content


def test_a_tile_asked_with_the_token_looks_up_neither_session_nor_user(client, superuser, two_districts):
    client.force_login(superuser)
    token = page_token(client)
    tile_with(token, two_districts[0])  # the first one prepares the query
    with CaptureQueriesContext(connection) as queries:
        tile = tile_with(token, two_districts[0])
    # The one query is the tile's own: it holds the site.
    assert tile.status_code == 200 and len(queries) == 1
    assert two_districts[0].code in site_codes(mapbox_vector_tile.decode(tile.content))


def test_a_district_managers_token_holds_only_their_district(client, make_user, demo_tree, two_districts):
    mine, theirs = two_districts
    client.force_login(make_user("huyen", demo_tree["991"], Role.AREA_MANAGER))
    token = page_token(client)
    assert site_codes(mapbox_vector_tile.decode(tile_with(token, mine).content)) == {mine.code}
    assert site_codes(mapbox_vector_tile.decode(tile_with(token, theirs).content)) == set()
    # Asked for by name, their commune is refused as a code no area has.
    asked_by_name = tile_with(token, theirs, data={"area": "99201"})
    assert asked_by_name.status_code == 400 and list(asked_by_name.json()["errors"]) == ["area"]


def test_an_altered_or_expired_token_is_refused(client, superuser, two_districts, monkeypatch):
    client.force_login(superuser)
    token = page_token(client)
    payload, stamp, signature = token.rsplit(":", 2)
    forged = signing.dumps({"u": "x", "e": True, "g": []}, salt=tile_tokens.SALT, key="not the site's secret")
    for bad in (f"{payload}:{stamp}:{signature[::-1]}", forged, "nonsense"):
        refused = tile_with(bad, two_districts[0])
        assert refused.status_code == 401
        assert refused.json()["detail"] == "The map's access to tiles has expired. Reload the page."
    real_time = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 601)  # issued 601 s ago
    old = client.get(reverse("map-tile-token")).json()["token"]
    monkeypatch.undo()
    assert tile_with(old, two_districts[0]).status_code == 401
    assert tile_with(client.get(reverse("map-tile-token")).json()["token"], two_districts[0]).status_code == 200


def test_the_refusal_speaks_the_browsers_language(superuser, two_districts):
    refused = Client(HTTP_ACCEPT_LANGUAGE="vi").get(
        reverse("site-tile", args=[14, 0, 0]), HTTP_AUTHORIZATION="Tile nonsense"
    )
    assert refused.status_code == 401
    assert refused.json()["detail"] == "Quyền xem ô bản đồ của trang đã hết hạn. Hãy tải lại trang."


def test_a_fresh_token_needs_the_session(client, superuser):
    assert client.get(reverse("map-tile-token")).status_code == 401
    client.force_login(superuser)
    answer = client.get(reverse("map-tile-token")).json()
    assert answer["seconds"] == 600 and tile_tokens.holder(answer["token"]).pk == superuser.pk


def test_the_token_opens_tiles_only(client, superuser):
    client.force_login(superuser)
    token = page_token(client)
    for name in ("map-sites", "map-areas", "map-priority"):
        assert Client().get(reverse(name), HTTP_AUTHORIZATION=f"Tile {token}").status_code == 401


def test_token_requests_that_cannot_be_served(client, superuser):
    client.force_login(superuser)
    token = page_token(client)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Tile {token}")
    assert browser.get(reverse("site-tile", args=[23, 0, 0])).status_code == 404
    assert browser.get(reverse("site-tile", args=[5, 32, 14])).status_code == 404
    bad = browser.get(reverse("site-tile", args=[14, 13000, 7000]), {"kind": "volcano"})
    assert bad.status_code == 400 and "kind" in bad.json()["detail"]
    assert browser.post(reverse("site-tile", args=[14, 13000, 7000])).status_code == 405


def _loops_reading(plan: dict, table: str) -> int:
    """How many times the plan's nodes scanned `table`, in all (EXPLAIN ANALYZE's loops)."""
    own = plan.get("Actual Loops", 0) if plan.get("Relation Name") == table else 0
    return own + sum(_loops_reading(child, table) for child in plan.get("Plans", []))


def test_each_tile_checks_its_grant_without_reading_the_accounts(client, make_user, demo_tree, two_districts):
    """The grant's check once compared a digest of roles in a hash join, computing it for
    every active account of the registry, then a digest of the person's standing at each
    tile, a tenth of a zoom-14 tile (bench/NOTES.md). Triggers now count changes of that
    standing: a tile reads its grant and its session, once, and no account."""
    mine, _theirs = two_districts
    manager = make_user("quanly", demo_tree["991"], Role.AREA_MANAGER)
    others = User.objects.bulk_create(
        User(username=f"canbo-{n}", name_key=username_key(f"canbo-{n}")) for n in range(40)
    )
    Membership.objects.bulk_create(Membership(user=u, area=demo_tree["99101"], role=Role.FIELD_WORKER) for u in others)
    client.force_login(manager)
    token = page_token(client)
    assert tile_with(token, mine).status_code == 200  # prepares the tile's statement
    (name, _plans), *_ = tile_statements()
    z, x, y = tile_of(mine.location.x, mine.location.y, 14)
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE {name}(%s, %s, %s, %s, %s)",
            [z, x, y, timezone.now(), tile_tokens.holder(token).tile_grant],
        )
        plan = cursor.fetchone()[0][0]["Plan"]
    assert _loops_reading(plan, "mapping_tilegrant") == 1 and _loops_reading(plan, "django_session") == 1
    assert _loops_reading(plan, "accounts_membership") == 0 and _loops_reading(plan, "accounts_user") == 0


def tile_statements() -> list[tuple[str, int]]:
    """The tile statements prepared on this connection, the newest first, each with how
    many times PostgreSQL planned it for the values it was given (custom plans)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%%WITH tile AS%%' "
            "ORDER BY prepare_time DESC"
        )
        return cursor.fetchall()


def test_a_tile_statement_is_planned_once_not_for_each_tile(client, superuser, two_districts):
    """At zoom 14 planning the query cost as much as running it (bench/NOTES.md): each
    statement is prepared once per connection and PostgreSQL settles on its generic plan,
    the tile's numbers reaching the query only as it runs."""
    site, _theirs = two_districts
    client.force_login(superuser)
    token = page_token(client)
    z, x, y = tile_of(site.location.x, site.location.y, 14)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Tile {token}")
    for dx in range(-10, 10):  # twenty tiles of a row
        assert browser.get(reverse("site-tile", args=[z, x + dx, y])).status_code == 200
    ((_name, custom_plans),) = tile_statements()
    assert custom_plans <= 5  # PostgreSQL's first five, before it weighs the generic plan

"""GIS clients (QGIS 3.22 with a stored Basic credential: the person's user name and a device
token; scripts and web maps with `Bearer <token>`) sign in on every request and hold no
session, so the map page's tile token, bound to a browser session, is not theirs to lose:
they read tiles and the OGC API as before. What ends their access ends it on the very next
request, tiles and OGC API alike: revoking the token, deactivating the person, and a change
of roles (the scope is read again with each request). The account password is never a
GIS credential (accounts/tokens.py), old or new: changing it ends the person's browser
sessions and their map's tile token, and has nothing of QGIS's to end."""

import base64

import mapbox_vector_tile
import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Role
from accounts.pairing import pairing_complete, pairing_start
from accounts.scope import can_manage_user
from accounts.services import user_deactivate
from accounts.tokens import token_issue, token_revoke
from tests.conftest import inside
from tests.mapping.tiles_helpers import site_codes, tile_of

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Secret-123"  # make_user's


def basic(username: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()}


@pytest.fixture
def gis(demo_tree, make_user, make_site, superuser):
    """A district manager's QGIS: a device token, a site of the district in view."""
    person = make_user("huyen", demo_tree["991"], Role.AREA_MANAGER)
    token, key = token_issue(actor=superuser, user=person, name="QGIS phòng TN-MT")
    site = make_site(demo_tree["99101"], location=inside(demo_tree["99101"]))
    return person, token, key, site


def reads(headers: dict, site) -> tuple[int, set, int, set]:
    """What a fresh client (QGIS keeps no cookie of ours) gets: a tile's status and site
    codes, the OGC items' status and site ids."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en", headers=headers)
    tile = client.get(reverse("site-tile", args=tile_of(site.location.x, site.location.y, 14)))
    codes = site_codes(mapbox_vector_tile.decode(tile.content)) if tile.status_code == 200 else set()
    ogc = client.get(reverse("ogc-items", args=["sites"]), {"limit": 100})
    ids = {f["id"] for f in ogc.json()["features"]} if ogc.status_code == 200 else set()
    assert "sessionid" not in tile.cookies and "sessionid" not in ogc.cookies  # no session is made for it
    return tile.status_code, codes, ogc.status_code, ids


def test_qgis_and_bearer_clients_read_tiles_and_the_ogc_api_without_a_session(gis):
    person, _token, key, site = gis
    for headers in (basic(person.username, key), {"Authorization": f"Bearer {key}"}):
        assert reads(headers, site) == (200, {site.code}, 200, {str(site.pk)})


def test_a_web_map_on_another_site_reads_tiles_with_a_bearer_token(gis):
    """Its browser asks first (a preflight: no credentials in it), then reads the tile,
    which it may hand to the page only with the CORS answer."""
    _person, _token, key, site = gis
    tile = reverse("site-tile", args=tile_of(site.location.x, site.location.y, 14))
    origin = {"Origin": "https://maps.example.org"}
    preflight = Client().options(
        tile,
        headers={**origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"},
    )
    assert preflight.status_code == 200 and "authorization" in preflight["Access-Control-Allow-Headers"]
    read = Client().get(tile, headers={**origin, "Authorization": f"Bearer {key}"})
    assert read.status_code == 200 and read["Access-Control-Allow-Origin"] == "*"
    assert site.code in site_codes(mapbox_vector_tile.decode(read.content))


def test_revoking_the_token_stops_qgis_at_once(gis, superuser):
    person, token, key, site = gis
    assert reads(basic(person.username, key), site)[0] == 200
    token_revoke(actor=superuser, token=token)
    for headers in (basic(person.username, key), {"Authorization": f"Bearer {key}"}):
        tile_status, _codes, ogc_status, _ids = reads(headers, site)
        assert (tile_status, ogc_status) == (401, 401)


def test_deactivating_the_person_stops_qgis_at_once(gis, superuser):
    person, _token, key, site = gis
    assert reads(basic(person.username, key), site)[0] == 200
    user_deactivate(actor=superuser, user=person)
    client = Client(HTTP_ACCEPT_LANGUAGE="en", headers=basic(person.username, key))
    tile = client.get(reverse("site-tile", args=tile_of(site.location.x, site.location.y, 14)))
    assert tile.status_code == 401 and "deactivated" in tile.json()["detail"]
    assert tile["WWW-Authenticate"].startswith("Basic ")  # QGIS asks for a credential again
    ogc = client.get(reverse("ogc-items", args=["sites"]))
    assert ogc.status_code == 401 and "deactivated" in ogc.json()["description"]


def test_a_change_of_roles_reaches_qgis_at_once(gis, demo_tree):
    person, _token, key, site = gis
    Membership.objects.filter(user=person).update(area=demo_tree["992"])
    assert reads(basic(person.username, key), site) == (200, set(), 200, set())


def test_the_account_password_old_or_new_never_opens_qgis(gis):
    person, _token, key, site = gis
    assert reads(basic(person.username, PASSWORD), site)[::2] == (401, 401)
    person.set_password("Mat-khau-moi-2026!")
    person.save()
    assert reads(basic(person.username, "Mat-khau-moi-2026!"), site)[::2] == (401, 401)
    assert reads(basic(person.username, PASSWORD), site)[::2] == (401, 401)
    # The device token is its own credential, ended by revocation or deactivation (above).
    assert reads(basic(person.username, key), site) == (200, {site.code}, 200, {str(site.pk)})


def test_a_map_page_token_and_qgis_of_one_person_do_not_end_each_other(gis):
    """The browser's map signing out ends its tile token, not the person's QGIS."""
    person, _token, key, site = gis
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(person)
    page_token = browser.get(reverse("map-tile-token")).json()["token"]
    browser.post(reverse("logout"))
    ended = Client().get(
        reverse("site-tile", args=tile_of(site.location.x, site.location.y, 14)),
        headers={"Authorization": f"Tile {page_token}"},
    )
    assert ended.status_code == 401
    assert reads(basic(person.username, key), site) == (200, {site.code}, 200, {str(site.pk)})


# What a browser adds to a form that a page of another site posts (pentest F9).
FROM_ANOTHER_SITE = [
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site", "Referer": "https://evil.example/x"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # a neighbouring subdomain is another site's page too
    {"Origin": "https://evil.example"},  # a browser that sends no Sec-Fetch-* headers
    {"Origin": "null"},  # a sandboxed frame
    {"Referer": "https://evil.example/"},  # a browser before 2020: neither Origin nor Sec-Fetch-* (pentest I12)
    {"Referer": "http://testserver.evil.example/form"},
]


def close(headers: dict, site, client=None):
    client = client or Client(HTTP_ACCEPT_LANGUAGE="en")
    return client.post(
        reverse("site-close", args=[site.pk]),
        "reason=filled_in&note=csrf",
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


@pytest.mark.parametrize("browser", FROM_ANOTHER_SITE)
def test_a_page_of_another_site_cannot_write_with_the_token_a_browser_keeps_for_basic(gis, browser):
    """The browser asked for the token at /ogc/'s Basic prompt keeps it and sends it with a
    form another site posts to the registry: no cookie, no CSRF token, until now a write."""
    person, _token, key, site = gis
    refused = close({**basic(person.username, key), **browser}, site)
    assert refused.status_code == 403
    assert "not accepted from a page of another site" in refused.json()["detail"]
    site.refresh_from_db()
    assert site.closed_at is None
    # Reads, which another site's page cannot see the answer of, stay open (QGIS's are).
    assert reads({**basic(person.username, key), **browser}, site) == (200, {site.code}, 200, {str(site.pk)})


def test_basic_writes_of_clients_that_are_no_browser_and_of_the_registry_s_own_pages_go_through(gis):
    person, _token, key, site = gis
    own_page = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert close({**basic(person.username, key), **own_page}, site).status_code == 200
    assert Client().post(reverse("site-reopen", args=[site.pk]), headers=basic(person.username, key)).status_code == 200
    # A browser that tells only the page it comes from: the registry's own.
    own_old_page = {"Referer": "http://testserver/sites/"}
    assert close({**basic(person.username, key), **own_old_page}, site).status_code == 200


@pytest.mark.parametrize("browser", FROM_ANOTHER_SITE)
def test_token_and_bearer_are_never_sent_by_a_browser_on_its_own_so_they_write_from_anywhere(gis, browser):
    """A web app of another origin that holds the token itself sends it as a header; the
    tablets' survey app does too."""
    _person, _token, key, site = gis
    assert close({"Authorization": f"Bearer {key}", **browser}, site).status_code == 200
    reopened = Client().post(
        reverse("site-reopen", args=[site.pk]), headers={"Authorization": f"Token {key}", **browser}
    )
    assert reopened.status_code == 200


@pytest.mark.parametrize("credentials", ["\xff", "é:ñ", "\x00"])
def test_a_basic_credential_that_is_no_base64_text_is_refused_saying_what_to_send(gis, credentials):
    """A header's bytes arrive as Latin-1 text: a Basic credential holding a letter outside
    ASCII made base64 raise ValueError, a 500 on every API, OGC and tile route (pentest 5)."""
    _person, _token, _key, site = gis
    client = Client(HTTP_ACCEPT_LANGUAGE="en", headers={"Authorization": f"Basic {credentials}"})
    for url in (
        reverse("survey-me"),
        reverse("ogc-items", args=["sites"]),
        reverse("site-tile", args=tile_of(site.location.x, site.location.y, 14)),
    ):
        response = client.get(url)
        assert response.status_code == 401, url
        assert "device token" in response.content.decode()


def test_a_key_shown_to_a_manager_ends_when_its_holder_leaves_that_manager_s_reach(demo_tree, make_user, make_site):
    """A GIS client's key is shown once, to the manager who issues it: that manager can use
    it as its holder. Once the holder is given a role beyond the manager (a viewer of the
    next district too), the key would read, and with a worker's role write, where the
    manager may not (pentest 5: sideways through a device token). It is refused from then
    on, saying to ask for a new key. A tablet's key too: the pairing code was shown to the
    manager, who could spend it on their own machine and keep the key (pentest 6)."""
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    _shown, key = token_issue(actor=manager, user=worker, name="QGIS")
    _pairing, code = pairing_start(actor=manager, user=worker, name="tablet")
    tablet_key = pairing_complete(code=code, device_name="Galaxy Tab").key
    for secret in (key, tablet_key):
        assert Client(headers={"Authorization": f"Bearer {secret}"}).get(reverse("survey-me")).status_code == 200
    Membership.objects.create(user=worker, area=demo_tree["992"], role=Role.VIEWER)
    assert not can_manage_user(manager, worker)
    site = make_site(demo_tree["99201"], location=inside(demo_tree["99201"]))
    shown = Client(HTTP_ACCEPT_LANGUAGE="en", headers=basic(worker.username, key))
    for url in (
        reverse("survey-me"),
        reverse("ogc-items", args=["sites"]),
        reverse("site-tile", args=tile_of(site.location.x, site.location.y, 14)),
    ):
        response = shown.get(url)
        assert response.status_code == 401, url
        assert "ask for a new key" in response.content.decode(), url
    response = Client(HTTP_ACCEPT_LANGUAGE="en", headers={"Authorization": f"Bearer {tablet_key}"}).get(
        reverse("ogc-items", args=["sites"])
    )
    assert response.status_code == 401 and "ask for a new key" in response.content.decode()


def test_a_key_shown_to_a_manager_ends_when_that_manager_is_deactivated(demo_tree, make_user, superuser):
    """As a password the manager set (tests/accounts/test_password_set_by.py): one rule,
    accounts.scope.still_managed_by; a paired tablet's key too (its code was the manager's)."""
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    _shown, key = token_issue(actor=manager, user=worker, name="QGIS")
    _pairing, code = pairing_start(actor=manager, user=worker, name="tablet")
    tablet_key = pairing_complete(code=code, device_name="Galaxy Tab").key
    clients = [
        Client(HTTP_ACCEPT_LANGUAGE="en", headers=basic(worker.username, key)),
        Client(HTTP_ACCEPT_LANGUAGE="en", headers={"Authorization": f"Token {tablet_key}"}),
    ]
    for client in clients:
        assert client.get(reverse("survey-me")).status_code == 200
    user_deactivate(actor=superuser, user=manager)
    for client in clients:
        response = client.get(reverse("survey-me"))
        assert response.status_code == 401 and "ask for a new key" in response.content.decode()

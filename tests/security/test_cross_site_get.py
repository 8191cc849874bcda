"""A GET that a page of another site makes the browser send changes nothing and starts
no work. The browser adds credentials of its own to such a request: the session cookie
when a link is followed (SameSite=Lax lets it through for a top-level GET) and a device
token it was given at a Basic prompt, to any request, an image's included. So a GET that
would start work (an export or a report made by the job worker) is refused when the
browser says another site's page sent it, with the check that refuses Basic writes
(accounts/tokens.py). GIS clients and scripts send no such headers; the registry's own
pages say same-origin, an address typed in says none: they start work as before.

Every route the URL resolver knows is asked, with a session and with Basic, from another
site, and PostgreSQL's own count of the rows each request inserted, updated or deleted
must stay at zero outside the bookkeeping of signing in (a route added later is covered
without touching this file)."""

import base64

import pytest
from django.db import connection
from django.test import Client, RequestFactory

from accounts.tokens import create_token
from hazards.models import JobRun
from tests.security import test_hostile_parameters as routes
from tests.security.test_hostile_parameters import world  # noqa: F401 (the fixture, by name below)

pytestmark = pytest.mark.django_db

# What a browser sends with a link another site's page holds (and with its images).
FOLLOWED_FROM_ANOTHER_SITE = {
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
}

# Writes that change nothing a person relies on: signing in's own (the session's last
# request for the idle timeout, a device token's last use), the map's tile grant bound to
# the session the link opened, and caches of what the page read (a worker's survey list,
# as-of report tables), each replaced or reused, never more than one per key.
BOOKKEEPING = {
    "django_session",
    "accounts_devicetoken",
    "mapping_tilegrant",
    "hazards_surveylistrest",
    "reports_asofresult",
}


def writes() -> dict[str, int]:
    """Rows this transaction inserted, updated or deleted, by table (the test runs in one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables "
            "WHERE n_tup_ins + n_tup_upd + n_tup_del > 0"
        )
        return dict(cursor.fetchall())


def changed(before: dict, after: dict) -> set[str]:
    return {table for table, count in after.items() if count != before.get(table, 0)} - BOOKKEEPING


def basic(user, key) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user.username}:{key}".encode()).decode()}


def test_no_get_from_another_site_changes_anything_or_starts_work(request, superuser, settings, tmp_path):
    found = request.getfixturevalue("world")
    settings.IMPORT_UPLOAD_ROOT = tmp_path / "imports"
    settings.JOBS_MAX_WAITING_PER_PERSON = 1000  # every route that would start work gets to
    found["superuser_id"] = superuser.pk
    routes.ADMIN_REQUEST["request"] = RequestFactory().get("/")
    routes.ADMIN_REQUEST["request"].user = superuser
    signed_in = Client(HTTP_ACCEPT_LANGUAGE="en", headers=FOLLOWED_FROM_ANOTHER_SITE)
    signed_in.force_login(superuser)
    _token, key = create_token(user=superuser, name="QGIS", created_by=superuser)
    cached_basic = Client(HTTP_ACCEPT_LANGUAGE="en", headers={**basic(superuser, key), **FOLLOWED_FROM_ANOTHER_SITE})
    samples = routes.make_samples(found, "x")
    params = {**routes.BASELINE, "site": str(found["orderable"].pk)}
    runs = JobRun.objects.count()
    failures = []
    for chain, name in routes.all_routes():
        for url in routes.concrete_urls(chain, name, samples):
            for how, client in (("session", signed_in), ("Basic", cached_basic)):
                for query in ({}, {**params, **routes.BASELINE_FOR.get(name, {})}):
                    before = writes()
                    routes.send(client, url, query)
                    if tables := changed(before, writes()):
                        failures.append(f"{url} ({how}) wrote {sorted(tables)}")
    assert not failures, "\n".join(failures)
    assert JobRun.objects.count() == runs


def test_the_registry_s_own_pages_gis_clients_and_typed_addresses_still_start_exports(superuser, demo_tree):
    _token, key = create_token(user=superuser, name="QGIS", created_by=superuser)
    own_link = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate", "Accept": "text/html"}
    typed = {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Accept": "text/html"}
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(superuser)
    for headers in (own_link, typed):
        assert browser.get("/api/v1/exports/sites.gpkg", {"area": "991"}, headers=headers).status_code == 303
    # ogr2ogr and QGIS send no Sec-Fetch-* or Origin header.
    gis = Client(HTTP_ACCEPT_LANGUAGE="en", headers=basic(superuser, key))
    assert gis.get("/api/v1/exports/sites.kml", {"area": "99"}).status_code == 202


@pytest.mark.parametrize("credentials", ["session", "Basic"])
def test_an_export_link_on_another_site_is_refused_saying_why(superuser, demo_tree, credentials):
    client = Client(HTTP_ACCEPT_LANGUAGE="en", headers={**FOLLOWED_FROM_ANOTHER_SITE, "Accept": "text/html"})
    if credentials == "session":
        client.force_login(superuser)
    else:
        _token, key = create_token(user=superuser, name="QGIS", created_by=superuser)
        client.defaults.update({"HTTP_AUTHORIZATION": basic(superuser, key)["Authorization"]})
    refused = client.get("/api/v1/exports/sites.gpkg", {"area": "991"})
    assert refused.status_code == 403
    assert "a link or a page on another site" in refused.content.decode()
    assert not JobRun.objects.exists()


@pytest.mark.parametrize("referer", ["http://[::1", "http://[x]/", "https://a:99999999999/"])
def test_a_referer_that_is_no_address_is_refused_as_another_site_s_not_a_500(superuser, demo_tree, referer):
    """An old browser (no Sec-Fetch-Site, no Origin) is judged by its Referer; one that
    urlsplit cannot read (an unclosed IPv6 bracket) raised ValueError, a 500 on every GET
    that starts work and every Basic write (pentest 5). What cannot be read is not ours."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en", headers={"Referer": referer, "Accept": "text/html"})
    client.force_login(superuser)
    refused = client.get("/api/v1/exports/sites.gpkg", {"area": "991"})
    assert refused.status_code == 403
    assert not JobRun.objects.exists()

"""The data a tablet fetches for offline work: the compact list of the worker's sites,
cacheable by ETag and sent compressed."""

import datetime as dt
import gzip
import json

import pytest
import time_machine
from django.contrib.gis.geos import Point
from django.urls import reverse

from accounts.models import Role

pytestmark = pytest.mark.django_db

VN = dt.timezone(dt.timedelta(hours=7))


def rows(response) -> list[dict]:
    body = response.json()
    return [dict(zip(body["columns"], row, strict=True)) for row in body["sites"]]


def test_the_list_holds_the_workers_open_sites_compactly(api, demo_tree, make_site, inspect):
    commune = demo_tree["99101"]
    point = commune.geom.point_on_surface
    checked = make_site(commune, name="Ao nhà ông Ba", location=Point(point.x + 1e-7, point.y, srid=4326))
    never = make_site(commune, kind="well")
    closed = make_site(commune)
    closed.closed_at, closed.close_reason = dt.date(2026, 1, 1), "filled_in"
    closed.save()
    make_site(demo_tree["99201"])  # another commune
    inspect(checked, dt.datetime(2026, 3, 1, 23, 30, tzinfo=VN), signage="in_place", barrier="partial")
    with time_machine.travel(dt.datetime(2026, 5, 4, 9, 0, tzinfo=VN), tick=False):
        listed = {row["id"]: row for row in rows(api.get(reverse("survey-sites")))}
    assert set(listed) == {str(checked.pk), str(never.pk)}
    assert listed[str(checked.pk)] == {
        "id": str(checked.pk),
        "code": checked.code,
        "name": "Ao nhà ông Ba",
        "kind": "pond",
        "state": "signed_only",
        "signage": "in_place",
        "barrier": "partial",
        "checked": "2026-03-01",  # the day in Vietnam
        "due": 0,
        "lon": round(point.x + 1e-7, 5),
        "lat": round(point.y, 5),
    }
    assert (listed[str(never.pk)]["state"], listed[str(never.pk)]["checked"], listed[str(never.pk)]["due"]) == (
        "unprotected",
        None,
        1,
    )


def test_a_state_older_than_the_evidence_interval_is_due(api, demo_tree, make_site, inspect):
    site = make_site(demo_tree["99101"])
    inspect(site, dt.datetime(2025, 5, 1, 9, 0, tzinfo=VN))
    with time_machine.travel(dt.datetime(2026, 4, 30, 9, 0, tzinfo=VN), tick=False):
        assert rows(api.get(reverse("survey-sites")))[0]["due"] == 0
    with time_machine.travel(dt.datetime(2026, 5, 2, 9, 0, tzinfo=VN), tick=False):
        assert rows(api.get(reverse("survey-sites")))[0]["due"] == 1


def test_a_tablet_that_has_the_list_gets_304_until_it_changes(api, demo_tree, make_site, inspect):
    site = make_site(demo_tree["99101"])
    first = api.get(reverse("survey-sites"))
    etag = first["ETag"]
    assert "no-cache" in first["Cache-Control"] and "private" in first["Cache-Control"]
    again = api.get(reverse("survey-sites"), headers={"If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")
    inspect(site, dt.datetime.now(tz=VN), signage="in_place", barrier="complete")
    changed = api.get(reverse("survey-sites"), headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert rows(changed)[0]["state"] == "protected"


def test_the_list_and_the_areas_travel_compressed(client, demo_tree, make_user, make_site):
    client.force_login(make_user("quanly", demo_tree["99"], Role.AREA_MANAGER))  # ten communes
    for _i in range(30):
        make_site(demo_tree["99101"])
    for name in ("survey-sites", "survey-areas"):
        plain = client.get(reverse(name))
        packed = client.get(reverse(name), headers={"Accept-Encoding": "gzip, deflate, br"})
        assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
        assert json.loads(gzip.decompress(packed.content)) == plain.json()
        assert len(packed.content) < len(plain.content) / 2
        # The compressed answer keeps its (weak) ETag, and the tablet's copy is still good.
        assert client.get(reverse(name), headers={"If-None-Match": packed["ETag"]}).status_code == 304

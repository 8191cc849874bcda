"""The data a tablet fetches for offline work: the list of the worker's sites in two
parts (what draws the map and the due list first, the names and ids after), cacheable
by ETag and sent compressed."""

import datetime as dt
import gzip
import json

import pytest
import time_machine
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from hazards.selectors import REST_KEPT
from tests.hazards.site_list import fetch_rows, version_of

pytestmark = pytest.mark.django_db

VN = dt.timezone(dt.timedelta(hours=7))


def test_the_list_holds_the_workers_open_sites_compactly(api, demo_tree, make_site, inspect):
    commune = demo_tree["99101"]
    point = commune.geom.point_on_surface
    checked = make_site(commune, name="Ao nhà ông Ba", location=Point(point.x + 1e-7, point.y, srid=4326))
    never = make_site(commune, kind="well", location=Point(point.x + 0.01, point.y - 0.002, srid=4326))
    closed = make_site(commune)
    closed.closed_at, closed.close_reason = dt.date(2026, 1, 1), "filled_in"
    closed.save()
    make_site(demo_tree["99201"])  # another commune
    inspect(checked, dt.datetime(2026, 3, 1, 23, 30, tzinfo=VN), signage="in_place", barrier="partial")
    with time_machine.travel(dt.datetime(2026, 5, 4, 9, 0, tzinfo=VN), tick=False):
        listed = {row["id"]: row for row in fetch_rows(api)}
    assert set(listed) == {str(checked.pk), str(never.pk)}
    assert listed[str(checked.pk)] == {
        "id": str(checked.pk),
        "code": checked.code,
        "name": "Ao nhà ông Ba",
        "kind": "pond",
        "signage": "in_place",
        "barrier": "partial",
        "checked": "2026-03-01",  # the day in Vietnam
        "first": 0,
        "order_state": None,
        "order_deadline": None,
        "due": False,
        "lon": round(point.x + 1e-7, 5),
        "lat": round(point.y, 5),
    }
    row = listed[str(never.pk)]
    assert (row["signage"], row["barrier"], row["checked"], row["due"]) == ("none", "none", None, True)
    assert (row["lon"], row["lat"]) == (round(point.x + 0.01, 5), round(point.y - 0.002, 5))


def test_the_first_part_names_only_the_due_sites_and_carries_no_ids(api, demo_tree, make_site, inspect):
    commune = demo_tree["99101"]
    due = make_site(commune, name="Giếng chưa kiểm tra", kind="well")
    done = make_site(commune, name="Ao đã kiểm tra")
    inspect(done, dt.datetime.now(tz=VN), signage="in_place", barrier="complete")
    first = api.get(reverse("survey-sites")).content.decode()
    assert "Giếng chưa kiểm tra" in first and due.code in first
    assert "Ao đã kiểm tra" not in first and done.code not in first
    assert str(due.pk) not in first and str(done.pk) not in first


def test_a_state_older_than_the_evidence_interval_is_due(api, worker, demo_tree, make_site, inspect):
    site = make_site(demo_tree["99101"])
    inspect(site, dt.datetime(2025, 5, 1, 9, 0, tzinfo=VN))
    for moment, due in (
        (dt.datetime(2026, 4, 30, 9, 0, tzinfo=VN), False),
        (dt.datetime(2026, 5, 2, 9, 0, tzinfo=VN), True),
    ):
        with time_machine.travel(moment, tick=False):
            api.force_login(worker)  # signed in that day: a session ends after 30 idle minutes
            assert fetch_rows(api)[0]["due"] is due


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
    assert fetch_rows(api)[0]["signage"] == "in_place"


def test_the_second_part_answers_only_its_own_version(api, demo_tree, make_site, inspect):
    site = make_site(demo_tree["99101"])
    now = dt.datetime.now(tz=VN)
    with time_machine.travel(now, tick=False):
        version = version_of(api.get(reverse("survey-sites")))
        rest = api.get(reverse("survey-sites-rest"), {"version": version})
        assert rest.status_code == 200 and rest.json()["id"] == [str(site.pk)]
        # One version never changes: the tablet keeps it without asking again.
        assert "immutable" in rest["Cache-Control"] and "private" in rest["Cache-Control"]
        # The list changed between the two requests: the part made with the first is
        # answered, so the two still fit together (one id for the one site the tablet has).
        make_site(demo_tree["99101"], kind="well")
        assert api.get(reverse("survey-sites-rest"), {"version": version}).json()["id"] == [str(site.pk)]
    # Once that part is no longer kept, the list is made again: it is another version now.
    with time_machine.travel(now + REST_KEPT + dt.timedelta(seconds=1), tick=False):
        stale = api.get(reverse("survey-sites-rest"), {"version": version})
    assert stale.status_code == 412
    assert stale.json()["code"] == "list_changed" and stale.json()["detail"]
    assert api.get(reverse("survey-sites-rest")).status_code == 412  # no version at all


def test_the_kept_second_part_is_not_answered_once_the_workers_areas_changed(api, worker, demo_tree, make_site):
    site = make_site(demo_tree["99101"], name="Ao xã cũ")
    version = version_of(api.get(reverse("survey-sites")))
    membership = worker.memberships.get()
    membership.area = demo_tree["99201"]
    membership.save()
    moved = api.get(reverse("survey-sites-rest"), {"version": version})
    assert moved.status_code == 412 and str(site.pk) not in moved.text and "Ao xã cũ" not in moved.text


def test_the_second_part_is_read_as_kept_not_made_again(api, demo_tree, make_site):
    make_site(demo_tree["99101"])
    version = version_of(api.get(reverse("survey-sites")))
    with CaptureQueriesContext(connection) as queries:
        assert api.get(reverse("survey-sites-rest"), {"version": version}).status_code == 200
    assert not [q for q in queries.captured_queries if "string_agg" in q["sql"]]


def test_the_list_and_the_areas_travel_compressed(client, demo_tree, make_user, make_site):
    client.force_login(make_user("quanly", demo_tree["99"], Role.AREA_MANAGER))  # ten communes
    for _i in range(30):
        make_site(demo_tree["99101"])
    version = version_of(client.get(reverse("survey-sites")))
    for name, params in (("survey-sites", {}), ("survey-sites-rest", {"version": version}), ("survey-areas", {})):
        plain = client.get(reverse(name), params)
        packed = client.get(reverse(name), params, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
        assert json.loads(gzip.decompress(packed.content)) == plain.json()
        if name != "survey-sites-rest":  # 30 sites' ids alone: random, they compress little
            assert len(packed.content) < len(plain.content) / 2
        # The compressed answer keeps its (weak) ETag, and the tablet's copy is still good.
        assert client.get(reverse(name), params, headers={"If-None-Match": packed["ETag"]}).status_code == 304

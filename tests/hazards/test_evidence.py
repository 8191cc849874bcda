"""Evidence decays by the registry's day (hazards/sql/rules.sql): a check verifies the
state on the day it was made and the days after, 365 days in all (90 for a temporary
site); from the next day the state is unverified and the open site is due. The APIs, the
map, the exports and the report read that one rule, so they agree at every instant."""

import datetime as dt
import json

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from hazards import lifecycle
from reports.periods import Period
from reports.selectors import by_child
from tests.hazards.site_list import fetch_rows

pytestmark = pytest.mark.django_db


def local(text: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(text))


@pytest.fixture
def checked_late(demo_tree, make_site, inspect):
    """A pond checked at 23:30 on 20 November 2025 and a pit (temporary) checked at 00:15
    on 1 September 2026, registry time, each alone in its commune."""
    pond = make_site(demo_tree["99101"], name="Ao khuya", active_from=dt.date(2025, 1, 1))
    inspect(pond, "2025-11-20T23:30")
    pit = make_site(demo_tree["99102"], name="Hố sáng", kind="pit", is_temporary=True, active_from=dt.date(2025, 1, 1))
    inspect(pit, "2026-09-01T00:15")
    return {"pond": pond, "pit": pit}


@pytest.fixture
def client(client, make_user, demo_tree):
    client.person = make_user("nam", demo_tree["99"], Role.AREA_MANAGER)
    client.force_login(client.person)
    return client


def unverified_in_report(site, day: dt.date) -> bool:
    """The report's count for the site's commune (the site alone there) as of `day`."""
    counts = by_child(site.area.parent, Period(day - dt.timedelta(days=30), day, "range"))
    return counts[site.area.code]["unverified"] == 1


def due_everywhere(client, site) -> dict[str, bool]:
    """Whether each place a person sees the site calls it due (its state unverified)."""
    point = site.location
    bbox = f"{point.x - 0.01},{point.y - 0.01},{point.x + 0.01},{point.y + 0.01}"
    surveyed = fetch_rows(client)
    listed = client.get(reverse("map-sites"), {"bbox": bbox}).json()["sites"]
    filtered = client.get(reverse("site-list"), {"due": "true"}).json()["features"]
    export = client.get(reverse("site-export", args=["geojson"]))
    exported = json.loads(b"".join(export.streaming_content))["features"]
    return {
        "rest": client.get(reverse("site-detail", args=[site.pk])).json()["properties"]["due"],
        "rest filter": site.name in {f["properties"]["name"] for f in filtered},
        "survey": {row["name"]: bool(row["due"]) for row in surveyed}[site.name],
        "map list": {s["name"]: s["due"] for s in listed}[site.name],
        "export": {f["properties"]["name"]: f["properties"]["due"] for f in exported}[site.name],
        "report": unverified_in_report(site, timezone.localdate()),
    }


@pytest.mark.parametrize(
    ("now", "site", "due"),
    [
        ("2026-11-19T23:59", "pond", False),  # its 365th day
        ("2026-11-20T00:00", "pond", True),  # the next day, before 23:30, the hour of the check
        ("2026-11-29T23:59", "pit", False),  # 1 September and 89 days after
        ("2026-11-30T00:00", "pit", True),
    ],
)
def test_every_view_calls_a_site_due_from_the_same_day(client, checked_late, now, site, due):
    with time_machine.travel(local(now), tick=False):
        client.force_login(client.person)  # signed in that day: sessions end when idle
        assert due_everywhere(client, checked_late[site]) == dict.fromkeys(
            ["rest", "rest filter", "survey", "map list", "export", "report"], due
        )
    # Run again later, the report as of that day says the same.
    with time_machine.travel(local(now) + dt.timedelta(days=40), tick=False):
        assert unverified_in_report(checked_late[site], local(now).date()) is due


def test_a_closed_site_is_never_due(client, checked_late, superuser):
    pond = checked_late["pond"]
    assert client.get(reverse("site-detail", args=[pond.pk])).json()["properties"]["due"] is True
    lifecycle.site_close(actor=superuser, site=pond, reason="filled_in", closed_at=dt.date(2026, 11, 1))
    assert client.get(reverse("site-detail", args=[pond.pk])).json()["properties"]["due"] is False
    assert client.get(reverse("site-list"), {"due": "true"}).json()["features"] == []

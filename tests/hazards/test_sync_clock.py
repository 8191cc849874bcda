"""A tablet's clock may be wrong by minutes, days or years. The sync measures its offset
from the clock the tablet states when it sends (X-Device-Time) and shifts the times it
sends by that offset; the record keeps the time the tablet wrote."""

import datetime as dt
import uuid

import pytest
import time_machine
from django.urls import reverse

from hazards.models import Inspection, Site
from tests.hazards.test_sync_api import site_record

pytestmark = pytest.mark.django_db

VN = dt.timezone(dt.timedelta(hours=7))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=VN)


def send(api, name, body, device_now: dt.datetime | None):
    headers = {"X-Device-Time": device_now.isoformat()} if device_now else {}
    return api.post(reverse(name), body, content_type="application/json", headers=headers)


def inspection_of(site_id, inspected_at: dt.datetime, **fields) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "site": str(site_id),
        "inspected_at": inspected_at.isoformat(),
        "signage": "in_place",
        "barrier": "complete",
        **fields,
    }


def test_a_clock_days_behind_shifts_times_by_its_offset(api, demo_tree):
    """Inspected on 30 December 2025 at 10:00 by a tablet three days behind, sent on 5
    January: it counts on 30 December, and keeps the time the tablet wrote."""
    skew = dt.timedelta(days=3)
    record = site_record(demo_tree["99101"])
    record["inspection"]["inspected_at"] = (at("2025-12-30T10:00:00") - skew).isoformat()
    with time_machine.travel(at("2026-01-05T08:00:00"), tick=False):
        response = send(api, "sync-site", record, at("2026-01-05T08:00:00") - skew)
    assert response.status_code == 201, response.json()
    inspection = Inspection.objects.get(pk=record["inspection"]["id"])
    assert inspection.observed_at == at("2025-12-30T10:00:00")
    assert inspection.inspected_at == at("2025-12-27T10:00:00")
    assert inspection.received_at == at("2026-01-05T08:00:00")
    assert inspection.clock_suspect
    # The site counts from its first observation, not from the day it arrived.
    assert Site.objects.get(pk=record["id"]).active_from == dt.date(2025, 12, 30)


def test_a_late_inspection_from_a_skewed_tablet_does_not_replace_a_newer_one(api, demo_tree, make_site, inspect):
    """Issue 19, item 8: a 2025 inspection sent in 2026 by a tablet 3 days behind became
    the current state of a site inspected in 2026."""
    site = make_site(demo_tree["99101"])
    inspect(site, at("2026-01-02T09:00:00"), signage="in_place", barrier="complete")
    skew = dt.timedelta(days=3)
    late = inspection_of(site.pk, at("2025-12-30T10:00:00") - skew, signage="none", barrier="none")
    with time_machine.travel(at("2026-01-05T08:00:00"), tick=False):
        assert send(api, "sync-inspection", late, at("2026-01-05T08:00:00") - skew).status_code == 201
    site.refresh_from_db()
    assert (site.signage, site.barrier) == ("in_place", "complete")
    assert site.last_checked_at == at("2026-01-02T09:00:00")
    assert Inspection.objects.get(pk=late["id"]).observed_at == at("2025-12-30T10:00:00")


def test_a_reset_clock_shifts_by_its_offset_not_by_years(api, demo_tree, make_site):
    """A tablet whose clock fell back to 2000 after its battery died."""
    site = make_site(demo_tree["99101"])
    device_now = at("2000-01-01T07:30:00")
    record = inspection_of(site.pk, device_now - dt.timedelta(minutes=20))
    with time_machine.travel(at("2026-05-04T15:00:00"), tick=False):
        response = send(api, "sync-inspection", record, device_now)
    assert response.status_code == 201
    # In the registry's time, as every other time the API writes (it was UTC).
    assert response.json()["counted_at"] == "2026-05-04T14:40:00+07:00"
    inspection = Inspection.objects.get(pk=record["id"])
    assert (inspection.observed_at, inspection.inspected_at) == (
        at("2026-05-04T14:40:00"),
        device_now - dt.timedelta(minutes=20),
    )
    assert inspection.clock_suspect


def test_a_clock_within_two_minutes_is_taken_as_right(api, demo_tree, make_site):
    site = make_site(demo_tree["99101"])
    record = inspection_of(site.pk, at("2026-05-04T14:00:00"))
    with time_machine.travel(at("2026-05-04T15:00:00"), tick=False):
        send(api, "sync-inspection", record, at("2026-05-04T15:00:00") - dt.timedelta(seconds=90))
    inspection = Inspection.objects.get(pk=record["id"])
    assert (inspection.observed_at, inspection.clock_suspect) == (at("2026-05-04T14:00:00"), False)


def test_one_offset_serves_every_record_of_a_batch(api, demo_tree, make_site):
    site = make_site(demo_tree["99101"])
    skew = -dt.timedelta(hours=5)  # five hours ahead
    first = inspection_of(site.pk, at("2026-05-04T08:00:00") - skew)
    second = inspection_of(site.pk, at("2026-05-04T11:00:00") - skew)
    new_site = site_record(demo_tree["99101"])
    new_site["inspection"]["inspected_at"] = (at("2026-05-03T16:00:00") - skew).isoformat()
    with time_machine.travel(at("2026-05-04T15:00:00"), tick=False):
        response = send(
            api, "sync-batch", {"sites": [new_site], "inspections": [first, second]}, at("2026-05-04T15:00:00") - skew
        )
    assert [r["status"] for r in response.json()["results"]] == [201, 201, 201]
    counted = dict(Inspection.objects.values_list("id", "observed_at"))
    assert counted[uuid.UUID(first["id"])] == at("2026-05-04T08:00:00")
    assert counted[uuid.UUID(second["id"])] == at("2026-05-04T11:00:00")
    assert counted[uuid.UUID(new_site["inspection"]["id"])] == at("2026-05-03T16:00:00")


def test_without_a_stated_clock_a_time_in_the_future_counts_when_it_arrived(api, demo_tree, make_site):
    site = make_site(demo_tree["99101"])
    record = inspection_of(site.pk, at("2026-05-09T15:00:00"))
    with time_machine.travel(at("2026-05-04T15:00:00"), tick=False):
        send(api, "sync-inspection", record, None)
    inspection = Inspection.objects.get(pk=record["id"])
    assert (inspection.observed_at, inspection.clock_suspect) == (at("2026-05-04T15:00:00"), True)


def test_a_time_that_stays_impossible_after_the_shift_counts_when_it_arrived(api, demo_tree, make_site):
    """Written with a clock a year ahead, sent after the clock was put right."""
    site = make_site(demo_tree["99101"])
    record = inspection_of(site.pk, at("2027-05-01T09:00:00"))
    with time_machine.travel(at("2026-05-04T15:00:00"), tick=False):
        send(api, "sync-inspection", record, at("2026-05-04T15:00:00"))
    inspection = Inspection.objects.get(pk=record["id"])
    assert (inspection.observed_at, inspection.inspected_at) == (at("2026-05-04T15:00:00"), at("2027-05-01T09:00:00"))
    assert inspection.clock_suspect


@pytest.mark.parametrize("stated", ["yesterday", "2026-05-04 15:00", "2026-13-45T10:00:00Z", "1e400"])
@pytest.mark.parametrize("name", ["sync-site", "sync-batch"])
def test_a_stated_clock_that_is_not_a_time_is_refused(api, demo_tree, stated, name):
    record = site_record(demo_tree["99101"])
    body = record if name == "sync-site" else {"sites": [record]}
    response = api.post(reverse(name), body, content_type="application/json", headers={"X-Device-Time": stated})
    assert response.status_code == 400
    assert "X-Device-Time" in response.json()["detail"]
    assert not Site.objects.exists()

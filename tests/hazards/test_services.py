"""Writes through the services: validation with clear messages, derived area and state."""

import datetime as dt

import pytest
from django.contrib.gis.geos import Point, Polygon
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from accounts.scope import OutOfScope
from hazards import lifecycle, services
from hazards.models import Inspection, Site
from tests.conftest import inside

pytestmark = pytest.mark.django_db


def messages(error: pytest.ExceptionInfo) -> str:
    return " ".join(error.value.messages)


def test_register_derives_area_and_code(demo_tree, make_site):
    site = make_site(demo_tree["99202"])
    assert site.area.code == "99202"
    assert site.code.startswith("HZ-")
    assert site.signage == "none" and site.barrier == "none" and site.last_checked_at is None
    other = make_site(demo_tree["99202"])
    assert other.code != site.code
    with pytest.raises(IntegrityError, match="site_code_unique"), transaction.atomic():
        Site.objects.filter(pk=other.pk).update(code=site.code)  # the database keeps codes unique


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"kind": "volcano"}, "kind", "Unknown kind volcano"),
        ({"name": "   "}, "name", "Give the site a name"),
        ({"location": Point(2.35, 48.85, srid=4326)}, "location", "outside the country"),
        ({"location": Point(21.0, 105.8, srid=4326)}, "location", "look swapped"),
        ({"location": Point(105.8, 22.1, 10, srid=4326)}, "location", "without height"),
        ({"location": Point(105.8, 200, srid=4326)}, "location", "out of range"),
        ({"location": Point(11778000, 2524000, srid=3857)}, "location", "not EPSG:3857"),
        ({"location": Point(109.0, 12.0, srid=4326)}, "location", "outside every loaded area"),
        ({"depth_m": -2}, "depth_m", "between 0 and 300"),
        # Kept to the centimetre: 4 mm would be stored as a depth of 0.
        ({"depth_m": "0,004"}, "depth_m", "between 0 and 300"),
        ({"depth_m": "1" + "0" * 40}, "depth_m", "between 0 and 300"),
        ({"depth_m": "deep"}, "depth_m", "number of metres"),
        (
            {"outline": Polygon(((105, 21), (105.1, 21.1), (105.1, 21), (105, 21.1), (105, 21)), srid=4326)},
            "outline",
            "not a valid polygon",
        ),
        (
            {"is_temporary": True, "active_from": dt.date(2026, 5, 1), "expected_end": dt.date(2026, 1, 1)},
            "expected_end",
            "before the date",
        ),
    ],
)
def test_register_refuses_bad_input(demo_tree, make_site, fields, field, text):
    with pytest.raises(ValidationError) as error:
        make_site(demo_tree["99101"], **fields)
    assert field in error.value.message_dict
    assert text in messages(error)
    assert Site.objects.count() == 0


def test_a_depth_is_kept_to_the_centimetre_rounding_half_up(demo_tree, make_site):
    depths = [make_site(demo_tree["99101"], depth_m=typed).depth_m for typed in ("2,555", "0,005", "300.004")]
    assert [str(depth) for depth in depths] == ["2.56", "0.01", "300.00"]


def test_outline_must_hold_the_point(demo_tree, make_site):
    far = Polygon.from_bbox((105.6, 22.0, 105.61, 22.01))
    far.srid = 4326
    with pytest.raises(ValidationError, match="contain the site's point"):
        make_site(demo_tree["99101"], location=Point(105.7, 22.2, srid=4326), outline=far)


def test_field_worker_registers_only_inside_own_commune(demo_tree, make_user, make_site):
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    assert make_site(demo_tree["99101"], actor=worker).area.code == "99101"
    with pytest.raises(ValidationError, match="outside the areas you work in"):
        make_site(demo_tree["99201"], actor=worker)
    viewer = make_user("xem", demo_tree["99"], Role.VIEWER)
    with pytest.raises(ValidationError, match="outside the areas you work in"):
        make_site(demo_tree["99101"], actor=viewer)


def test_latest_inspection_sets_current_state(demo_tree, make_site, inspect):
    site = make_site(demo_tree["99101"])
    inspect(site, "2025-03-01T09:00", "damaged", "partial")
    inspect(site, "2025-09-01T09:00", "in_place", "complete")
    # Arrives later but was done earlier (an offline tablet): it is not the latest.
    inspect(site, "2025-06-01T09:00", "none", "none")
    site.refresh_from_db()
    assert (site.signage, site.barrier) == ("in_place", "complete")
    assert site.is_protected
    assert site.last_checked_at == timezone.make_aware(dt.datetime(2025, 9, 1, 9))
    # A correction is a new inspection, never an edit.
    inspect(site, "2025-10-01T09:00", "damaged", "complete")
    site.refresh_from_db()
    assert (site.signage, site.barrier) == ("damaged", "complete")
    assert Inspection.objects.filter(site=site).count() == 4


def test_device_clock_far_ahead_is_flagged_and_not_trusted(demo_tree, make_site, inspect):
    site = make_site(demo_tree["99101"])
    future = timezone.now() + dt.timedelta(days=400)
    wrong = inspect(site, future, "none", "none")
    assert wrong.clock_suspect
    assert wrong.inspected_at == future
    assert abs(wrong.observed_at - wrong.received_at) < dt.timedelta(seconds=1)
    # A real inspection made afterwards is the latest, whatever the wrong clock said.
    inspect(site, timezone.now(), "in_place", "complete")
    site.refresh_from_db()
    assert site.is_protected
    reset = inspect(site, timezone.make_aware(dt.datetime(1970, 1, 1)), "none", "none")
    assert reset.clock_suspect


def test_inspection_validation(demo_tree, make_site, inspect, make_user):
    site = make_site(demo_tree["99101"])
    with pytest.raises(ValidationError, match="Unknown signage state"):
        inspect(site, "2025-01-01T08:00", signage="maybe")
    with pytest.raises(ValidationError, match="Unknown barrier state"):
        inspect(site, "2025-01-01T08:00", barrier="wall")
    with pytest.raises(ValidationError, match="time zone"):
        inspect(site, dt.datetime(2025, 1, 1, 8))
    other = make_user("other", demo_tree["99201"], Role.FIELD_WORKER)
    with pytest.raises(OutOfScope):
        inspect(site, "2025-01-01T08:00", actor=other)
    assert not Inspection.objects.exists()


def test_close_and_reopen(demo_tree, make_site, inspect, superuser):
    site = make_site(demo_tree["99101"], active_from=dt.date(2024, 1, 1))
    lifecycle.site_close(actor=superuser, site=site, reason="filled_in", closed_at=dt.date(2025, 1, 1))
    site.refresh_from_db()
    assert site.closed_at == dt.date(2025, 1, 1) and site.close_reason == "filled_in"
    with pytest.raises(ValidationError, match="closed on 01/01/2025"):
        inspect(site, "2025-02-01T08:00")
    lifecycle.site_reopen(actor=superuser, site=site)
    site.refresh_from_db()
    assert site.closed_at is None and site.close_reason == "" and site.duplicate_of is None


def test_field_worker_cannot_edit_or_close(demo_tree, make_site, make_user):
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    site = make_site(demo_tree["99101"], actor=worker)
    with pytest.raises(OutOfScope):
        services.site_update(actor=worker, site=site, name="Đổi tên")
    with pytest.raises(OutOfScope):
        lifecycle.site_close(actor=worker, site=site, reason="filled_in")


def test_moving_a_site_rederives_its_area(demo_tree, make_site, make_user):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER)
    site = make_site(demo_tree["99101"])
    site = services.site_update(actor=manager, site=site, location=inside(demo_tree["99103"]), name="Ao mới")
    assert site.area.code == "99103" and site.name == "Ao mới"
    with pytest.raises(ValidationError, match="outside the areas you work in"):
        services.site_update(actor=manager, site=site, location=inside(demo_tree["99201"]))
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.site_update(actor=manager, site=site, code="X")
    site.refresh_from_db()
    assert site.area.code == "99103"


def test_site_update_saves_only_what_changed(demo_tree, make_site, superuser, frozen_now):
    """The same values again change nothing, not even the time of the last change; a new
    name is the only column the update writes."""
    site = make_site(demo_tree["99101"], name="Ao A", responsible_party="UBND xã")
    saved_at = Site.objects.get(pk=site.pk).updated_at
    frozen_now.shift(60)
    services.site_update(actor=superuser, site=site, name="Ao A", responsible_party=" UBND xã ", deep_water=True)
    assert Site.objects.get(pk=site.pk).updated_at == saved_at
    with CaptureQueriesContext(connection) as queries:
        services.site_update(actor=superuser, site=site, name="Ao B", deep_water=True)
    (update,) = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "hazards_site"')]
    assert update.split(" WHERE ")[0].count("=") == 2  # the name and the time of the change
    assert Site.objects.get(pk=site.pk).name == "Ao B"

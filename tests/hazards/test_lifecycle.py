"""A site's life as reports see it: closing with a reason and reopening, late evidence
around a closure, active from the first observation, dated changes of deep water and
area, soft delete of sites with inspections, and merging duplicates."""

import datetime as dt
import io
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from PIL import Image

from accounts.models import AuditEntry, Role
from accounts.scope import OutOfScope
from hazards import lifecycle, services
from hazards.models import Inspection, Photo, Site, SiteMerge
from reports.periods import Period
from reports.selectors import _as_of_by_child, _current_by_child, sites_behind
from tests.conftest import inside

pytestmark = [pytest.mark.django_db, pytest.mark.frozen("2026-03-15T10:00")]
TODAY = dt.date(2026, 3, 15)


def counting_on(area, day: dt.date, child: str | None = None) -> list[str]:
    """The names of the sites counting in `area` on `day`, as the report lists them."""
    return [s["name"] for s in sites_behind(area, Period(day, day, "range"), "counting", child_code=child)]


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(out, format="JPEG")
    return out.getvalue()


D = dt.date.fromisoformat


@pytest.mark.parametrize("reason", ["filled_in", "drained", "fenced_off", "not_a_hazard", "works_finished"])
def test_a_manager_closes_a_site_with_each_reason(demo_tree, make_site, make_user, reason):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER)
    site = make_site(demo_tree["99101"], name="A", active_from=D("2025-01-01"))
    lifecycle.site_close(actor=manager, site=site, reason=reason, closed_at=D("2025-04-01"), note="seen by the owner")
    site.refresh_from_db()
    assert (site.closed_at, site.close_reason, site.close_note) == (D("2025-04-01"), reason, "seen by the owner")
    assert counting_on(demo_tree["99"], D("2025-03-31")) == ["A"]
    assert counting_on(demo_tree["99"], D("2025-04-01")) == []


def test_closing_is_refused_with_a_reason(demo_tree, make_site, make_user, inspect, superuser):
    site = make_site(demo_tree["99101"], active_from=D("2025-01-01"))
    inspect(site, "2025-06-10T09:00")
    with pytest.raises(ValidationError, match="Unknown close reason"):
        lifecycle.site_close(actor=superuser, site=site, reason="gone")
    with pytest.raises(ValidationError, match="before it became active"):
        lifecycle.site_close(actor=superuser, site=site, reason="filled_in", closed_at=D("2024-12-31"))
    with pytest.raises(ValidationError, match="inspected on 10/06/2025, after that day"):
        lifecycle.site_close(actor=superuser, site=site, reason="filled_in", closed_at=D("2025-06-01"))
    with pytest.raises(ValidationError, match="future"):
        lifecycle.site_close(actor=superuser, site=site, reason="filled_in", closed_at=D("2026-03-16"))
    with pytest.raises(OutOfScope):
        lifecycle.site_close(actor=make_user("lan", demo_tree["99101"]), site=site, reason="filled_in")
    lifecycle.site_close(actor=superuser, site=site, reason="filled_in", closed_at=D("2025-06-10"))
    with pytest.raises(ValidationError, match="already closed on 10/06/2025"):
        lifecycle.site_close(actor=superuser, site=site, reason="drained")


def test_reopening_counts_again_from_its_day_and_keeps_the_closed_days(demo_tree, make_site, superuser):
    root = demo_tree["99"]
    site = make_site(demo_tree["99101"], name="A", active_from=D("2025-01-01"))
    lifecycle.site_close(actor=superuser, site=site, reason="drained", closed_at=D("2025-04-01"))
    with pytest.raises(ValidationError, match="closed on 01/04/2025; it can reopen on that day or later"):
        lifecycle.site_reopen(actor=superuser, site=site, reopened_on=D("2025-03-01"))
    lifecycle.site_reopen(actor=superuser, site=site, reopened_on=D("2025-09-01"))
    site.refresh_from_db()
    assert site.closed_at is None and site.close_reason == ""
    assert counting_on(root, D("2025-03-31")) == ["A"]
    assert counting_on(root, D("2025-04-01")) == []
    assert counting_on(root, D("2025-08-31")) == []
    assert counting_on(root, D("2025-09-01")) == ["A"]
    assert counting_on(root, TODAY) == ["A"]
    # The current numbers kept by triggers agree with the computation as of today.
    current = Period(D("2026-01-01"), D("2026-06-30"), "half")
    assert _current_by_child(root, list(root.children.all()), current) == _as_of_by_child(root, current)


def test_reopening_on_the_closing_day_undoes_the_closure(demo_tree, make_site, superuser):
    site = make_site(demo_tree["99101"], name="A", active_from=D("2025-01-01"))
    lifecycle.site_close(actor=superuser, site=site, reason="filled_in", closed_at=D("2025-04-01"))
    lifecycle.site_reopen(actor=superuser, site=site, reopened_on=D("2025-04-01"))
    assert counting_on(demo_tree["99"], D("2025-06-30")) == ["A"]
    assert not site.versions.exists()


def test_late_inspection_dated_before_the_closure_is_stored_and_counts(demo_tree, make_site, inspect, superuser):
    root = demo_tree["99"]
    site = make_site(demo_tree["99101"], name="A", active_from=D("2025-01-01"))
    inspect(site, "2025-02-01T09:00", "none", "none")
    lifecycle.site_close(actor=superuser, site=site, reason="filled_in", closed_at=D("2025-08-01"))
    half = Period(D("2025-01-01"), D("2025-06-30"), "half")
    assert [s["name"] for s in sites_behind(root, half, "protected")] == []
    # A tablet that was offline since June sends its check of the site.
    inspect(site, "2025-06-20T09:00", "in_place", "complete")
    assert [s["name"] for s in sites_behind(root, half, "protected")] == ["A"]
    inspect(site, "2025-08-01T08:00", "in_place", "none")  # on the closing day: seen that day
    assert Inspection.objects.filter(site=site).count() == 3


def test_inspection_dated_after_the_closure_is_refused_with_the_reason(demo_tree, make_site, inspect, superuser):
    site = make_site(demo_tree["99101"], active_from=D("2025-01-01"))
    lifecycle.site_close(actor=superuser, site=site, reason="filled_in", closed_at=D("2025-08-01"))
    with pytest.raises(
        ValidationError, match="closed on 01/08/2025; an inspection dated 02/08/2025, after its closure"
    ):
        inspect(site, "2025-08-02T09:00")
    lifecycle.site_reopen(actor=superuser, site=site, reopened_on=D("2025-10-01"))
    with pytest.raises(ValidationError, match="closed from 01/08/2025 until it reopened on 01/10/2025"):
        inspect(site, "2025-09-15T09:00")
    inspect(site, "2025-10-02T09:00")
    assert Inspection.objects.filter(site=site).count() == 1


def test_a_site_is_active_from_its_first_observation(demo_tree, make_site, inspect):
    site = make_site(demo_tree["99101"], name="A")  # registered today
    assert counting_on(demo_tree["99"], D("2025-06-30")) == []
    inspect(site, "2025-05-10T09:00", "in_place", "none")
    site.refresh_from_db()
    assert site.active_from == D("2025-05-10")
    assert counting_on(demo_tree["99"], D("2025-05-10")) == ["A"]
    assert counting_on(demo_tree["99"], D("2025-05-09")) == []


def test_a_site_registered_offline_counts_from_the_tablets_observation(client, demo_tree, make_user):
    client.force_login(make_user("lan", demo_tree["99101"], Role.FIELD_WORKER))
    point = inside(demo_tree["99101"])
    inspections = [str(uuid.uuid4()) for _ in range(3)]
    record = {
        "id": str(uuid.uuid4()),
        "kind": "pond",
        "name": "A",
        "location": {"type": "Point", "coordinates": [point.x, point.y]},
        "inspection": {
            "id": inspections[0],
            "inspected_at": "2026-01-05T08:00:00+07:00",
            "signage": "none",
            "barrier": "none",
        },
    }
    assert client.post(reverse("sync-site"), record, content_type="application/json").status_code == 201
    for n, day in ((1, "2026-02-01"), (2, "2026-03-01")):
        later = {"id": inspections[n], "site": record["id"], "inspected_at": f"{day}T08:00:00+07:00"}
        later |= {"signage": "in_place", "barrier": "complete"}
        assert client.post(reverse("sync-inspection"), later, content_type="application/json").status_code == 201
    assert Site.objects.get(pk=record["id"]).active_from == D("2026-01-05")
    assert counting_on(demo_tree["99"], D("2026-01-31")) == ["A"]


def test_unticking_deep_water_takes_effect_from_its_date(demo_tree, make_site, superuser):
    root = demo_tree["99"]
    site = make_site(demo_tree["99101"], name="A", active_from=D("2024-01-01"))
    services.site_update(actor=superuser, site=site, deep_water=False, effective_from=D("2025-09-01"))
    assert counting_on(root, D("2025-06-30")) == ["A"]
    assert counting_on(root, D("2025-09-01")) == []
    assert counting_on(root, TODAY) == []
    # Ticked again today: counts from today, the months without deep water stay as they were.
    services.site_update(actor=superuser, site=site, deep_water=True)
    assert counting_on(root, TODAY) == ["A"]
    assert counting_on(root, D("2026-03-14")) == []
    assert counting_on(root, D("2025-08-31")) == ["A"]


def test_moving_a_site_to_another_area_takes_effect_from_its_date(demo_tree, make_site, superuser):
    root = demo_tree["99"]
    site = make_site(demo_tree["99101"], name="A", active_from=D("2024-01-01"))
    services.site_update(
        actor=superuser, site=site, location=inside(demo_tree["99201"]), effective_from=D("2025-10-01")
    )
    assert counting_on(root, D("2025-06-30"), child="991") == ["A"]
    assert counting_on(root, D("2025-06-30"), child="992") == []
    assert counting_on(root, TODAY, child="992") == ["A"]
    # Correcting the details since they took effect rewrites nothing before that day.
    services.site_update(
        actor=superuser, site=site, location=inside(demo_tree["99202"]), effective_from=D("2025-10-01")
    )
    assert counting_on(demo_tree["992"], TODAY, child="99202") == ["A"]
    assert counting_on(root, D("2025-06-30"), child="991") == ["A"]


def test_a_dated_change_is_checked(demo_tree, make_site, superuser):
    site = make_site(demo_tree["99101"], active_from=D("2024-01-01"))
    with pytest.raises(ValidationError, match="future"):
        services.site_update(actor=superuser, site=site, deep_water=False, effective_from=D("2026-04-01"))
    with pytest.raises(ValidationError, match="before 01/01/2024"):
        services.site_update(actor=superuser, site=site, deep_water=False, effective_from=D("2023-06-01"))
    services.site_update(actor=superuser, site=site, deep_water=False, effective_from=D("2025-01-01"))
    with pytest.raises(ValidationError, match="before 01/01/2025"):
        services.site_update(actor=superuser, site=site, deep_water=True, effective_from=D("2024-06-01"))


def test_the_admin_deletes_a_site_with_inspections_softly(client, demo_tree, make_site, inspect, make_user):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    site = make_site(demo_tree["99101"], active_from=D("2025-01-01"))
    inspection = inspect(site, "2025-02-01T09:00")
    services.photo_attach(actor=manager, inspection=inspection, data=jpeg())
    client.force_login(manager)
    url = reverse("admin:hazards_site_delete", args=[site.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Cannot delete" not in page.text
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert Site.all_objects.get(pk=site.pk).deleted_at is not None
    assert client.get(reverse("inspection-list")).json()["results"] == []
    assert not Inspection.objects.filter(pk=inspection.pk).exists()
    assert client.get(reverse("admin:hazards_inspection_changelist")).context["cl"].result_count == 0


def test_the_admin_deletes_an_inspection_with_photos_softly(client, demo_tree, make_site, inspect, make_user):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    site = make_site(demo_tree["99101"], active_from=D("2025-01-01"))
    inspection = inspect(site, "2025-02-01T09:00")
    services.photo_attach(actor=manager, inspection=inspection, data=jpeg())
    client.force_login(manager)
    url = reverse("admin:hazards_inspection_delete", args=[inspection.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert Inspection.all_objects.get(pk=inspection.pk).deleted_at is not None


@pytest.fixture
def duplicates(demo_tree, make_site, inspect, superuser):
    kept = make_site(demo_tree["99101"], name="Kept", active_from=D("2025-05-01"))
    inspect(kept, "2025-05-02T09:00", "in_place", "none")
    copy = make_site(demo_tree["99101"], name="Copy", active_from=D("2025-02-01"))
    checked = inspect(copy, "2025-02-03T09:00", "in_place", "complete")
    services.photo_attach(actor=superuser, inspection=checked, data=jpeg())
    return kept, copy, checked


def test_merging_a_duplicate_moves_its_evidence_and_removes_it_from_every_period(
    demo_tree, duplicates, make_user, superuser
):
    kept, copy, checked = duplicates
    root = demo_tree["99"]
    assert sorted(counting_on(root, D("2025-06-30"))) == ["Copy", "Kept"]
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER)
    merge = lifecycle.site_merge(actor=manager, duplicate=copy, kept=kept)
    assert counting_on(root, D("2025-03-01")) == ["Kept"]  # the kept site carries the earlier evidence
    assert counting_on(root, D("2025-06-30")) == ["Kept"]
    half = Period(D("2025-01-01"), D("2025-06-30"), "half")
    assert [s["name"] for s in sites_behind(root, half, "with_photo")] == []  # its latest check has no photo
    assert Inspection.objects.filter(site=kept).count() == 2
    assert Photo.objects.get().inspection.site_id == kept.pk
    copy.refresh_from_db()
    assert copy.deleted_at is not None and copy.duplicate_of_id == kept.pk and copy.close_reason == "duplicate"
    assert not Site.objects.filter(pk=copy.pk).exists()
    assert AuditEntry.objects.filter(table="hazards_inspection", object_id=str(checked.pk), action="update").exists()
    assert merge.inspections == [checked.pk] and merge.merged_by == manager

    with pytest.raises(OutOfScope):
        lifecycle.merge_undo(actor=manager, merge=merge)  # administrators undo merges
    lifecycle.merge_undo(actor=superuser, merge=merge)
    kept.refresh_from_db()
    assert kept.active_from == D("2025-05-01")
    assert sorted(counting_on(root, D("2025-06-30"))) == ["Copy", "Kept"]
    assert Inspection.objects.get(pk=checked.pk).site_id == copy.pk
    with pytest.raises(ValidationError, match="already undone"):
        lifecycle.merge_undo(actor=superuser, merge=merge)


def test_closing_as_a_duplicate_merges(demo_tree, duplicates, superuser):
    kept, copy, _checked = duplicates
    with pytest.raises(ValidationError, match="Name the site this one duplicates"):
        lifecycle.site_close(actor=superuser, site=copy, reason="duplicate")
    lifecycle.site_close(actor=superuser, site=copy, reason="duplicate", duplicate_of=kept)
    assert SiteMerge.objects.get().duplicate_id == copy.pk
    assert counting_on(demo_tree["99"], D("2025-03-01")) == ["Kept"]


def test_a_site_closed_as_a_duplicate_before_merges_existed_never_counts(demo_tree, make_site, superuser):
    kept = make_site(demo_tree["99101"], name="Kept", active_from=D("2025-01-01"))
    copy = make_site(demo_tree["99101"], name="Copy", active_from=D("2025-01-01"))
    # As stored by the registry before merging: closed, not deleted.
    Site.objects.filter(pk=copy.pk).update(closed_at=D("2025-09-01"), close_reason="duplicate", duplicate_of=kept)
    assert counting_on(demo_tree["99"], D("2025-06-30")) == ["Kept"]


def test_a_tablets_inspection_of_a_merged_duplicate_is_stored_on_the_site_kept(
    client, demo_tree, duplicates, make_user, superuser
):
    kept, copy, _checked = duplicates
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    lifecycle.site_merge(actor=superuser, duplicate=copy, kept=kept)
    client.force_login(worker)
    record = {
        "id": str(uuid.uuid4()),
        "site": str(copy.pk),
        "inspected_at": "2026-03-01T08:00:00+07:00",
        "signage": "in_place",
        "barrier": "complete",
    }
    response = client.post(reverse("sync-inspection"), record, content_type="application/json")
    assert response.status_code == 201 and response.json()["site"] == str(kept.pk)


def test_merging_is_checked(demo_tree, duplicates, make_site, make_user, superuser):
    kept, copy, _checked = duplicates
    with pytest.raises(ValidationError, match="itself"):
        lifecycle.site_merge(actor=superuser, duplicate=copy, kept=copy)
    elsewhere = make_site(demo_tree["99201"], name="Elsewhere", active_from=D("2025-01-01"))
    with pytest.raises(OutOfScope):
        lifecycle.site_merge(
            actor=make_user("nam", demo_tree["991"], Role.AREA_MANAGER), duplicate=copy, kept=elsewhere
        )
    lifecycle.site_close(actor=superuser, site=kept, reason="filled_in", closed_at=D("2025-12-01"))
    with pytest.raises(ValidationError, match="is closed; merge the duplicate into an open site"):
        lifecycle.site_merge(actor=superuser, duplicate=copy, kept=kept)

"""Deleting is soft: gone from the registry, restorable by an administrator, never
resurrected by a tablet sending the record again."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.scope import OutOfScope
from hazards import services
from hazards.models import Inspection, Site
from tests.conftest import inside
from tests.hazards.site_list import fetch_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(demo_tree, make_user):
    return make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)


def sync_site(client, area, site_id, inspection_id):
    point = inside(area)
    record = {
        "id": str(site_id),
        "kind": "pond",
        "name": "Ao",
        "location": {"type": "Point", "coordinates": [point.x, point.y]},
        "inspection": {
            "id": str(inspection_id),
            "inspected_at": "2026-05-01T08:00:00+07:00",
            "signage": "none",
            "barrier": "none",
        },
    }
    return client.post(reverse("sync-site"), record, content_type="application/json"), record


def test_deleted_site_leaves_lists_and_a_replay_does_not_resurrect_it(client, demo_tree, worker, superuser):
    client.force_login(worker)
    response, record = sync_site(client, demo_tree["99101"], uuid.uuid4(), uuid.uuid4())
    assert response.status_code == 201
    site = Site.objects.get(pk=record["id"])
    services.site_delete(actor=superuser, site=site)
    assert not Site.objects.filter(pk=site.pk).exists()
    assert fetch_rows(client) == []

    replay = client.post(reverse("sync-site"), record, content_type="application/json")
    assert replay.status_code == 410 and replay.json()["code"] == "deleted"
    inspection = {
        "id": str(uuid.uuid4()),
        "site": record["id"],
        "inspected_at": timezone.now().isoformat(),
        "signage": "in_place",
        "barrier": "complete",
    }
    assert client.post(reverse("sync-inspection"), inspection, content_type="application/json").status_code == 410
    assert not Site.objects.filter(pk=site.pk).exists()
    assert Inspection.all_objects.filter(site_id=site.pk).count() == 1


def test_only_an_administrator_restores(demo_tree, make_user, make_site):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER)
    admin_user = make_user("quantri", demo_tree["99"], Role.ADMINISTRATOR)
    site = make_site(demo_tree["99101"])
    services.site_delete(actor=manager, site=site)
    with pytest.raises(OutOfScope):
        services.site_restore(actor=manager, site=site)
    services.site_restore(actor=admin_user, site=site)
    assert Site.objects.filter(pk=site.pk).exists()


def test_deleted_inspection_no_longer_sets_the_state(demo_tree, make_site, inspect, superuser):
    site = make_site(demo_tree["99101"])
    inspect(site, "2026-01-01T08:00", "none", "none")
    latest = inspect(site, "2026-02-01T08:00", "in_place", "complete")
    services.inspection_delete(actor=superuser, inspection=latest)
    site.refresh_from_db()
    assert (site.signage, site.barrier) == ("none", "none")
    services.inspection_delete(actor=superuser, inspection=latest, deleted=False)
    site.refresh_from_db()
    assert site.is_protected


def test_administrator_restores_from_the_admin_bin(client, demo_tree, make_user, make_site, superuser):
    site = make_site(demo_tree["99101"], name="Ao bị xóa")
    services.site_delete(actor=superuser, site=site)
    admin_user = make_user("quantri", demo_tree["99"], Role.ADMINISTRATOR, is_staff=True)
    client.force_login(admin_user)
    listing = client.get(reverse("admin:hazards_site_changelist"))
    assert "Ao bị xóa" not in listing.text
    bin_page = client.get(reverse("admin:hazards_site_changelist") + "?deleted=yes")
    assert "Ao bị xóa" in bin_page.text
    client.post(
        reverse("admin:hazards_site_changelist") + "?deleted=yes",
        {"action": "restore_sites", "_selected_action": [site.pk]},
    )
    assert Site.objects.filter(pk=site.pk).exists()


def test_the_deleted_filter_is_offered_only_to_who_may_restore(client, demo_tree, make_user):
    """A manager restores no site: the admin's list offers them neither the bin nor its action."""
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    client.force_login(manager)
    listing = client.get(reverse("admin:hazards_site_changelist"), HTTP_ACCEPT_LANGUAGE="en")
    assert listing.status_code == 200 and "Deleted sites" not in listing.text
    assert "restore_sites" not in listing.text
    admin_user = make_user("quantri", demo_tree["99"], Role.ADMINISTRATOR, is_staff=True)
    client.force_login(admin_user)
    assert "Deleted sites" in client.get(reverse("admin:hazards_site_changelist"), HTTP_ACCEPT_LANGUAGE="en").text

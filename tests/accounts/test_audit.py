"""The audit trail: who changed what, before and after, bulk updates included."""

import json

import pytest
from django.db import connection
from django.urls import reverse

from accounts.audit import act_as
from accounts.derived import AUDITED
from accounts.models import AuditEntry, Membership, Role
from areas.loader import load_boundaries
from hazards import services
from hazards.models import Site
from tests.conftest import communes_covering

pytestmark = pytest.mark.django_db


def test_service_writes_are_recorded_with_actor_and_values(demo_tree, make_user, make_site, inspect):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER)
    site = make_site(demo_tree["99101"], actor=manager, name="Ao cũ")
    created = AuditEntry.objects.get(table="hazards_site", action="insert", object_id=str(site.pk))
    assert created.actor == manager and created.changes["name"] == [None, "Ao cũ"]
    assert created.area_path == "/99/991/99101/"
    services.site_update(actor=manager, site=site, name="Ao mới")
    update = AuditEntry.objects.filter(table="hazards_site", action="update").latest("id")
    assert update.actor == manager
    assert update.changes == {"name": ["Ao cũ", "Ao mới"]}
    inspect(site, "2026-01-02T08:00", actor=manager)
    entries = AuditEntry.objects.filter(site_id=site.pk)
    assert {e.table for e in entries} == {"hazards_site", "hazards_inspection"}


def test_bulk_update_is_recorded_row_by_row(demo_tree, make_user, make_site):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER)
    sites = [make_site(demo_tree["99101"]) for _i in range(3)]
    act_as(manager)
    Site.objects.filter(area=demo_tree["99101"]).update(responsible_party="UBND xã")
    bulk = AuditEntry.objects.filter(table="hazards_site", action="update", changes__has_key="responsible_party")
    assert sorted(e.object_id for e in bulk) == sorted(str(s.pk) for s in sites)
    assert all(e.actor == manager and e.changes["responsible_party"] == ["", "UBND xã"] for e in bulk)


def test_boundary_reload_reassignment_is_recorded(demo_tree, make_site, tmp_path):
    site = make_site(demo_tree["99102"])
    path = tmp_path / "communes.geojson"
    path.write_text(json.dumps(communes_covering("99101", site.location)))
    act_as(None)
    load_boundaries([path])
    moved = AuditEntry.objects.get(object_id=str(site.pk), action="update", changes__has_key="area_id")
    assert moved.changes["area_id"] == [demo_tree["99102"].pk, demo_tree["99101"].pk]
    assert moved.actor is None  # the loader ran outside any request: the system did it


def test_membership_changes_are_recorded(demo_tree, make_user, superuser):
    user = make_user("lan")
    act_as(superuser)
    membership = Membership.objects.create(user=user, area=demo_tree["99101"], role=Role.FIELD_WORKER)
    membership.delete()
    actions = list(AuditEntry.objects.filter(table="accounts_membership").values_list("action", "actor"))
    assert sorted(actions) == [("delete", superuser.pk), ("insert", superuser.pk)]


def test_admin_change_is_attributed_through_the_request(client, demo_tree, make_user, make_site):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    site = make_site(demo_tree["99101"])
    client.force_login(manager)
    response = client.post(
        reverse("admin:hazards_site_changelist"),
        {"action": "delete_selected", "_selected_action": [site.pk], "post": "yes"},
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(object_id=str(site.pk), action="update", changes__has_key="deleted_at")
    assert entry.actor == manager
    page = client.get(reverse("admin:hazards_site_changelist") + "?deleted=yes")
    assert site.code not in page.text  # managers do not see the bin; administrators do


def test_audit_page_is_for_administrators_and_scoped(client, demo_tree, make_user, make_site):
    make_site(demo_tree["99101"], name="Ao huyện 991")
    make_site(demo_tree["99201"], name="Ao huyện 992")
    admin_991 = make_user("admin991", demo_tree["991"], Role.ADMINISTRATOR, is_staff=True)
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    client.force_login(manager)
    assert client.get(reverse("admin:accounts_auditentry_changelist")).status_code == 403
    client.force_login(admin_991)
    page = client.get(reverse("admin:accounts_auditentry_changelist"))
    assert page.status_code == 200
    shown = {e.area_path for e in page.context["cl"].result_list}
    assert shown and all(p.startswith("/99/991/") for p in shown)
    # The record types offered are every audited table, those the apps above accounts
    # declare in their ready() too (the admin is loaded before they are ready).
    (record_types,) = [f for f in page.context["cl"].filter_specs if getattr(f, "parameter_name", None) == "table"]
    offered = {value for value, _label in record_types.lookup_choices}
    assert offered == set(AUDITED) and {"hazards_site", "reports_target"} <= offered


def test_site_page_shows_its_history(client, demo_tree, superuser, make_site):
    site = make_site(demo_tree["99101"], name="Ao lịch sử")
    services.site_update(actor=superuser, site=site, name="Ao đổi tên")
    client.force_login(superuser)
    page = client.get(reverse("admin:hazards_site_change", args=[site.pk]))
    assert "Ao lịch sử" in page.text and "Ao đổi tên" in page.text and "root" in page.text
    # In the reader's words: the field's and the record's names, not the database's.
    assert "<div>Name: Ao lịch sử → Ao đổi tên</div>" in page.text and "Changed · Site" in page.text
    assert "hazards_site" not in page.text and "<code>" not in page.text


def test_a_deleted_record_is_recorded_whole(demo_tree, make_user, superuser):
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    membership = Membership.objects.get(user=worker)
    act_as(superuser)
    Membership.objects.filter(pk=membership.pk).delete()
    deleted = AuditEntry.objects.get(table="accounts_membership", action="delete", object_id=str(membership.pk))
    assert deleted.actor == superuser
    assert deleted.changes["role"] == [Role.FIELD_WORKER, None]
    assert deleted.area_path == "/99/991/99101/"


def test_the_coverage_check_knows_every_audited_table():
    """verify_derived looks for missing entries in the tables accounts/sql/audit.sql audits."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE '%%\\_audit\\_%%' AND NOT tgisinternal"
        )
        audited = {table for (table,) in cursor.fetchall()}
    assert audited == set(AUDITED)

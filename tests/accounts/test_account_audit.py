"""The audit trail holds what the review found missing: device tokens issued and revoked,
accounts deactivated, passwords set (never the hash), photos added, with who did it, a
tablet sending with its token included."""

import io
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.models import AuditEntry, Role
from accounts.tokens import token_issue, token_revoke

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(demo_tree, make_user):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    return manager, worker


def entries(table, object_id) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(table=table, object_id=str(object_id)).order_by("id"))


def test_token_issue_and_revoke(people):
    manager, worker = people
    token, key = token_issue(actor=manager, user=worker, name="Tablet A")
    token_revoke(actor=manager, token=token)
    issued, revoked = entries("accounts_devicetoken", token.pk)
    assert (issued.action, issued.actor, revoked.action, revoked.actor) == ("insert", manager, "update", manager)
    assert issued.changes["name"] == [None, "Tablet A"] and issued.changes["key_hash"] == [None, "…"]
    assert list(revoked.changes) == ["revoked_at"]
    assert key not in str(issued.changes) and token.key_hash not in str(issued.changes)
    assert issued.area_path == "/99/991/99101/"  # the worker's area: its administrators read it


def test_deactivation_by_action_and_by_form(people, demo_tree, make_user):
    manager, worker = people
    second = make_user("hoa", demo_tree["99102"], Role.FIELD_WORKER)
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(manager)
    admin.post(reverse("admin:accounts_user_changelist"), {"action": "deactivate", "_selected_action": [worker.pk]})
    (by_action,) = [e for e in entries("accounts_user", worker.pk) if e.action == "update"]
    assert by_action.changes == {"is_active": [True, False]} and by_action.actor == manager
    membership = second.memberships.get()
    form = {
        "username": "hoa",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-0-id": membership.pk,
        "memberships-0-user": second.pk,
        "memberships-0-area": membership.area_id,
        "memberships-0-role": membership.role,
    }  # is_active left out: unticked
    assert admin.post(reverse("admin:accounts_user_change", args=[second.pk]), form).status_code == 302
    (by_form,) = [e for e in entries("accounts_user", second.pk) if e.action == "update"]
    assert by_form.changes["is_active"] == [True, False] and by_form.actor == manager


def test_a_password_set_by_a_manager_is_recorded_without_its_hash(people):
    manager, worker = people
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(manager)
    new = "Mat-khau-moi-2026!"
    response = admin.post(
        reverse("admin:auth_user_password_change", args=[worker.pk]),
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302
    (changed,) = [e for e in entries("accounts_user", worker.pk) if e.action == "update"]
    assert changed.changes == {"password": ["…", "…"]} and changed.actor == manager
    worker.refresh_from_db()
    assert worker.password not in str(changed.changes)


def test_a_photo_sent_with_a_token_names_its_sender(people, make_site, inspect):
    _manager, worker = people
    site = make_site(worker.memberships.get().area)
    inspection = inspect(site, "2026-04-01T09:00", actor=worker)
    _token, key = token_issue(actor=_manager, user=worker, name="tablet")
    jpeg = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(jpeg, format="JPEG")
    tablet = Client(HTTP_AUTHORIZATION=f"Token {key}")
    photo_id = uuid.uuid4()
    response = tablet.put(
        reverse("sync-photo", args=[photo_id]) + f"?inspection={inspection.pk}",
        jpeg.getvalue(),
        content_type="image/jpeg",
        headers={"Content-Disposition": 'attachment; filename="p.jpg"'},
    )
    assert response.status_code == 201
    (photo,) = entries("hazards_photo", photo_id)
    assert photo.actor == worker and photo.site_id == site.pk and photo.area_path == site.area.path
    site_updates = [
        e for e in entries("hazards_site", site.pk) if e.action == "update" and "photo_evidence" in e.changes
    ]
    assert site_updates and all(e.actor == worker for e in site_updates)


def test_a_person_changes_their_own_password_and_their_other_sessions_end(people):
    _manager, worker = people
    here, elsewhere = Client(HTTP_ACCEPT_LANGUAGE="en"), Client(HTTP_ACCEPT_LANGUAGE="en")
    for browser in (here, elsewhere):
        browser.force_login(worker)
    new = "Mat-khau-moi-2026!"
    response = here.post(
        reverse("password-change"), {"old_password": "pw-Secret-123", "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302 and here.get(response["Location"]).status_code == 200
    (changed,) = [e for e in entries("accounts_user", worker.pk) if e.action == "update"]
    assert changed.changes == {"password": ["…", "…"]} and changed.actor == worker
    assert elsewhere.get(reverse("password-change")).status_code == 302  # signed out there

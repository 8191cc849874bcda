"""Pairing a tablet: the manager's admin page shows a one-time code and its QR code; the
tablet spends it once at POST /api/v1/pair/ (no sign-in, no CSRF token) for the worker's
own device token, which works on the API until it is revoked and never with a session."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.lockout import FAILURES_PER_USER_AND_ADDRESS
from accounts.models import AuditEntry, DeviceToken, Membership, PairingCode, Role
from accounts.pairing import ALPHABET
from accounts.tokens import token_revoke

pytestmark = pytest.mark.django_db

SHOWN_CODE = re.compile(rf"\b([{ALPHABET}]{{4}}-[{ALPHABET}]{{4}})\b")


@pytest.fixture
def people(demo_tree, make_user):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER, first_name="Lan", last_name="Nguyễn")
    return manager, worker


def start_pairing(manager, worker, name="Máy tính bảng 3") -> tuple[str, str]:
    """The admin page a manager sees after asking to pair a tablet: the code and the page."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)
    page = client.post(reverse("admin:accounts_devicetoken_add"), {"user": worker.pk, "name": name})
    assert page.status_code == 200
    html = page.content.decode()
    return SHOWN_CODE.search(html).group(1), html


def pair(code, device_name="Tab A8 của Lan", address="10.1.1.1", **client_options):
    tablet = Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en", enforce_csrf_checks=True, **client_options)
    return tablet.post(reverse("pair"), {"code": code, "device_name": device_name}, content_type="application/json")


def test_the_admin_shows_a_code_and_its_qr_code_instead_of_a_key(people):
    manager, worker = people
    code, html = start_pairing(manager, worker)
    assert "http://testserver/survey/#pair=" + code in html
    assert "<svg" in html and "<img" not in html.split("pairing-qr")[1][:200]  # drawn inline, nothing fetched
    assert "will not be shown again" not in html and not DeviceToken.objects.exists()
    pairing = PairingCode.objects.get()
    assert code.replace("-", "") not in pairing.code_hash and pairing.user == worker
    assert abs(pairing.expires_at - pairing.created_at - dt.timedelta(minutes=15)) < dt.timedelta(seconds=1)


def test_the_tablet_spends_the_code_for_a_token_that_works_on_the_api(people):
    manager, worker = people
    code, _html = start_pairing(manager, worker)
    answer = pair(code)
    assert answer.status_code == 200
    body = answer.json()
    assert body["username"] == "lan" and body["full_name"] == "Lan Nguyễn"
    key = body["token"]
    token = DeviceToken.objects.get()
    assert token.name == "Tab A8 của Lan" and token.created_by == manager and key not in token.key_hash
    tablet = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert tablet.get(reverse("survey-me")).json()["username"] == "lan"
    assert tablet.get(reverse("site-list")).status_code == 200
    assert tablet.get(reverse("ogc-collections")).status_code == 200
    # Spent: the same code again is refused.
    again = pair(code)
    assert again.status_code == 400 and again.json()["code"] == "pairing_invalid"
    # Revoked: the tablet stops at once.
    token_revoke(actor=manager, token=token)
    assert tablet.get(reverse("survey-me")).status_code == 401


@pytest.mark.parametrize("typed", ["{lower}", "{bare}", " {code} ", "{fullwidth}"])
def test_the_code_may_be_typed_loosely(people, typed):
    manager, worker = people
    code, _html = start_pairing(manager, worker)
    variants = {
        "code": code,
        "lower": code.lower(),
        "bare": code.replace("-", ""),
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) if c != "-" else c for c in code),
    }
    assert pair(typed.format(**variants)).status_code == 200


def test_an_expired_code_is_refused(people):
    manager, worker = people
    with time_machine.travel(timezone.now(), tick=False) as clock:
        code, _html = start_pairing(manager, worker)
        clock.shift(dt.timedelta(minutes=15, seconds=1))
        refused = pair(code)
    assert refused.status_code == 400
    assert refused.json() == {
        "code": "pairing_invalid",
        "detail": "This pairing code is wrong, has expired or was already used. Ask your manager for a new one.",
    }
    assert not DeviceToken.objects.exists()


def test_wrong_codes_are_throttled_like_sign_ins(people):
    manager, worker = people
    code, _html = start_pairing(manager, worker)
    for attempt in range(FAILURES_PER_USER_AND_ADDRESS):
        assert pair(f"WRNG-{attempt}{attempt}{attempt}{attempt}").json()["code"] == "pairing_invalid"
    throttled = pair(code)
    assert throttled.status_code == 429 and throttled.json()["code"] == "pairing_throttled"
    assert "Too many wrong pairing codes from this address" in throttled.json()["detail"]
    assert pair(code, address="10.1.1.2").status_code == 200  # another tablet, elsewhere


@pytest.mark.parametrize(
    "body", [{}, {"code": 12345678}, {"code": ["ABCD-EFGH"]}, {"code": None, "device_name": {"a": 1}}, []]
)
def test_malformed_requests_are_refused_as_invalid_codes(body):
    answer = Client().post(reverse("pair"), body, content_type="application/json")
    assert answer.status_code == 400 and answer.json()["code"] == "pairing_invalid"


def test_a_code_outlives_no_change_of_who_may_manage_the_worker(people, demo_tree):
    manager, worker = people
    code, _html = start_pairing(manager, worker)
    Membership.objects.create(user=worker, area=demo_tree["99"], role=Role.VIEWER)  # now above the manager
    assert pair(code).status_code == 400
    assert not DeviceToken.objects.exists()


def test_the_pairing_and_the_token_are_in_the_audit_trail(people):
    manager, worker = people
    code, _html = start_pairing(manager, worker)
    pair(code)
    entries = AuditEntry.objects.filter(table__in=["accounts_pairingcode", "accounts_devicetoken"])
    assert {(e.table, e.action, e.actor_id) for e in entries} >= {
        ("accounts_pairingcode", "insert", manager.pk),
        ("accounts_devicetoken", "insert", manager.pk),
        ("accounts_pairingcode", "update", manager.pk),
    }
    for entry in entries:
        assert entry.area_path == "/99/991/99101/"
        for hidden in ("code_hash", "key_hash"):
            if hidden in entry.changes:
                assert set(entry.changes[hidden]) <= {None, "…"}


def test_a_manager_cannot_pair_a_tablet_for_someone_out_of_reach(people, demo_tree, make_user):
    manager, _worker = people
    stranger = make_user("ba", demo_tree["99201"], Role.FIELD_WORKER)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)
    page = client.post(reverse("admin:accounts_devicetoken_add"), {"user": stranger.pk, "name": "x"})
    assert page.status_code == 200 and not PairingCode.objects.exists()


def test_device_names_with_control_characters_are_not_stored(people):
    """A device's name is listed in the admin and the audit trail: the stored text rule.
    The manager's form refuses one; a tablet's own name (optional, from an unsigned-in
    request) gives way to the manager's."""
    manager, worker = people
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)
    refused = client.post(reverse("admin:accounts_devicetoken_add"), {"user": worker.pk, "name": "Máy\x1b[2J 3"})
    assert refused.status_code == 200 and "contains the control character U+001B" in refused.text
    assert not PairingCode.objects.exists()
    code, _html = start_pairing(manager, worker, name="Máy tính bảng 3")
    assert pair(code, device_name="Tab\x07\x00 A8").status_code == 200
    assert DeviceToken.objects.get().name == "Máy tính bảng 3"

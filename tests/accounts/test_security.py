"""Sign-in lockout, Content Security Policy, device tokens and account management."""

import base64
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from accounts.lockout import FAILURES_PER_USER_AND_ADDRESS
from accounts.models import DeviceToken, Membership, Role, User
from accounts.scope import OutOfScope
from accounts.tokens import token_issue, token_revoke

pytestmark = pytest.mark.django_db


def sign_in(username, password, address="10.0.0.1", **headers):
    client = Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en", **headers)
    response = client.post(reverse("login"), {"username": username, "password": password})
    return response, client


def test_lockout_after_repeated_failures_not_for_another_user(make_user):
    make_user("lan")
    make_user("hoa")
    for _attempt in range(FAILURES_PER_USER_AND_ADDRESS):
        response, _client = sign_in("lan", "wrong")
        assert response.status_code == 200
    response, _client = sign_in("lan", "pw-Secret-123")
    assert response.status_code == 200 and "Too many failed sign-ins" in response.text
    # Another person behind the same address (a commune office's shared connection) signs in.
    response, _client = sign_in("hoa", "pw-Secret-123")
    assert response.status_code == 302
    # The same person from another address is not locked out either.
    response, _client = sign_in("lan", "pw-Secret-123", address="10.0.0.2")
    assert response.status_code == 302


def test_spoofed_forwarded_for_does_not_bypass_the_lockout(make_user):
    make_user("lan")
    for attempt in range(FAILURES_PER_USER_AND_ADDRESS):
        sign_in("lan", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}")
    response, _client = sign_in("lan", "pw-Secret-123", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert "Too many failed sign-ins" in response.text


def test_behind_a_trusted_proxy_the_proxy_seen_address_counts(make_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    make_user("lan")
    for _attempt in range(FAILURES_PER_USER_AND_ADDRESS):
        # The client prepends a fake hop; the proxy appends the real one.
        sign_in("lan", "wrong", address="127.0.0.1", HTTP_X_FORWARDED_FOR=f"1.2.3.{_attempt}, 203.0.113.9")
    locked, _client = sign_in("lan", "pw-Secret-123", address="127.0.0.1", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.9")
    assert "Too many failed sign-ins" in locked.text
    other, _client = sign_in("lan", "pw-Secret-123", address="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.10")
    assert other.status_code == 302


def test_admin_login_is_protected_too(make_user):
    make_user("nam", is_staff=True)
    client = Client(REMOTE_ADDR="10.0.0.5", HTTP_ACCEPT_LANGUAGE="en")
    for _attempt in range(FAILURES_PER_USER_AND_ADDRESS):
        client.post(reverse("admin:login"), {"username": "nam", "password": "wrong"})
    response = client.post(reverse("admin:login"), {"username": "nam", "password": "pw-Secret-123"})
    assert "Too many failed sign-ins" in response.text


HTML_PAGES = [
    "login",
    "admin:index",
    "admin:hazards_site_changelist",
    "admin:hazards_site_add",
    "admin:hazards_inspection_changelist",
    "admin:areas_area_changelist",
    "admin:accounts_user_changelist",
    "admin:accounts_auditentry_changelist",
    "survey",
    "api-docs",
]


@pytest.mark.parametrize("name", HTML_PAGES)
def test_every_html_page_has_a_content_security_policy(client, superuser, demo_tree, name):
    if name != "login":
        client.force_login(superuser)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_inline_scripts_carry_the_nonce(client, superuser, demo_tree, make_site):
    make_site(demo_tree["99101"])
    client.force_login(superuser)
    response = client.get(reverse("admin:hazards_site_changelist"))
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in response.text


def test_device_token_authenticates_until_revoked(demo_tree, make_user):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    token, key = token_issue(actor=manager, user=worker, name="Máy tính bảng 1")
    assert key not in token.key_hash and token.prefix == key[:8]
    tablet = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert tablet.get(reverse("survey-me")).json()["username"] == "lan"
    token_revoke(actor=manager, token=token)
    response = tablet.get(reverse("survey-me"))
    assert response.status_code == 401
    assert Client(HTTP_AUTHORIZATION="Token not-a-key").get(reverse("survey-me")).status_code == 401


def test_token_writes_need_no_csrf_and_are_scoped(demo_tree, make_user, superuser):
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    _token, key = token_issue(actor=superuser, user=worker, name="tablet")
    tablet = Client(HTTP_AUTHORIZATION=f"Token {key}", enforce_csrf_checks=True)
    record = {
        "id": str(uuid.uuid4()),
        "site": str(uuid.uuid4()),
        "inspected_at": "2026-01-01T08:00:00+07:00",
        "signage": "none",
        "barrier": "none",
    }
    assert tablet.post(reverse("sync-inspection"), record, content_type="application/json").status_code == 404


def test_manager_cannot_issue_tokens_outside_the_district(demo_tree, make_user):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER)
    stranger = make_user("ba", demo_tree["99201"], Role.FIELD_WORKER)
    with pytest.raises(OutOfScope):
        token_issue(actor=manager, user=stranger, name="x")
    assert not DeviceToken.objects.exists()


def test_token_pages_list_issue_and_revoke(client, demo_tree, make_user):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    client.force_login(manager)
    response = client.post(
        reverse("admin:accounts_devicetoken_add"), {"user": worker.pk, "name": "QGIS", "device": "client"}, follow=True
    )
    token = DeviceToken.objects.get()
    assert token.prefix in response.text and "will not be shown again" in response.text
    client.post(reverse("admin:accounts_devicetoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None


def membership_form(prefix="memberships", rows=()):
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MIN_NUM_FORMS": "0"}
    for i, (area, role) in enumerate(rows):
        data[f"{prefix}-{i}-area"] = area.pk
        data[f"{prefix}-{i}-role"] = role
    return data


def test_manager_creates_accounts_only_in_own_district(client, demo_tree, make_user, superuser):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    client.force_login(manager)
    base = {
        "username": "moi",
        "password1": "Mat-khau-dai-2026",
        "password2": "Mat-khau-dai-2026",
        "usable_password": "true",
    }
    ok = client.post(
        reverse("admin:accounts_user_add"), {**base, **membership_form(rows=[(demo_tree["99102"], Role.FIELD_WORKER)])}
    )
    assert ok.status_code == 302
    assert Membership.objects.get(user__username="moi").area.code == "99102"

    outside = {**base, "username": "xa", **membership_form(rows=[(demo_tree["99201"], Role.FIELD_WORKER)])}
    assert client.post(reverse("admin:accounts_user_add"), outside).status_code == 200
    admin_role = {**base, "username": "qt", **membership_form(rows=[(demo_tree["99102"], Role.ADMINISTRATOR)])}
    assert client.post(reverse("admin:accounts_user_add"), admin_role).status_code == 200
    assert not User.objects.filter(username__in=["xa", "qt"]).exists()


def test_manager_lists_and_deactivates_only_own_people(client, demo_tree, make_user, superuser):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    mine = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    theirs = make_user("ba", demo_tree["99201"], Role.FIELD_WORKER)
    client.force_login(manager)
    listing = client.get(reverse("admin:accounts_user_changelist"))
    names = {u.username for u in listing.context["cl"].result_list}
    assert "lan" in names and "ba" not in names and "root" not in names
    assert client.get(reverse("admin:accounts_user_change", args=[theirs.pk])).status_code in (302, 404)
    client.post(
        reverse("admin:accounts_user_changelist"), {"action": "deactivate", "_selected_action": [mine.pk, theirs.pk]}
    )
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert not mine.is_active and theirs.is_active


def test_field_worker_and_viewer_manage_no_accounts(client, demo_tree, make_user):
    viewer = make_user("xem", demo_tree["99"], Role.VIEWER, is_staff=True)
    client.force_login(viewer)
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
    assert client.get(reverse("admin:accounts_devicetoken_changelist")).status_code == 403


def test_the_api_takes_a_device_token_as_bearer_or_basic_never_the_password(demo_tree, make_user, superuser):
    """GIS clients that cannot send `Token` (QGIS 3.22 signs in only with Basic) read the
    API with the user name and a device token; the account password is refused over Basic
    (it would sit in every project file), and revoking the token closes every form."""
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    make_user("hoa", demo_tree["99101"], Role.FIELD_WORKER)
    token, key = token_issue(actor=superuser, user=worker, name="QGIS")
    url = reverse("site-list")

    def basic(username, password):
        return Client(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{username}:{password}".encode()).decode())

    for client in (basic("lan", key), Client(HTTP_AUTHORIZATION=f"Bearer {key}")):
        assert client.get(url).status_code == 200
    password = basic("lan", "pw-Secret-123").get(url)
    # In Vietnamese, the interface's default: "your account password is not accepted here".
    assert password.status_code == 401 and "Mật khẩu tài khoản không được chấp nhận" in password.json()["detail"]
    assert password["WWW-Authenticate"].startswith("Basic realm=")
    assert basic("hoa", key).get(url).status_code == 401  # lan's token under another name
    token_revoke(actor=superuser, token=token)
    for client in (basic("lan", key), Client(HTTP_AUTHORIZATION=f"Bearer {key}")):
        assert client.get(url).status_code == 401


def test_basic_takes_a_vietnamese_user_name_in_utf8_or_latin1(demo_tree, make_user, superuser):
    """QGIS sends the user name in UTF-8; a client that ignores charset="UTF-8" sends
    Latin-1, which still names the same account when the name fits in it."""
    user = make_user("lân", demo_tree["99101"], Role.VIEWER)
    _token, key = token_issue(actor=superuser, user=user, name="QGIS")
    for encoding in ("utf-8", "latin-1"):
        credential = base64.b64encode(f"lân:{key}".encode(encoding)).decode()
        assert Client(HTTP_AUTHORIZATION=f"Basic {credential}").get(reverse("site-list")).status_code == 200


def test_the_api_schema_and_its_docs_are_for_people_and_devices_that_sign_in(client, demo_tree, make_user, superuser):
    """The schema names every route, filter and error of the API: anonymous clients got it
    whole (pentest I10). A session or a device token reads it, as /ogc/'s own API document,
    which asked for sign-in already."""
    for name in ("api-schema", "api-docs", "ogc-api"):
        assert client.get(reverse(name)).status_code == 401, name
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    _token, key = token_issue(actor=superuser, user=worker, name="QGIS")
    device = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert "/api/v1/sync/batch/" in device.get(reverse("api-schema"), {"format": "json"}).json()["paths"]
    assert device.get(reverse("ogc-api")).status_code == 200
    client.force_login(worker)
    assert client.get(reverse("api-docs")).status_code == 200
    assert client.get(reverse("api-schema")).status_code == 200

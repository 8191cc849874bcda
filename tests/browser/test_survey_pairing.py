"""Pairing a tablet (issue #19, item 7), end to end on the production stack: a manager asks
for a pairing code in the admin (Device tokens → add), the worker types the short code in
the survey app (the QR code opens /survey/#pair=ABCD-EFGH, the same form filled in), the
tablet gets its own device token from POST /api/v1/pair/ and sends with it, with no
session; the manager revokes it in the admin and the tablet's next contact stops, with a
message that says so and every record kept."""

import re

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from accounts.models import DeviceToken, Role
from accounts.pairing import ALPHABET, pairing_start
from hazards.models import Site
from tests.browser.conftest import login
from tests.browser.tablet import READY, fill_register, save, tablet, unsent, wait_unsent
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOWN_CODE = re.compile(rf"^[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")


def pairing_code_from_admin(page, stack, worker_name: str, device_name: str) -> tuple[str, str]:
    """What the manager does in the admin: the code shown and the link in its QR code."""
    page.goto(f"{stack.url}/admin/accounts/devicetoken/add/")
    # The worker is chosen as a person does in the admin's search-as-you-type list.
    page.locator(".field-user .select2-selection").click()
    page.locator(".select2-search__field").fill(worker_name)
    page.locator(".select2-results__option", has_text=worker_name).click()
    page.fill("#id_name", device_name)
    page.locator("input[name=_save]").click()
    code = page.locator(".pairing-code").inner_text().strip()
    assert SHOWN_CODE.match(code)
    assert page.locator(".pairing-qr svg").is_visible()
    return code, page.locator(".pairing code").inner_text()


def revoke_in_admin(page, stack, device_name: str) -> None:
    page.goto(f"{stack.url}/admin/accounts/devicetoken/")
    page.locator("#result_list tr", has_text=device_name).locator("input.action-select").check()
    page.select_option("select[name=action]", "revoke")
    page.locator("button[name=index]").click()
    page.locator(".messagelist").wait_for()


def test_a_tablet_paired_with_the_admin_code_sends_with_its_token_until_revoked(
    stack_sessions, browser, page, stack, worker, demo_tree, make_user
):
    make_user("quanly", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    login(page, stack, "quanly")
    code, link = pairing_code_from_admin(page, stack, "lan", "Máy bảng xã")
    assert link == f"{stack.url}/survey/#pair={code}"

    context = tablet(browser, inside(demo_tree["99101"]))
    app = context.new_page()
    api_calls = []
    app.on("request", lambda r: api_calls.append(r) if "/api/v1/" in r.url and "/pair/" not in r.url else None)
    # No one has signed in on this tablet: the app asks to be paired.
    app.goto(f"{stack.url}/survey/")
    app.wait_for_selector("#view-pair:not([hidden])")
    form = app.locator("#pair-form")
    form.locator("input[name=code]").fill("ABCD-EFGH")
    form.locator("input[name=device_name]").fill("Tab A8 của Lan")
    form.locator("button[type=submit]").tap()
    form.locator(".form-errors", has_text="Mã ghép nối này sai, đã hết hạn hoặc đã được dùng").wait_for()
    assert not DeviceToken.objects.exists()

    # Typed as people type it: lower case, a space for the dash.
    api_calls.clear()
    form.locator("input[name=code]").fill(code.lower().replace("-", " "))
    form.locator("button[type=submit]").tap()
    app.wait_for_selector("#view-map:not([hidden])")
    app.wait_for_selector(READY)
    app.wait_for_function("document.querySelector('#who').textContent.includes('Xã Suối Bạc')")
    token = DeviceToken.objects.get()
    assert (token.user, token.name, token.revoked_at) == (worker, "Tab A8 của Lan", None)

    form = fill_register(app, "Ao ghép nối")
    save(app, form)
    wait_unsent(app, 0)
    assert Site.objects.get(name="Ao ghép nối").created_by == worker
    assert api_calls and all(r.headers.get("authorization", "").startswith("Token ") for r in api_calls)
    # The token, not a session, carries the tablet: no session cookie, and no session of the
    # worker on the server, so no session's end can stop it.
    assert not [c for c in context.cookies() if c["name"] == "sessionid"]
    sessions = [s.get_decoded() for s in Session.objects.all()]
    assert all(sessions)  # each read with the stack's key (stack_sessions)
    assert str(worker.pk) not in [s.get("_auth_user_id") for s in sessions]

    # The manager revokes the tablet: its next contact is refused and it says so.
    revoke_in_admin(page, stack, "Tab A8 của Lan")
    token.refresh_from_db()
    assert token.revoked_at is not None
    form = fill_register(app, "Hố sau thu hồi", kind="pit")
    save(app, form)
    app.wait_for_selector("#banner:not([hidden])")
    assert "Máy tính bảng này đã bị thu hồi ghép nối" in app.locator("#banner").inner_text()
    assert unsent(app) == "1"
    assert not Site.objects.filter(name="Hố sau thu hồi").exists()
    # Opened again, it still keeps the record and still sends nothing.
    app.reload()
    app.wait_for_selector("body[data-ready=true]")
    app.wait_for_selector("#banner:not([hidden])")
    assert unsent(app) == "1"
    assert not Site.objects.filter(name="Hố sau thu hồi").exists()
    context.close()


def test_a_tablet_paired_without_a_name_keeps_the_name_its_manager_gave(browser, stack, worker, demo_tree, make_user):
    """Walkthrough 19-2, #4: the app sent its own default, "Máy tính bảng", for a name left
    empty, so the manager's "Máy bảng xã Suối Bạc" never reached the token, and a manager
    with ten tablets saw ten of that name when one had to be revoked."""
    manager = make_user("quanly", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    _pairing, code = pairing_start(actor=manager, user=worker, name="Máy bảng xã Suối Bạc")
    context = tablet(browser, inside(demo_tree["99101"]))
    app = context.new_page()
    app.goto(f"{stack.url}/survey/")
    form = app.locator("#pair-form")
    form.locator("input[name=code]").fill(code)
    form.locator("button[type=submit]").tap()
    app.wait_for_selector("#view-map:not([hidden])")
    assert DeviceToken.objects.get().name == "Máy bảng xã Suối Bạc"
    app.locator("#menu-button").tap()
    # The menu's line is written once the app has read who it is (GET /api/me/), after the map shows.
    expect(app.locator("#menu-who")).to_have_text(re.compile(r"đã ghép nối: Máy bảng xã Suối Bạc$"))
    context.close()

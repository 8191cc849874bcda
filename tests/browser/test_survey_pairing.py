"""Pairing a tablet (issue #19, item 7), built to the pairing contract: the manager's QR
code opens /survey/#pair=ABCD-EFGH; POST /api/v1/pair/ {"code", "device_name"} answers
{"token", "username", "full_name"} or 400 {"code": "pairing_invalid", "detail"}. The
tablet then sends `Authorization: Token <key>` and no session; a revoked token stops
the sending and asks to pair again, with every record kept.

The pairing endpoint belongs to the security work (#17): here it is played by a route
that answers as the contract says, with a real device token issued for the worker."""

import pytest

from accounts.models import Role
from accounts.tokens import token_issue, token_revoke
from hazards.models import Site
from tests.browser.tablet import READY, fill_register, save, tablet, unsent, wait_unsent
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_tablet_paired_by_qr_code_sends_with_its_token_until_revoked(browser, stack, worker, demo_tree, make_user):
    manager = make_user("quanly", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    token, key = token_issue(actor=manager, user=worker, name="Máy bảng xã")
    context = tablet(browser, inside(demo_tree["99101"]))
    page = context.new_page()
    asked = []

    def pair_route(route):
        body = route.request.post_data_json
        asked.append(body)
        if body["code"] != "ABCD-EFGH":
            route.fulfill(status=400, json={"code": "pairing_invalid", "detail": "Mã không đúng hoặc đã hết hạn."})
        else:
            route.fulfill(json={"token": key, "username": "lan", "full_name": "Trần Thị Lan"})

    page.route("**/api/v1/pair/", pair_route)
    api_calls = []
    page.on("request", lambda r: api_calls.append(r) if "/api/v1/" in r.url and "/pair/" not in r.url else None)

    # The camera's QR scan opens the app with the code; no one has signed in on this tablet.
    page.goto(f"{stack.url}/survey/#pair=abcd-efgh")
    page.wait_for_selector(READY)
    form = page.locator("#pair-form")
    assert form.is_visible()
    assert form.locator("input[name=code]").input_value() == "ABCD-EFGH"
    form.locator("input[name=code]").fill("ABCD-EFGX")
    form.locator("input[name=device_name]").fill("Máy bảng xã")
    form.locator("button[type=submit]").tap()
    form.locator(".form-errors", has_text="Mã không đúng hoặc đã hết hạn.").wait_for()
    api_calls.clear()  # before pairing, the app only found out that no one is signed in
    form.locator("input[name=code]").fill("abcd efgh")
    form.locator("button[type=submit]").tap()
    page.wait_for_selector("#view-map:not([hidden])")
    page.wait_for_function("document.querySelector('#who').textContent.includes('Xã Suối Bạc')")
    assert asked[-1] == {"code": "ABCD-EFGH", "device_name": "Máy bảng xã"}

    form = fill_register(page, "Ao ghép nối")
    save(page, form)
    wait_unsent(page, 0)
    site = Site.objects.get(name="Ao ghép nối")
    assert site.created_by == worker
    assert api_calls and all(r.headers.get("authorization") == f"Token {key}" for r in api_calls)
    assert all("X-Device-Time".lower() in r.headers for r in api_calls if r.method in ("POST", "PUT"))
    assert not [c for c in context.cookies() if c["name"] == "sessionid"]

    # Revoked: the next send is refused with 401; the app stops and asks to pair again.
    token_revoke(actor=manager, token=token)
    form = fill_register(page, "Giếng sau thu hồi", kind="well")  # another kind: no duplicate warning
    save(page, form)
    page.wait_for_selector("#banner:not([hidden])")
    assert "ghép nối" in page.locator("#banner").inner_text()
    assert unsent(page) == "1"
    page.reload()
    page.wait_for_selector(READY)
    assert unsent(page) == "1"
    assert not Site.objects.filter(name="Giếng sau thu hồi").exists()
    context.close()

"""A remediation order end to end: a manager opens it from the map's site panel, the
owner reports the work done, a field worker sees the site first in the due list while
offline, inspects it, and after sync the order is verified."""

import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from hazards.models import RemediationOrder
from tests.browser.conftest import login, no_internet
from tests.browser.tablet import READY
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_order_opened_on_the_map_is_verified_by_an_offline_inspection(
    browser, page, stack, demo_tree, make_user, make_site, inspect
):
    make_user("quanly", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    here = inside(demo_tree["99101"])
    # Checked last week, nothing in place: not due by age, but it needs an order.
    ordered = make_site(demo_tree["99101"], name="Ao nhà ông Ba", location=Point(here.x + 0.004, here.y, srid=4326))
    inspect(ordered, timezone.localtime() - dt.timedelta(days=7), signage="none", barrier="none")
    # Never checked and right where the tablet is: due, and nearest.
    make_site(demo_tree["99101"], name="Giếng đầu thôn", kind="well", location=here)

    # The manager opens the order from the site's panel on the map.
    login(page, stack, "quanly")
    page.goto(f"{stack.url}/map/?area=99101")
    page.locator("#site-list li", has_text=ordered.code).locator("a").click()
    panel = page.locator("#panel")
    expect(panel.locator(".site-title")).to_contain_text(ordered.code)
    panel.locator("a.open-order").click()
    form = page.locator("#order-form")
    form.locator("select[name=party_kind]").select_option("household")
    form.locator("input[name=party_name]").fill("Hộ ông Nguyễn Văn Ba")
    form.locator("input[name=party_phone]").fill("0912 345 678")
    form.locator("input[name=requirements][value=sign]").check()
    form.locator("input[name=requirements][value=barrier]").check()
    form.locator("input[name=deadline]").fill((timezone.localdate() + dt.timedelta(days=14)).isoformat())
    form.locator("select[name=follow_up]").select_option(str(worker.pk))
    form.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text(ordered.code)
    order = RemediationOrder.objects.get(site=ordered)
    assert order.state == "open" and order.follow_up == worker
    # The owner says the work is done: the order now waits for an inspection.
    page.locator("form[action$='/done/'] button").click()
    expect(page.locator(".order-state")).to_have_text("Đã báo hoàn thành (chờ xác minh)")

    # The field worker's tablet takes the sites while online, then loses the signal.
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, has_touch=True, is_mobile=True, locale="vi-VN",
        geolocation={"latitude": here.y, "longitude": here.x, "accuracy": 7}, permissions=["geolocation"],
        bypass_csp=True,
    )  # fmt: skip
    no_internet(context)
    tablet = context.new_page()
    tablet.goto(f"{stack.url}/accounts/login/?next=/survey/")
    tablet.fill("input[name=username]", "lan")
    tablet.fill("input[name=password]", "pw-Secret-123")
    tablet.click("button[type=submit]")
    tablet.wait_for_selector(READY)
    tablet.wait_for_function("navigator.serviceWorker.controller !== null || (location.reload(), false)", timeout=15000)
    tablet.wait_for_selector(READY)
    context.set_offline(True)
    tablet.wait_for_selector("#net.offline")
    tablet.click("[data-view=due]")
    due = tablet.locator("#due-list li")
    expect(due).to_have_count(2)
    # First although farther: its order awaits verification.
    expect(due.nth(0)).to_contain_text(ordered.code)
    expect(due.nth(0)).to_contain_text("yêu cầu chờ xác minh")
    expect(due.nth(1)).to_contain_text("Giếng đầu thôn")
    due.nth(0).locator("button").tap()
    inspection = tablet.locator("#inspect-form")
    inspection.locator(".choices[data-name=signage] button[data-value=in_place]").tap()
    inspection.locator(".choices[data-name=barrier] button[data-value=complete]").tap()
    inspection.locator("button[type=submit]").tap()
    tablet.wait_for_function("document.querySelector('#unsent-count').textContent === '1'", timeout=20000)
    order.refresh_from_db()
    assert order.state == "done"  # nothing has reached the server yet

    context.set_offline(False)
    tablet.wait_for_function("document.querySelector('#unsent-count').textContent === '0'", timeout=30000)
    order.refresh_from_db()
    assert order.state == "verified" and order.decided_by.site_id == ordered.pk
    context.close()
    page.reload()
    expect(page.locator(".order-state")).to_have_text("Đã xác minh")

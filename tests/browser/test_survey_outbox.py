"""The outbox (issue #19, items 2-3 and 9): what is not the record's fault is retried,
forever; a record is refused only when the server names what is wrong, and the worker
can fix it and send it again; the IndexedDB of the first app version is upgraded with
its records and photos; sent records leave after a week; sign-out keeps evidence safe."""

import datetime as dt
import json

import pytest
from django.contrib.gis.geos import Point

from hazards.models import Inspection, Photo, Site
from tests.browser.tablet import (
    READY,
    choose,
    go_offline,
    inspect_on_map,
    open_app,
    refuse_sites,
    register,
    save,
    sign_in,
    tablet,
    unsent,
    wait_unsent,
)
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MINUTES_16 = 16 * 60 * 1000  # past the longest wait between two tries


def test_server_errors_timeouts_and_throttling_are_retried_not_refused(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = context.new_page()
    # Its digits are try counts too: the count must be read where it is written.
    page.clock.install(time=dt.datetime(2026, 12, 4, 12, 34, 50, tzinfo=dt.timezone(dt.timedelta(hours=7))))
    sign_in(page, stack)
    failures = [
        {"status": 503, "body": "<html>Bad gateway</html>", "content_type": "text/html"},
        {"status": 500, "body": json.dumps({"detail": "Server Error"}), "content_type": "application/json"},
        {"status": 408, "body": json.dumps({"detail": "Request Timeout"}), "content_type": "application/json"},
        {"status": 429, "body": "", "headers": {"Retry-After": "30"}},
        # A proxy's own 404 page names nothing about the record: not a refusal.
        {"status": 404, "body": "<html>Not Found</html>", "content_type": "text/html"},
    ]
    tries = []

    def site_route(route):
        tries.append(route.request.url)
        if failures:
            route.fulfill(**failures.pop(0))
        else:
            route.continue_()

    page.route("**/api/v1/sync/sites/", site_route)
    register(page, "Ao thử lại")
    page.click("[data-view=outbox]")
    for attempt in range(1, 6):
        # The count the worker reads, not any digit: the line's next-try time has digits too,
        # and a jump taken before the try it waits for leaves the next ones to real minutes.
        page.wait_for_function(
            "n => /đã thử (\\d+) lần/.exec(document.querySelector('#outbox-list .retry')?.textContent)?.[1] === n",
            arg=str(attempt),
        )
        assert page.locator("#outbox-list .chip.refused, #outbox-list .chip.conflict").count() == 0
        assert page.locator("#outbox-list button.discard").count() == 0
        assert unsent(page) == "1"
        page.clock.fast_forward(MINUTES_16)
    wait_unsent(page, 0)
    assert len(tries) == 6
    assert Site.objects.filter(name="Ao thử lại").count() == 1
    context.close()


def test_a_refused_record_shows_why_and_is_fixed_and_sent_again(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    refuse_sites(
        page, {"code": "invalid", "detail": "Bản ghi bị từ chối.", "errors": {"name": ["Tên đã có người dùng."]}}
    )
    register(page, "Ao")
    page.click("[data-view=outbox]")
    card = page.locator("#outbox-list li.outbox-refused")
    card.wait_for()
    assert "Tên đã có người dùng." in card.inner_text()
    assert unsent(page) == "1"
    card.locator("button.fix").tap()
    form = page.locator("#register-form")
    assert form.is_visible()
    assert form.locator("input[name=name]").input_value() == "Ao"
    assert "Tên đã có người dùng." in form.locator(".form-errors").inner_text()
    form.locator("input[name=name]").fill("Ao nhà ông Tư")
    form.locator("button[type=submit]").tap()
    wait_unsent(page, 0)
    assert list(Site.objects.values_list("name", flat=True)) == ["Ao nhà ông Tư"]
    context.close()


# The first field app's database, exactly as its db.js (version 1) made it.
V1_DATABASE = """async ({ site, inspectionOf }) => {
  const canvas = new OffscreenCanvas(64, 48);
  canvas.getContext("2d").fillRect(0, 0, 64, 48);
  const blob = await canvas.convertToBlob({ type: "image/jpeg" });
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open("hazard-survey", 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore("outbox", { keyPath: "id" });
      request.result.createObjectStore("cache", { keyPath: "key" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const now = new Date().toISOString();
  const inspection = (id) => ({ id, inspected_at: now, signage: "in_place", barrier: "partial",
    water_present: true, water_depth_m: null, notes: "", gps_fix: null, gps_accuracy_m: null });
  const records = [
    { id: site.id, type: "site", label: "Ao bản một", state: "pending", created: Date.now() - 3000, error: null,
      payload: { id: site.id, kind: "pond", name: "Ao bản một", location: site.location, deep_water: true,
                 depth_m: null, inspection: inspection(crypto.randomUUID()) },
      photos: [{ id: crypto.randomUUID(), type: "image/jpeg", blob, sent: false }] },
    // Version 1 marked a record "failed" on a 502 and only offered to discard it.
    { id: inspectionOf.id, type: "inspection", label: "Giếng cũ", state: "failed", created: Date.now() - 2000,
      error: "HTTP 502", payload: { ...inspection(inspectionOf.id), site: inspectionOf.site },
      photos: [{ id: crypto.randomUUID(), type: "image/jpeg", blob, sent: false }] },
    { id: crypto.randomUUID(), type: "inspection", label: "Đã gửi", state: "sent", created: Date.now() - 1000,
      error: null, payload: {}, photos: [], result: { id: "x" } },
  ];
  await new Promise((resolve, reject) => {
    const tx = db.transaction("outbox", "readwrite");
    records.forEach((r) => tx.objectStore("outbox").put(r));
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
}"""


def test_the_first_versions_outbox_is_upgraded_with_records_and_photos_intact(
    browser, stack, worker, demo_tree, make_site
):
    here = inside(demo_tree["99101"])
    well = make_site(demo_tree["99101"], name="Giếng cũ", kind="well")
    context = tablet(browser, here)
    context.add_init_script("navigator.storage.persist = () => (window.persistAsked = true, Promise.resolve(true));")
    page = context.new_page()
    page.goto(f"{stack.url}/accounts/login/")
    site = {
        "id": "6b0f3c3e-2a55-4f0e-9d43-1f3a3c1d0a01",
        "location": {"type": "Point", "coordinates": [here.x, here.y]},
    }
    page.evaluate(
        V1_DATABASE,
        {"site": site, "inspectionOf": {"id": "6b0f3c3e-2a55-4f0e-9d43-1f3a3c1d0a02", "site": str(well.pk)}},
    )
    sign_in(page, stack)
    wait_unsent(page, 0)
    assert page.evaluate("window.persistAsked") is True
    registered = Site.objects.get(pk=site["id"])
    assert registered.name == "Ao bản một"
    assert Photo.objects.filter(inspection__site=registered).count() == 1
    inspection = Inspection.objects.get(pk="6b0f3c3e-2a55-4f0e-9d43-1f3a3c1d0a02")
    assert inspection.photos.count() == 1
    page.click("[data-view=outbox]")
    assert page.locator("#outbox-list .chip.sent").count() == 3
    assert page.evaluate("indexedDB.databases().then(d => d.find(x => x.name === 'hazard-survey').version)") >= 2

    # A week and a day later the sent records have left the tablet.
    later = context.new_page()
    later.clock.install(time=dt.datetime.now() + dt.timedelta(days=8))
    page.close()
    later.goto(f"{stack.url}/survey/")
    later.wait_for_selector(READY)
    later.click("[data-view=outbox]")
    assert later.locator("#outbox-list li").all_inner_texts() == [later.evaluate("gettext('Nothing to send.')")]
    context.close()


def test_sign_out_is_refused_while_records_are_unsent(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    go_offline(context, page)
    register(page, "Ao chưa gửi")
    wait_unsent(page, 1)
    page.click("#menu-button")
    page.click("#sign-out-button")
    page.locator("#sign-out-note", has_text="1").wait_for()
    page.locator("#menu-dialog .close").click()
    assert unsent(page) == "1"
    context.set_offline(False)
    wait_unsent(page, 0)
    page.click("#menu-button")
    with page.expect_navigation():
        page.click("#sign-out-button")
    page.wait_for_selector(READY)
    page.wait_for_selector("#view-pair:not([hidden])")
    assert page.locator("#who").inner_text() == ""
    assert Site.objects.filter(name="Ao chưa gửi").count() == 1
    context.close()


def test_an_inspection_waiting_names_its_sites_code_or_the_new_site_it_follows(
    browser, stack, worker, demo_tree, make_site
):
    """Walkthrough 19-2, #7: "Lượt kiểm tra: Ao Công ty Xây dựng Sông Xanh 54" among
    ponds named alike, without the code; an inspection of a site not sent yet said only
    "Chờ gửi", not that it waits for its site."""
    here = inside(demo_tree["99101"])
    old = make_site(demo_tree["99101"], name="Ao UBND xã", location=Point(here.x + 0.003, here.y, srid=4326))
    context = tablet(browser, here)
    page = open_app(context, stack)
    go_offline(context, page)
    register(page, "Ao mới của xã")
    form = inspect_on_map(page, here, barrier="none")
    save(page, form)
    page.click("[data-view=due]")
    page.locator("#due-list li", has_text="Ao UBND xã").locator("button").tap()
    choose(form, "signage", "none")
    choose(form, "barrier", "complete")
    save(page, form)

    page.click("[data-view=outbox]")
    lines = page.locator("#outbox-list li")
    assert lines.nth(0).locator("strong").inner_text() == f"Lượt kiểm tra: {old.code} · Ao UBND xã"
    assert lines.nth(0).locator(".after-site").count() == 0
    assert lines.nth(1).locator("strong").inner_text() == "Lượt kiểm tra: Ao mới của xã"
    assert lines.nth(1).locator(".after-site").inner_text() == "Sẽ gửi ngay sau khi điểm mới của nó đã được gửi."
    context.close()


def test_a_record_saved_while_another_is_being_sent_goes_right_after_it(browser, stack, worker, demo_tree, make_site):
    """A worker who saves a record while the one before is still on its way does not wait
    for the next half-minute round: it goes as soon as the first is through. The page's
    clock stands still once both are saved, so no timer can send it instead."""
    here = inside(demo_tree["99101"])
    old = make_site(demo_tree["99101"], name="Ao UBND xã", location=Point(here.x + 0.003, here.y, srid=4326))
    context = tablet(browser, here)
    page = context.new_page()
    page.clock.install()
    sign_in(page, stack)
    held = []

    def hold_the_first(route):
        if held:
            route.continue_()
        else:
            held.append(route)  # answered once the second record is saved

    page.route("**/api/v1/sync/**", hold_the_first)
    with page.expect_request("**/api/v1/sync/inspections/"):
        save(page, inspect_on_map(page, old.location))
    register(page, "Ao lưu khi đang gửi")
    page.clock.pause_at(dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=1))
    with page.expect_request("**/api/v1/sync/sites/", timeout=15000) as second:
        held[0].continue_()
    assert "Ao lưu khi đang gửi" in second.value.post_data
    page.clock.resume()
    wait_unsent(page, 0)
    assert Inspection.objects.filter(site=old).count() == 1
    assert Site.objects.filter(name="Ao lưu khi đang gửi").count() == 1
    context.close()

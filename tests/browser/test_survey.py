"""The survey app on a tablet: Chromium with a 10-inch viewport, touch and emulated GPS."""

import pytest
from django.contrib.gis.geos import Point

from hazards.models import Inspection, Photo, Site
from tests.browser.tablet import (
    READY,
    fill_register,
    go_offline,
    open_app,
    photo_file,
    register,
    tablet,
    unsent,
    wait_unsent,
)
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_a_site_with_a_photo_online(browser, stack, worker, demo_tree, tmp_path):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    register(page, "Ao nhà ông Ba", photos=[photo_file(tmp_path)])
    page.click("[data-view=outbox]")
    page.wait_for_selector("#outbox-list .chip.sent")
    assert unsent(page) == "0"
    site = Site.objects.get(name="Ao nhà ông Ba")
    assert site.area.code == "99101" and site.created_by == worker
    assert (site.signage, site.barrier) == ("none", "partial")
    assert Photo.objects.filter(inspection__site=site).count() == 1
    assert site.code in page.locator("#outbox-list").inner_text()
    context.close()


def test_offline_records_survive_a_reload_and_sync_once(browser, stack, worker, demo_tree, make_site, tmp_path):
    existing = make_site(demo_tree["99101"], name="Giếng cũ", kind="well")
    here = inside(demo_tree["99101"])
    context = tablet(browser, here)
    page = open_app(context, stack)
    # The service worker has cached the app shell before the signal goes.
    go_offline(context, page)
    assert page.evaluate("caches.keys().then(k => k.some(n => n.startsWith('survey-')))")
    register(page, "Ao thứ nhất", photos=[photo_file(tmp_path, "a.jpg")])
    wait_unsent(page, 1)
    context.set_geolocation({"latitude": here.y + 0.001, "longitude": here.x + 0.001, "accuracy": 5})
    page.wait_for_function(f"document.querySelector('#gps').textContent.includes('{here.y + 0.001:.6f}')")
    register(page, "Ao thứ hai", kind="canal")
    wait_unsent(page, 2)
    page.click("[data-view=due]")
    page.locator("#due-list li", has_text="Giếng cũ").locator("button").tap()
    form = page.locator("#inspect-form")
    form.locator(".choices[data-name=signage] button[data-value=in_place]").tap()
    form.locator(".choices[data-name=barrier] button[data-value=complete]").tap()
    form.locator("button[type=submit]").tap()
    wait_unsent(page, 3)
    assert not Site.objects.filter(name__startswith="Ao thứ").exists()

    page.reload()
    page.wait_for_selector(READY)
    assert unsent(page) == "3"
    page.click("[data-view=outbox]")
    assert page.locator("#outbox-list .chip.pending").count() == 3

    context.set_offline(False)
    wait_unsent(page, 0)
    assert Site.objects.filter(name="Ao thứ nhất").count() == 1
    assert Site.objects.filter(name="Ao thứ hai").count() == 1
    assert Photo.objects.filter(inspection__site__name="Ao thứ nhất").count() == 1
    existing.refresh_from_db()
    assert existing.is_protected
    assert Inspection.objects.count() == 3
    # Another round of syncing sends nothing twice.
    rounds = page.evaluate("Number(document.body.dataset.syncRounds || 0)")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function(f"Number(document.body.dataset.syncRounds || 0) > {rounds}")
    assert Site.objects.count() == 3 and Inspection.objects.count() == 3
    context.close()


def test_duplicate_warning_within_30_m(browser, stack, worker, demo_tree, make_site, tmp_path):
    here = inside(demo_tree["99101"])
    existing = make_site(demo_tree["99101"], name="Ao đã có", location=Point(here.x + 0.0001, here.y, srid=4326))
    context = tablet(browser, here)
    page = open_app(context, stack)
    form = fill_register(page, "Ao mới trùng", signage="damaged", photos=[photo_file(tmp_path)])
    form.locator("textarea[name=notes]").fill("Biển bị đổ")
    form.locator("button[type=submit]").tap()
    dialog = page.locator("#duplicate-dialog")
    dialog.wait_for(state="visible")
    assert "Ao đã có" in dialog.inner_text() and existing.code in dialog.inner_text()
    page.click("#open-existing")
    assert "Ao đã có" in page.locator("#inspect-title").inner_text()
    # What the worker saw and photographed there becomes the existing site's inspection.
    inspection = page.locator("#inspect-form")
    assert inspection.locator(".choices[data-name=signage] .chosen").get_attribute("data-value") == "damaged"
    assert inspection.locator("textarea[name=notes]").input_value() == "Biển bị đổ"
    assert inspection.locator(".thumbs li").count() == 1
    assert unsent(page) == "0"
    assert Site.objects.count() == 1
    page.click("#new-site")
    assert form.locator("input[name=name]").input_value() == ""
    context.close()


def test_point_outside_the_workers_area_is_refused_before_queueing(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99201"]))
    page = open_app(context, stack)
    register(page, "Ao xã khác", saved=False)
    errors = page.locator("#register-form .form-errors")
    errors.wait_for(state="visible")
    # The tablet speaks Vietnamese: "outside the areas you work in".
    assert "ngoài địa bàn bạn phụ trách" in errors.inner_text()
    assert unsent(page) == "0"
    assert not Site.objects.exists()
    context.close()

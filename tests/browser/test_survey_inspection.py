"""Inspecting a known site (issue #19, item 5): its last state, date and photo shown,
"no change" in one tap, back to the due list, which (like the map) changes at once
offline; the site sheet's history with photos, kept for the field, and directions."""

import datetime as dt
import io
import zoneinfo

import pytest
from django.contrib.gis.geos import Point
from PIL import Image

from hazards import services
from tests.browser.tablet import go_offline, open_app, site_markers, tablet, unsent, wait_unsent
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HANOI = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
LONG_AGO = dt.datetime.now(HANOI).replace(hour=12, minute=0, second=0, microsecond=0) - dt.timedelta(days=400)


@pytest.fixture
def old_well(demo_tree, make_site, inspect, superuser):
    """A well next to the worker, last inspected 400 days ago (due), sign only, with a photo."""
    here = inside(demo_tree["99101"])
    well = make_site(
        demo_tree["99101"], name="Giếng cũ", kind="well", location=Point(here.x + 0.0004, here.y, srid=4326)
    )
    inspection = inspect(well, LONG_AGO, signage="in_place", barrier="partial", notes="Rào gãy một đoạn")
    jpeg = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 90, 160)).save(jpeg, format="JPEG")
    services.photo_attach(actor=superuser, inspection=inspection, data=jpeg.getvalue())
    well.refresh_from_db()
    return well


def history_kept(page, site_id) -> None:
    page.wait_for_function(
        """(id) => new Promise((resolve) => {
            const request = indexedDB.open("hazard-survey");
            request.onsuccess = () => {
              const get = request.result.transaction("cache").objectStore("cache").get(`history:${id}`);
              get.onsuccess = () => resolve(Boolean(get.result));
            };
        })""",
        arg=str(site_id),
    )


def vietnamese_date(moment: dt.datetime) -> str:
    return f"{moment.day}/{moment.month}/{moment.year}"


def test_no_change_is_one_tap_and_the_due_list_and_map_follow_at_once_offline(
    browser, stack, worker, demo_tree, old_well
):
    context = tablet(browser, inside(demo_tree["99101"]), timezone_id="Asia/Ho_Chi_Minh")
    page = open_app(context, stack)
    history_kept(page, old_well.pk)  # fetched ahead for the due sites, while online
    go_offline(context, page)
    page.click("[data-view=due]")
    page.locator(f"#due-list li[data-id='{old_well.pk}'] button").tap()
    last = page.locator("#inspect-last")
    last.locator("img").wait_for()
    text = last.inner_text()
    assert vietnamese_date(LONG_AGO) in text
    assert "Chỉ có biển báo" in text  # signed only, in the planner map's words
    assert "thumbs/" in last.locator("img").get_attribute("src")

    page.locator("#no-change").tap()
    page.wait_for_selector("#view-due:not([hidden])")
    assert page.locator(f"#due-list li[data-id='{old_well.pk}']").count() == 0
    assert unsent(page) == "1"
    marker = next(m for m in site_markers(page) if m["id"] == str(old_well.pk))
    assert marker["dash"]  # not sent yet
    assert marker["fill"] == page.evaluate("import('/static/common/palette.js').then(m => m.STATE_COLOURS.signed_only)")

    context.set_offline(False)
    wait_unsent(page, 0)
    assert old_well.inspections.count() == 2
    latest = old_well.inspections.order_by("-observed_at").first()
    assert (latest.signage, latest.barrier) == ("in_place", "partial")
    context.close()


def test_site_sheet_shows_history_with_photos_and_directions(browser, stack, worker, demo_tree, old_well):
    context = tablet(browser, inside(demo_tree["99101"]), timezone_id="Asia/Ho_Chi_Minh")
    page = open_app(context, stack)
    # A finger 18 px from the dot's centre still opens it: the target is 44 px wide.
    at = page.evaluate(
        "([lon, lat]) => window.survey.map.latLngToContainerPoint([lat, lon])", list(old_well.location.coords)
    )
    box = page.locator("#map").bounding_box()
    page.touchscreen.tap(box["x"] + at["x"] + 18, box["y"] + at["y"])
    sheet = page.locator("#site-sheet")
    sheet.wait_for()
    assert "Giếng cũ" in sheet.inner_text()
    entry = sheet.locator(".history li").first
    entry.wait_for()
    assert vietnamese_date(LONG_AGO) in entry.inner_text() and "Rào gãy một đoạn" in entry.inner_text()
    assert "thumbs/" in entry.locator("img").get_attribute("src")
    lon, lat = old_well.location.coords
    # To the metre: the site list carries five decimals.
    assert sheet.locator("a.directions").get_attribute("href").startswith(f"geo:{lat:.5f},{lon:.5f}?")
    context.close()

"""Honest location (issue #19, item 4): the accuracy is always shown, a vague fix warns
or needs the worker's confirmation, no fix means no position until the worker places
the pin (never the map's centre), and the area check runs as the pin moves, beside it."""

import pytest
from django.contrib.gis.geos import Point

from hazards.models import Site
from tests.browser.tablet import fill_register, open_app, save, tablet, unsent, wait_unsent
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def tap_map(page, lon: float, lat: float) -> None:
    """A finger on the register map where (lon, lat) is shown."""
    page.locator("#reg-map").scroll_into_view_if_needed()
    at = page.evaluate("([lon, lat]) => window.survey.regMap.latLngToContainerPoint([lat, lon])", [lon, lat])
    box = page.locator("#reg-map").bounding_box()
    page.touchscreen.tap(box["x"] + at["x"], box["y"] + at["y"])


def test_accuracy_is_shown_and_a_vague_fix_warns_then_needs_confirmation(browser, stack, worker, demo_tree):
    here = inside(demo_tree["99101"])
    context = tablet(browser, here, accuracy=7)
    page = open_app(context, stack)
    assert "± 7 m" in page.locator("#gps").inner_text()
    form = fill_register(page, "Ao đo vị trí")
    location = page.locator("#reg-location")
    assert "± 7 m" in location.inner_text()
    assert location.get_attribute("class") == "location"

    context.set_geolocation({"latitude": here.y, "longitude": here.x, "accuracy": 60})
    page.wait_for_selector("#reg-location.warn")
    assert "± 60 m" in location.inner_text()
    assert page.locator("#accuracy-confirm").is_hidden()

    context.set_geolocation({"latitude": here.y, "longitude": here.x, "accuracy": 250})
    page.wait_for_selector("#reg-location.danger")
    assert "± 250 m" in location.inner_text()
    form.locator("button[type=submit]").tap()
    assert "± 250 m" in form.locator(".form-errors").inner_text()
    assert unsent(page) == "0"
    form.locator("input[name=accuracy_confirmed]").check()
    save(page, form)
    wait_unsent(page, 0)
    site = Site.objects.get(name="Ao đo vị trí")
    assert site.inspections.get().gps_accuracy_m == 250
    context.close()


def test_without_a_fix_the_worker_places_the_pin_and_the_area_check_follows_it(browser, stack, worker, demo_tree):
    context = tablet(browser, None)
    page = open_app(context, stack, gps=False)
    assert "±" not in page.locator("#gps").inner_text()
    form = fill_register(page, "Ao đặt tay")
    centre = page.evaluate("(({ lat, lng }) => [lng, lat])(window.survey.regMap.getCenter())")
    # No pin at the map's centre: nothing to save until the worker places it.
    assert page.locator("#reg-map .leaflet-marker-icon").count() == 0
    form.locator("button[type=submit]").tap()
    assert form.locator(".form-errors").inner_text().strip()
    assert unsent(page) == "0"

    commune = demo_tree["99101"]
    west, south, east, north = commune.geom.extent
    # The corner of the commune's box, well outside its triangle, yet on the map.
    tap_map(page, west + (east - west) * 0.05, north - (north - south) * 0.05)
    # The check shows at once, beside the pin, before Save.
    page.wait_for_selector("#reg-map .leaflet-tooltip.pin-outside")
    assert page.locator("#pin-check").is_visible()
    point = inside(commune)
    tap_map(page, point.x, point.y)
    page.wait_for_selector("#reg-map .leaflet-tooltip.pin-outside", state="detached")
    assert page.locator("#pin-check").is_hidden()
    assert "±" not in page.locator("#reg-location").inner_text()
    save(page, form)
    wait_unsent(page, 0)
    site = Site.objects.get(name="Ao đặt tay")
    # Where the finger was (to a few of the map's pixels, 20 m each at this zoom), not the centre.
    assert site.location.distance(point) < 0.002
    assert site.location.distance(Point(*centre, srid=4326)) > 0.005
    assert site.area.code == "99101"
    context.close()

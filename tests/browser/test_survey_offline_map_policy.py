"""Installed with the defaults, the background map is OpenStreetMap's own tile server,
whose tile policy (https://operations.osmfoundation.org/policies/tiles/) forbids
downloading tiles to view later: "offline map of my communes" then downloads nothing and
tells the worker why and whom to ask. (The session's stack runs with the default
BASEMAP_URL; test_survey_offline_map.py covers a tile server that allows storing.)"""

import pytest

from tests.browser.tablet import READY, open_app, tablet
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OSM = "https://tile.openstreetmap.org/"


def test_with_openstreetmaps_tiles_the_offline_map_downloads_nothing_and_says_why(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99101"]))
    # Every request for an OpenStreetMap tile other than the map's own images (which
    # the policy allows): the offline map fetches its tiles with fetch().
    downloads = []
    context.on(
        "request", lambda r: downloads.append(r.url) if r.url.startswith(OSM) and r.resource_type != "image" else None
    )
    # A tablet that stored tiles before the registry refused to: the service worker drops them.
    before = context.new_page()
    before.goto(f"{stack.url}/accounts/login/")
    before.evaluate(f"caches.open('basemap-tiles').then((c) => c.put('{OSM}15/26000/14000.png', new Response('tile')))")
    before.close()
    page = open_app(context, stack)
    page.wait_for_function("navigator.serviceWorker.controller !== null || (location.reload(), false)", timeout=15000)
    page.wait_for_selector(READY)
    assert page.evaluate("JSON.parse(document.getElementById('basemap').textContent).url").startswith(OSM)

    page.click("#menu-button")
    page.click("#offline-map-button")  # the menu item stays where the worker looks for it
    dialog = page.locator("#tiles-dialog")
    dialog.wait_for()
    reason = dialog.inner_text()
    assert "không cho phép lưu" in reason  # "does not allow storing"
    assert "quản trị" in reason  # whom to ask: the registry's administrator
    assert not page.locator("#tiles-download").is_visible()
    assert downloads == []
    assert page.evaluate("caches.has('basemap-tiles')") is False
    context.close()

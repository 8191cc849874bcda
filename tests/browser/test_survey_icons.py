"""Leaflet's marker images on the production stack, where static files carry hashed names
(ManifestStaticFilesStorage): Leaflet cannot guess them from its CSS, so the pages give
their URLs (config/leaflet_icons.py)."""

import pytest

from accounts.models import Role
from tests.browser.conftest import login, no_internet
from tests.browser.tablet import open_app, tablet
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def record_images(page) -> list:
    """Every image the page asks this machine for, with its answer (0: none); the basemap's
    tiles, refused here, are not ours. An image the browser itself gave up as it left the
    page (net::ERR_ABORTED: the admin index's icons, left for a site's page right after
    signing in) got no answer to judge."""
    answers = []

    def answered(request, failed=False):
        if request.resource_type == "image" and request.url.startswith("https://127.0.0.1:"):
            answers.append((request.url, 0 if failed else request.response().status))

    def failed(request):
        if request.failure != "net::ERR_ABORTED":
            answered(request, failed=True)

    page.on("requestfinished", answered)
    page.on("requestfailed", failed)
    return answers


def test_the_survey_pin_shows_leaflets_marker(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    # From the start of a page load: the app's own images and the map's.
    answers = record_images(page)
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.click("#new-site")
    marker = page.locator("#reg-map img.leaflet-marker-icon")
    marker.wait_for()
    page.wait_for_function("document.querySelector('#reg-map img.leaflet-marker-icon').complete")
    assert page.evaluate("document.querySelector('#reg-map img.leaflet-marker-icon').naturalWidth") > 0
    page.wait_for_function("document.querySelector('#reg-map img.leaflet-marker-shadow')?.complete")
    assert any("marker-icon" in url for url, _ in answers)
    assert [(url, status) for url, status in answers if status != 200] == []
    context.close()


def test_the_admin_map_widget_shows_leaflets_marker(browser, stack, demo_tree, make_user, make_site):
    make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    site = make_site(demo_tree["99101"], name="Ao có ghim")
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN", bypass_csp=True)
    no_internet(context)
    page = context.new_page()
    answers = record_images(page)
    login(page, stack, "nam")
    page.goto(f"{stack.url}/admin/hazards/site/{site.pk}/change/")
    page.locator("img.leaflet-marker-icon").first.wait_for()
    page.wait_for_function("[...document.querySelectorAll('img.leaflet-marker-icon')].every((i) => i.complete)")
    assert page.evaluate("document.querySelector('img.leaflet-marker-icon').naturalWidth") > 0
    assert any("marker-icon" in url for url, _ in answers)
    assert [(url, status) for url, status in answers if status != 200] == []
    context.close()

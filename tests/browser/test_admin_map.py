"""A manager opens the admin site list and sees their sites on the Leaflet map; the admin's
maps draw in the page's language and show a geometry one may only view."""

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from tests.browser.conftest import days_ago, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_site_list_map_shows_own_sites_coloured_by_state(page, stack, demo_tree, make_user, make_site, inspect):
    make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    protected = make_site(demo_tree["99101"], name="Ao đã rào")
    inspect(protected, days_ago(30), "in_place", "complete")
    make_site(demo_tree["99102"], name="Ao chưa rào")
    make_site(demo_tree["99201"], name="Ao huyện khác")

    login(page, stack, "nam")
    page.goto(f"{stack.url}/admin/hazards/site/")
    page.wait_for_selector("path.site-dot")
    assert page.locator("path.site-dot").count() == 2
    assert page.locator("path.site-dot.protected").count() == 1
    assert page.locator("path.site-dot.unprotected").count() == 1
    # Vietnamese by default; the other district's site is neither listed nor drawn.
    assert "Ao huyện khác" not in page.content()
    assert page.locator("#result_list").inner_text().count("HZ-") == 2
    page.locator("path.site-dot.protected").click()
    page.locator(".leaflet-popup-content a").click()
    page.wait_for_url("**/change/")
    assert page.locator("input[name=name]").input_value() == "Ao đã rào"


def test_the_admin_s_maps_draw_in_vietnamese_and_show_a_boundary_one_may_only_view(page, stack, demo_tree, make_user):
    """The map widget's drawing buttons said "Draw a marker" in the Vietnamese admin, and a
    commune's boundary, which its manager may only view, was printed as EWKT
    ("SRID=4326;MULTIPOLYGON (((…") instead of drawn (walkthrough)."""
    make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    login(page, stack, "nam")
    page.goto(f"{stack.url}/admin/hazards/site/add/")
    expect(page.locator("a.leaflet-draw-draw-marker")).to_have_attribute("title", "Đặt điểm đánh dấu")
    page.goto(f"{stack.url}/admin/areas/area/{demo_tree['99101'].pk}/change/")
    expect(page.locator(".field-geom .leaflet-container path.leaflet-interactive")).to_have_count(1)
    expect(page.locator(".field-geom .leaflet-draw")).to_have_count(0)  # nothing to draw: it is only shown
    assert "SRID=" not in page.locator("#content").inner_text()

"""A manager opens the admin site list and sees their sites on the Leaflet map."""

import pytest

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

"""The first load on a slow network (issue #19, benchmarks): the map and the due list
come from the site list's first part, before the names and ids of the other sites (its
second part). A site sheet opened, or an inspection saved, in between waits for them,
and nothing is lost."""

import datetime as dt

import pytest
from django.contrib.gis.geos import Point

from hazards.models import Inspection
from tests.browser.tablet import READY, choose, sign_in, site_markers, tablet, tap_site, wait_unsent
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = "**/api/v1/survey/sites/rest/**"


@pytest.fixture
def sites(demo_tree, make_site, inspect):
    """Next to the worker: a pond never inspected (due) and a well inspected last week."""
    here = inside(demo_tree["99101"])
    due = make_site(demo_tree["99101"], name="Ao chưa kiểm tra", location=Point(here.x + 0.0004, here.y, srid=4326))
    checked = make_site(
        demo_tree["99101"], name="Giếng đã kiểm tra", kind="well", location=Point(here.x - 0.0004, here.y, srid=4326)
    )
    inspect(checked, dt.datetime.now(dt.UTC) - dt.timedelta(days=7), signage="in_place", barrier="complete")
    return {"due": due, "checked": checked}


def open_before_names(browser, stack, demo_tree):
    """The app signed in and drawn, the site list's second part held back."""
    context = tablet(browser, inside(demo_tree["99101"]))
    page = context.new_page()
    held = []
    page.route(NAMES, lambda route: held.append(route))
    sign_in(page, stack, ready="body[data-ready=true]")
    assert page.locator("body").get_attribute("data-sites") == "partial"
    return context, page, held


def zoom_to(page, site) -> None:
    """The map zoomed in on the site (the two sites are 80 m apart)."""
    page.evaluate(
        "([lon, lat]) => window.survey.map.setView([lat, lon], 18, { animate: false })", list(site.location.coords)
    )


def test_the_map_and_due_list_show_first_and_a_sheet_waits_for_the_names(browser, stack, worker, demo_tree, sites):
    context, page, held = open_before_names(browser, stack, demo_tree)
    # Both sites drawn in their state's colour, before any name or id is known.
    markers = site_markers(page)
    assert len(markers) == 2 and all(m["id"] is None for m in markers)
    assert len({m["fill"] for m in markers}) == 2  # unprotected and protected
    # The due list is the worker's work: its sites are named already.
    page.click("[data-view=due]")
    due_list = page.locator("#due-list")
    due_list.get_by_text("Ao chưa kiểm tra").wait_for()
    assert "Giếng đã kiểm tra" not in due_list.inner_text()

    page.click("[data-view=map]")
    zoom_to(page, sites["checked"])
    tap_site(page, sites["checked"])
    sheet = page.locator("#site-sheet")
    sheet.get_by_text("Đang tải tên các điểm").wait_for()
    held[0].continue_()
    sheet.get_by_text("Giếng đã kiểm tra").wait_for()
    assert sheet.locator("button", has_text="Kiểm tra").count() == 1
    page.wait_for_selector(READY)
    context.close()


def test_an_inspection_saved_before_the_names_arrive_is_sent_for_its_site(browser, stack, worker, demo_tree, sites):
    context, page, held = open_before_names(browser, stack, demo_tree)
    page.click("[data-view=due]")
    page.locator("#due-list li", has_text="Ao chưa kiểm tra").locator("button").tap()
    form = page.locator("#inspect-form")
    form.wait_for()
    choose(form, "signage", "in_place")
    choose(form, "barrier", "complete")
    form.locator("button[type=submit]").tap()
    assert not Inspection.objects.filter(site=sites["due"]).exists()
    held[0].continue_()
    page.wait_for_selector("#view-due:not([hidden])")
    wait_unsent(page, 0)
    inspection = Inspection.objects.get(site=sites["due"])
    assert (inspection.signage, inspection.barrier) == ("in_place", "complete")
    context.close()

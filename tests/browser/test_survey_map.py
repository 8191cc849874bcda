"""The survey map (issue #19, item 6): a legend, a my-location button, touch targets of
at least 44 px, the worker's own dot above the sites, and the planner map's colours."""

import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from accounts.models import Role
from tests.browser.conftest import login, no_internet
from tests.browser.tablet import go_offline, open_app, register, site_markers, tablet, tap_site, wait_unsent
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PALETTE = "import('/static/common/palette.js').then((m) => ({ states: m.STATE_COLOURS, due: m.DUE_RING }))"


def test_legend_my_location_touch_targets_and_the_planner_maps_colours(
    browser, stack, worker, demo_tree, make_site, inspect, make_user
):
    here = inside(demo_tree["99101"])
    recently = timezone.now() - dt.timedelta(days=10)
    states = {
        "Ao có cả hai": ("in_place", "complete"),
        "Ao có biển": ("in_place", "none"),
        "Ao có rào": ("none", "complete"),
    }
    for i, (name, (signage, barrier)) in enumerate(states.items()):
        site = make_site(demo_tree["99101"], name=name, location=Point(here.x + 0.002 * (i + 1), here.y, srid=4326))
        inspect(site, recently, signage=signage, barrier=barrier)
    make_site(demo_tree["99101"], name="Ao chưa kiểm tra", location=Point(here.x - 0.002, here.y, srid=4326))
    context = tablet(browser, here)
    page = open_app(context, stack)

    legend = page.locator("#legend")
    assert legend.is_visible()
    for label in [
        "Đã bảo vệ",
        "Chỉ có biển báo",
        "Chỉ có rào chắn",
        "Chưa đạt cả biển và rào",
        "Cần kiểm tra",
        "Chưa gửi",
    ]:
        assert label in legend.inner_text()
    for control in page.locator("#map .leaflet-control-zoom a, #my-location a").all():
        box = control.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44

    palette = page.evaluate(PALETTE)
    markers = {m["name"]: m for m in site_markers(page)}
    assert markers["Ao có cả hai"]["fill"] == palette["states"]["protected"]
    assert markers["Ao có biển"]["fill"] == palette["states"]["signed_only"]
    assert markers["Ao có rào"]["fill"] == palette["states"]["fenced_only"]
    assert markers["Ao chưa kiểm tra"]["fill"] == palette["states"]["unprotected"]
    assert markers["Ao chưa kiểm tra"]["stroke"] == palette["due"]  # never checked: due
    assert markers["Ao có biển"]["stroke"] != palette["due"]
    # The worker's own dot is drawn above every site.
    assert page.evaluate(
        "Number(getComputedStyle(window.survey.map.getPane('me')).zIndex) >"
        " Number(getComputedStyle(window.survey.map.getPane('overlayPane')).zIndex)"
    )
    assert page.locator("#map .leaflet-pane.leaflet-me-pane path.me").count() == 1

    page.evaluate("window.survey.map.setView([16, 106], 8)")
    page.locator("#my-location a").tap()
    centre = page.evaluate("(({ lat, lng }) => [lng, lat])(window.survey.map.getCenter())")
    assert Point(*centre).distance(here) < 0.001

    # A site not sent yet: its state's colour, and a dashed outline that is no state colour.
    go_offline(context, page)
    register(page, "Ao mới chưa gửi", signage="in_place", barrier="complete")
    wait_unsent(page, 1)
    queued = {m["name"]: m for m in site_markers(page)}["Ao mới chưa gửi"]
    assert queued["fill"] == palette["states"]["protected"]
    assert queued["dash"] and queued["stroke"] not in palette["states"].values()

    # The planner map speaks the same colours: one module sets them for both.
    survey_colours = page.evaluate(
        "['unprotected', 'signed_only', 'fenced_only', 'protected', 'closed']"
        ".map((s) => getComputedStyle(document.documentElement).getPropertyValue(`--state-${s}`))"
    )
    context.close()
    make_user("quanly", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    planner = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN", bypass_csp=True)
    no_internet(planner)
    page = planner.new_page()
    login(page, stack, "quanly")
    page.goto(f"{stack.url}/map/")
    page.wait_for_selector(".legend-box")
    planner_colours = page.evaluate(
        "['unprotected', 'signed_only', 'fenced_only', 'protected', 'closed']"
        ".map((s) => getComputedStyle(document.documentElement).getPropertyValue(`--state-${s}`))"
    )
    assert planner_colours == survey_colours and all(planner_colours)
    planner.close()


def test_a_busy_commune_is_drawn_in_numbered_groups_that_a_tap_opens(browser, stack, worker, demo_tree, make_site):
    """More sites than the app draws one by one (GROUP_ABOVE in static/survey/map.js, 1,500):
    close ones are one numbered group of 44 px; a tap zooms in until each has its dot."""
    commune = demo_tree["99101"]
    here = inside(commune)
    sites = [
        make_site(
            commune,
            name=f"Ao số {i}",
            location=Point(here.x + (i % 40 - 20) * 0.0005, here.y + (i // 40 - 19) * 0.0005, srid=4326),
        )
        for i in range(1501)
    ]
    context = tablet(browser, here)
    page = open_app(context, stack)
    groups = page.locator(".site-group")
    groups.first.wait_for()
    counts = [int(text.replace(".", "")) for text in groups.all_inner_texts()]
    drawn = len(counts) + len(site_markers(page))
    assert min(counts) >= 2 and drawn < 1501 / 2
    # Never inspected, all due: each group carries the due ring.
    assert groups.count() == page.locator(".site-group.due").count()
    box = groups.first.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    zoom = page.evaluate("window.survey.map.getZoom()")
    # The zoom's end, not the first moveend: the tap focuses the group's marker, and Leaflet
    # pans a focused marker into view (autoPanOnFocus) before the zoom animates. A view set
    # while a zoom animates is undone at the animation's end.
    page.evaluate("() => { window.zoomed = new Promise((done) => window.survey.map.once('zoomend', done)); }")
    groups.first.tap()
    page.evaluate("() => window.zoomed.then(() => true)")
    assert page.evaluate("window.survey.map.getZoom()") > zoom
    # Close in, each site has its own dot and sheet.
    site = sites[820]
    page.evaluate(
        "([lon, lat]) => { window.survey.map.setView([lat, lon], 18, { animate: false }); }", list(site.location.coords)
    )
    page.wait_for_function(f"window.survey.sites.getLayers().some((m) => m.feature.properties.id === '{site.pk}')")
    # The canvas draws the new view's dots at its next frames: tap once they are drawn.
    page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    tap_site(page, site)
    assert "Ao số 820" in page.locator("#site-sheet h2").inner_text()
    context.close()


def test_sites_under_one_finger_are_offered_to_choose_from(browser, stack, worker, demo_tree, make_site):
    """Walkthrough 19-2, #3: a well registered from the same GPS fix as the pond beside it
    lay under the pond's dot at every zoom, and a tap opened the pond only."""
    here = inside(demo_tree["99101"])
    pond = make_site(demo_tree["99101"], name="Ao nhà ông Sáu", location=here)
    well = make_site(demo_tree["99101"], name="Giếng nhà ông Sáu", kind="well", location=here)
    alone = make_site(demo_tree["99101"], name="Ao xa", location=Point(here.x + 0.003, here.y, srid=4326))
    context = tablet(browser, here)
    page = open_app(context, stack)
    page.evaluate("([lon, lat]) => window.survey.map.setView([lat, lon], 18, { animate: false })", list(here.coords))

    tap_site(page, pond)
    sheet = page.locator("#site-sheet")
    assert sheet.locator("h2").inner_text() == "2 điểm ở đây: chọn điểm nào?"
    choices = sheet.locator(".chooser button")
    assert sorted(choices.all_inner_texts()) == sorted(
        [
            f"{pond.code} · Ao nhà ông Sáu · Chưa đạt cả biển và rào",
            f"{well.code} · Giếng nhà ông Sáu · Chưa đạt cả biển và rào",
        ]
    )
    choices.filter(has_text="Giếng nhà ông Sáu").tap()
    assert sheet.locator("h2").inner_text() == f"{well.code} · Giếng nhà ông Sáu"
    assert sheet.locator("button", has_text="Kiểm tra").is_visible()

    # A site alone under the finger opens at once.
    page.evaluate(
        "([lon, lat]) => window.survey.map.setView([lat, lon], 18, { animate: false })", list(alone.location.coords)
    )
    tap_site(page, alone)
    assert sheet.locator("h2").inner_text() == f"{alone.code} · Ao xa"
    context.close()

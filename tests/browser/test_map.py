"""A manager on the planner map: filters change what the tiles and the list carry, a
click drills down from district to commune, a site's panel shows its history, and a
district's manager never receives another district's sites."""

import datetime as dt
import io
import re

import mapbox_vector_tile
import pytest
from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from accounts.models import Role
from hazards import services
from mapping.models import Place
from tests.browser.conftest import days_ago, login
from tests.browser.waiting import wait_until
from tests.conftest import inside
from tests.stack import running_stack

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def registry(demo_tree, make_site, inspect, make_user, superuser):
    sites = {}
    for code, kinds in (("99101", ["pond", "well", "pond"]), ("99102", ["pit", "well"]), ("99201", ["pond", "dam"])):
        base = inside(demo_tree[code])
        for i, kind in enumerate(kinds):
            location = base.clone()
            location.x += i * 0.002
            sites[f"{code}-{i}"] = make_site(demo_tree[code], kind=kind, name=f"{kind} {code}-{i}", location=location)
    first = sites["99101-0"]
    inspect(first, days_ago(100, "08:30"), "none", "partial", notes="Chưa có biển")
    later = inspect(first, days_ago(10, "16:05"), "in_place", "partial")  # recent: not due
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (10, 120, 10)).save(out, format="JPEG")
    services.photo_attach(actor=superuser, inspection=later, data=out.getvalue())
    make_user("tinh", demo_tree["99"], Role.AREA_MANAGER, is_staff=True)
    make_user("huyen", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    return sites


def record_tiles(page) -> list:
    """Every tile the page receives, decoded: the route passes each response on unchanged."""
    received = []

    def keep(route):
        try:
            response = route.fetch()
            body = response.body()
            route.fulfill(response=response, body=body)
        except PlaywrightError:  # the test ended and closed the page while a tile was on its way
            return
        if response.status == 200:
            received.append((route.request.url, mapbox_vector_tile.decode(body)))

    page.route("**/tiles/sites/**", keep)
    return received


def open_map(page, stack, username):
    login(page, stack, username)
    page.goto(f"{stack.url}/map/")
    page.wait_for_selector("#site-list li")


def test_filters_change_what_is_shown(page, stack, registry):
    tiles = record_tiles(page)
    open_map(page, stack, "tinh")
    assert page.locator("#site-list li").count() == 7
    page.select_option("select[name=kind]", "well")
    expect(page.locator("#site-list li")).to_have_count(2)
    assert "kind=well" in page.url
    wells = {s.code for s in registry.values() if s.kind == "well"}

    def received_with_filter() -> tuple[set, set, int]:
        after = [tile for url, tile in tiles if "kind=well" in url]
        sites = [f["properties"] for t in after for f in t.get("sites", {}).get("features", [])]
        clusters = sum(f["properties"]["n"] for t in after for f in t.get("clusters", {}).get("features", []))
        return {p["code"] for p in sites}, {p["kind"] for p in sites}, clusters

    def all_wells_received() -> bool:
        codes, _kinds, clusters = received_with_filter()
        return codes == wells or clusters == len(wells)

    wait_until(page, all_wells_received, "the filtered tiles")  # they arrive one by one
    codes, kinds, clusters = received_with_filter()
    assert (codes == wells and kinds == {"well"}) or clusters == len(wells)
    page.select_option("select[name=kind]", "")
    page.check("input[name=due]")
    expect(page.locator("#site-list li")).to_have_count(6)  # the inspected pond is not due
    page.select_option("select[name=state]", "signed_only")
    expect(page.locator("#site-list li")).to_have_count(0)
    expect(page.locator("#list-note")).to_have_text("Không có điểm nào trong khung nhìn với các bộ lọc này.")


def click_area(page, code):
    box = page.locator(f"path.area-{code}").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_drill_down_from_district_to_commune(page, stack, registry, demo_tree):
    open_map(page, stack, "tinh")
    expect(page.locator("#area-name")).to_have_text(demo_tree["99"].name)
    expect(page.locator("path.area")).to_have_count(3)
    click_area(page, "991")
    expect(page.locator("#area-name")).to_have_text(demo_tree["991"].name)
    expect(page.locator("#crumbs")).to_contain_text(demo_tree["99"].name)
    expect(page.locator("#area-total")).to_contain_text("0,0%")  # as the Vietnamese report writes it
    page.wait_for_selector("path.area-99101")
    click_area(page, "99101")
    expect(page.locator("#area-name")).to_have_text(demo_tree["99101"].name)
    assert "area=99101" in page.url
    expect(page.locator("#site-list li")).to_have_count(3)
    for text in page.locator("#site-list li .muted").all_inner_texts():
        assert demo_tree["99101"].name in text
    page.locator("#crumbs a", has_text=demo_tree["99"].name).click()
    expect(page.locator("#area-name")).to_have_text(demo_tree["99"].name)


def test_an_area_name_shows_as_written_in_the_tooltip(page, stack, registry, demo_tree):
    """Area names come from boundary files: a name that looks like HTML is shown as text,
    never inserted as elements (pentest F6)."""
    district = demo_tree["991"]
    district.name = '<b id="injected">Huyện</b> & <img src=x>'
    district.save(update_fields=["name"])
    open_map(page, stack, "tinh")
    page.locator("path.area-991").dispatch_event("mouseover")
    expect(page.locator(".leaflet-tooltip")).to_contain_text(district.name + ":")
    expect(page.locator("#injected, .leaflet-tooltip img")).to_have_count(0)


def test_site_panel_shows_the_history(page, stack, registry):
    open_map(page, stack, "tinh")
    site = registry["99101-0"]
    page.locator("#site-list li", has_text=site.code).locator("a").click()
    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".site-title")).to_contain_text(site.code)
    history = panel.locator(".history li")
    expect(history).to_have_count(2)
    assert f"{days_ago(10, '16:05'):%d/%m/%Y %H:%M}" in history.nth(0).inner_text()
    earlier = history.nth(1).inner_text()
    assert f"{days_ago(100, '08:30'):%d/%m/%Y %H:%M}" in earlier and "Chưa có biển" in earlier
    thumb = history.nth(0).locator(".thumbs img")
    expect(thumb).to_have_count(1)
    assert thumb.get_attribute("src").endswith(".jpg")
    expect(panel.locator("a.edit")).to_have_attribute("href", f"/admin/hazards/site/{site.pk}/change/")
    panel.locator("[data-action=close-panel]").click()
    expect(page.locator("#site-list")).to_be_visible()


def test_a_click_on_a_site_on_the_map_opens_its_panel(page, stack, registry):
    """The sites are drawn on the tiles' canvases: a click on one threw in Leaflet (its
    symbol has no position of its own) and opened nothing; only the list's link opened a
    site (walkthrough)."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    open_map(page, stack, "tinh")
    site = registry["99102-0"]
    lon, lat = site.location.coords
    page.evaluate(
        """([lat, lon]) => new Promise((done) => {
             window.planner.sites.once("load", done);
             window.planner.map.setView([lat, lon], 17);
           })""",
        [lat, lon],
    )
    at = page.evaluate("([lat, lon]) => window.planner.map.latLngToContainerPoint([lat, lon])", [lat, lon])
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])
    expect(page.locator("#panel .site-title")).to_contain_text(site.code)
    assert errors == []


def test_district_manager_never_receives_another_districts_sites(page, stack, registry):
    tiles = record_tiles(page)
    bodies = []
    page.on("response", lambda r: bodies.append(r.text()) if "/map/" in r.url and r.ok and "json" in r.url else None)
    open_map(page, stack, "huyen")
    assert page.locator("#site-list li").count() == 5
    for _ in range(3):
        page.click(".leaflet-control-zoom-out")
        page.wait_for_load_state("networkidle")
    page.click("#tab-priority")
    page.wait_for_selector("#priority-list li")
    page.wait_for_load_state("networkidle")
    others = [s for key, s in registry.items() if key.startswith("992")]
    assert tiles and bodies
    for _url, tile in tiles:
        text = str(tile)
        assert not any(s.code in text or str(s.pk) in text for s in others)
        assert sum(f["properties"]["n"] for f in tile.get("clusters", {}).get("features", [])) <= 5
    for body in bodies:
        assert not any(s.code in body or str(s.pk) in body for s in others)
    status = page.evaluate("id => fetch(`/map/sites/${id}/`).then(r => r.status)", str(others[0].pk))
    assert status == 404


@pytest.fixture
def short_token_stack(stack, certificate, tmp_path):
    """A stack of its own whose tile tokens last 12 seconds (renewed every 4: a renewal
    may take seconds on a loaded machine, through nginx and gunicorn)."""
    cert, key, _spki = certificate
    with running_stack(tmp_path / "stack", cert, key, MAP_TILE_TOKEN_SECONDS="12") as running:
        yield running


def test_the_map_renews_its_tile_token_before_it_expires(page, short_token_stack, registry):
    tiles = record_tiles(page)
    refused, tokens = [], []
    page.on("request", lambda r: tokens.append(r.headers["authorization"]) if "/tiles/sites/" in r.url else None)
    page.on("response", lambda r: refused.append(r.url) if "/tiles/sites/" in r.url and not r.ok else None)
    open_map(page, short_token_stack, "tinh")
    first = wait_until(page, lambda: tokens and tokens[0], "the first tile")

    def first_token_refused() -> bool:
        # Asked through the test's own request context, so the page's requests stay the map's.
        tile = f"{short_token_stack.url}/tiles/sites/0/0/0.pbf"
        return page.request.get(tile, headers={"Authorization": first}).status == 401

    def renewal(response) -> bool:
        return "tile-token.json" in response.url

    # Asked again after each of the page's token renewals (every 4 s), until the server
    # refuses the token the page started with.
    expired = "the first token to expire"
    wait_until(page, first_token_refused, expired, predicate=renewal, recheck_ms=None, timeout_ms=40000)
    received = len(tiles)
    page.click(".leaflet-control-zoom-in")
    wait_until(page, lambda: len(tiles) > received, "a tile after zooming in")
    assert refused == []
    assert tokens[-1] != first


def share_legend(page, selector: str) -> list[tuple[str, str]]:
    """(colour, words) of each entry of a share legend, as the page draws it."""
    return page.locator(f"{selector} .swatch").evaluate_all(
        "(swatches) => swatches.map((s) => [getComputedStyle(s).backgroundColor, s.parentElement.textContent.trim()])"
    )


def shares_of(words: str) -> list[float]:
    """The shares a legend entry names, Vietnamese decimals read ("50–79,9%": 50 and 79.9;
    "< 50%": up to a tenth below 50)."""
    numbers = [float(n.replace(",", ".")) for n in re.findall(r"\d+(?:,\d+)?", words)]
    return [0, numbers[0] - 0.1] if words.startswith("<") else numbers


def colour_of(page, share) -> str:
    """The colour palette.js gives an area of this share, as the browser writes a colour."""
    return page.evaluate(
        """async (share) => {
          const { shareColour } = await import("/static/common/palette.js");
          const probe = document.createElement("span");
          probe.style.background = shareColour(share);
          document.body.append(probe);
          const colour = getComputedStyle(probe).backgroundColor;
          probe.remove();
          return colour;
        }""",
        share,
    )


def test_the_map_and_the_report_name_each_share_colour_alike(page, stack, registry):
    """Both legends of the areas' colours are the palette's bands: each entry's colour is the
    one an area gets at the least and the most share the entry names (80 % lies in one band
    only), and the two pages draw the same bands."""
    open_map(page, stack, "tinh")
    on_map = share_legend(page, ".legend-box")
    page.goto(f"{stack.url}/reports/?kind=year&year={days_ago(0).year}&area=99")
    in_report = share_legend(page, "#area-map ~ .legend")
    bars = page.locator(".bar .fill, .swatch.bar-fill").evaluate_all(
        "(fills) => fills.map((f) => getComputedStyle(f).backgroundColor)"
    )
    assert len(bars) > 1 and set(bars) == {colour_of(page, 100)}  # the protected share, in protected's colour
    for legend in (on_map, in_report):
        for colour, words in legend:
            shares = shares_of(words) or [None]  # the entry of areas without a share
            assert [colour_of(page, share) for share in shares] == [colour] * len(shares), words
    assert [entry for entry, _words in on_map] == [entry for entry, _words in in_report]
    assert [words for _colour, words in on_map[:-1]] == [words for _colour, words in in_report[:-1]]
    assert [words for _colour, words in in_report] == ["100%", "80–99,9%", "50–79,9%", "0–49,9%", "không có điểm"]


def test_the_priority_list_writes_distances_as_vietnamese_numbers(page, stack, registry):
    """The priority list printed "cách Trường Tiểu học … 1490 m" (walkthrough): a number of
    the page in the page's language, 1.490 m in Vietnamese, like its counts."""
    near = registry["99101-0"].location.clone()
    near.y += 0.0135  # about 1.5 km north: within the 2 km that the list names a school
    Place.objects.create(kind="school", name="Trường Tiểu học Thử", location=near)
    open_map(page, stack, "tinh")
    page.click("#tab-priority")
    reason = page.locator(f"#priority-list li[data-id='{registry['99101-0'].pk}'] .muted")
    expect(reason).to_have_text(re.compile(r"cách Trường Tiểu học Thử 1\.\d{3} m"))


def test_the_map_names_the_chosen_area_once(page, stack, registry, demo_tree):
    """The province's map showed "Tỉnh Sông Xanh" twice, the breadcrumb's last step above the
    heading that says it (walkthrough): the steps are the areas above the one shown."""
    open_map(page, stack, "tinh")
    expect(page.locator("#area-name")).to_have_text(demo_tree["99"].name)
    expect(page.locator("aside.side").get_by_text(demo_tree["99"].name, exact=True)).to_have_count(1)
    click_area(page, "991")
    expect(page.locator("#area-name")).to_have_text(demo_tree["991"].name)
    expect(page.locator("#crumbs")).to_have_text(re.compile(rf"^{demo_tree['99'].name}\s*›\s*$"))


def test_the_report_s_trend_chart_shows_each_period_s_name_whole(page, stack, registry, demo_tree, make_site):
    """With the periods named ("6 tháng cuối 2024"), the first label ran past the chart's
    left edge and was cut."""
    make_site(demo_tree["99101"], name="Ao cũ", active_from=dt.date(2020, 1, 1))  # a point in every period
    login(page, stack, "tinh")
    page.goto(f"{stack.url}/reports/?area=99")
    labels = page.locator("svg.trend").evaluate(
        """(svg) => {
          const chart = svg.getBoundingClientRect();
          return [...svg.querySelectorAll("text")].map((t) => {
            const box = t.getBoundingClientRect();
            return [t.textContent, box.left >= chart.left && box.right <= chart.right];
          });
        }"""
    )
    assert len(labels) == 8 and [text for text, whole in labels if not whole] == []

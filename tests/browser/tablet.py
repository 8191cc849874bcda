"""The survey app as a field worker holds it: Chromium with a 10-inch viewport, touch,
Vietnamese, emulated GPS, camera files; helpers shared by the survey's browser tests."""

import random

from django.contrib.gis.geos import Point
from PIL import Image

from hazards.models import Site
from tests.browser.conftest import no_internet
from tests.browser.waiting import wait_until

TABLET = {"width": 1280, "height": 800}
PASSWORD = "pw-Secret-123"


# The app has started and every site it shows has its name and id (the site list's second
# part follows the first, which alone makes the app usable).
READY = "body[data-ready=true][data-sites=named]"


def tablet_options(point: Point | None, accuracy: float = 7) -> dict:
    """A 10-inch Android tablet in Vietnamese with its GPS at `point` (None: no fix, the
    permission not given)."""
    gps = (
        {
            "geolocation": {"latitude": point.y, "longitude": point.x, "accuracy": accuracy},
            "permissions": ["geolocation"],
        }
        if point is not None
        else {}
    )
    return {
        "viewport": TABLET,
        "has_touch": True,
        "is_mobile": True,
        "locale": "vi-VN",
        # Playwright's waiting helpers evaluate strings, which the CSP forbids to pages;
        # the policy itself is checked in test_csp.py.
        "bypass_csp": True,
        **gps,
    }


def tablet(browser, point: Point | None, accuracy: float = 7, **extra):
    context = browser.new_context(**tablet_options(point, accuracy), **extra)
    no_internet(context)
    return context


def sign_in(page, stack, username="lan", ready=READY):
    page.goto(f"{stack.url}/accounts/login/?next=/survey/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(ready)


def open_app(context, stack, gps=True):
    page = context.new_page()
    sign_in(page, stack)
    if gps:
        page.wait_for_function("document.querySelector('#gps').textContent.includes('±')")
    return page


def tap_site(page, site) -> None:
    """A finger on a site's dot (the map draws dots on a canvas: there is no element to click)."""
    at = page.evaluate(
        "([lon, lat]) => window.survey.map.latLngToContainerPoint([lat, lon])", list(site.location.coords)
    )
    box = page.locator("#map").bounding_box()
    page.touchscreen.tap(box["x"] + at["x"], box["y"] + at["y"])
    page.locator("#site-sheet").wait_for()


def closure_form(page, site):
    """The site's sheet with its form proposing to close it open."""
    tap_site(page, site)
    sheet = page.locator("#site-sheet")
    sheet.locator("button.propose-closure").tap()
    return sheet


def photo_file(tmp_path, name="ao.jpg", size=(120, 90), orientation=None) -> "Path":  # noqa: F821
    """A JPEG; size as a camera's gives a file of several MB (noise does not compress)."""
    path = tmp_path / name
    width, height = size
    if width * height > 100_000:
        rng = random.Random(name)
        image = Image.frombytes("RGB", size, rng.randbytes(width * height * 3))
    else:
        # A colour of its own per name: the server keeps one copy of identical photos.
        rng = random.Random(name)
        image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(path, format="JPEG", quality=95, exif=exif.tobytes())
    return path


def choose(form, name, value):
    form.locator(f".choices[data-name={name}] button[data-value={value}]").tap()


def fill_register(page, name, kind="pond", signage="none", barrier="partial", photos=()):
    page.click("#new-site")
    form = page.locator("#register-form")
    choose(form, "kind", kind)
    form.locator("input[name=name]").fill(name)
    choose(form, "signage", signage)
    choose(form, "barrier", barrier)
    for photo in photos:
        add_photo(form, photo)
    return form


def chosen(form, name):
    """The value chosen in a form's group of choices (None: none)."""
    choice = form.locator(f".choices[data-name={name}] .chosen")
    return choice.get_attribute("data-value") if choice.count() else None


def inspect_from_due_list(page, name):
    """The inspection form of the due site named `name`, reached from the due list."""
    page.click("[data-view=due]")
    page.locator("#due-list li", has_text=name).locator("button").tap()
    form = page.locator("#inspect-form")
    form.wait_for()
    return form


def add_photo(form, path, source="camera"):
    count = form.locator(".thumbs li").count()
    form.locator(f"input[name={source}]").set_input_files(str(path))
    form.locator(".thumbs li").nth(count).wait_for()


def save(page, form):
    """Taps Save and waits until the record is in the outbox (the form closes)."""
    form.locator("button[type=submit]").tap()
    form.wait_for(state="hidden")


def register(page, name, saved=True, **fields):
    form = fill_register(page, name, **fields)
    if saved:
        save(page, form)
    else:
        form.locator("button[type=submit]").tap()
    return form


# Every draft kept on the tablet, as the values of its fields and choices.
KEPT_DRAFTS = """() => new Promise((resolve) => {
  const request = indexedDB.open("hazard-survey");
  request.onsuccess = () => {
    const all = request.result.transaction("drafts").objectStore("drafts").getAll();
    all.onsuccess = () => {
      request.result.close();
      resolve(all.result.map((d) => ({ ...d.values.fields, ...d.values.choices })));
    };
  };
})"""


def wait_drafts(page, check, what: str) -> list[dict]:
    """The drafts kept on the tablet once `check(drafts)` holds. Their reading is
    asynchronous, which wait_for_function does not wait for (a promise is truthy)."""
    drafts = []

    def kept():
        drafts[:] = page.evaluate(KEPT_DRAFTS)
        return check(drafts)

    wait_until(page, kept, what)
    return drafts


def unsent(page) -> str:
    return page.locator("#unsent-count").inner_text()


def wait_unsent(page, count: int, timeout=20000) -> None:
    page.wait_for_function(f"document.querySelector('#unsent-count').textContent === '{count}'", timeout=timeout)


def go_offline(context, page):
    """Offline once the service worker controls the page (the app shell is cached)."""
    page.wait_for_function("navigator.serviceWorker.controller !== null || (location.reload(), false)", timeout=15000)
    page.wait_for_selector(READY)
    context.set_offline(True)
    page.wait_for_selector("#net.offline")


def site_markers(page) -> list[dict]:
    """What the map draws for each site: its id, fill, outline and dash."""
    return page.evaluate(
        """() => window.survey.sites.getLayers().map((m) => ({
            id: m.feature.properties.id, name: m.feature.properties.name,
            fill: m.options.fillColor, stroke: m.options.color, dash: m.options.dashArray || null,
        }))"""
    )


def inspect_on_map(page, point, signage="in_place", barrier="complete"):
    """The inspection form of the site at `point`, reached by its dot, its states chosen
    (not saved yet)."""
    page.evaluate("([lon, lat]) => window.survey.map.setView([lat, lon], 18, { animate: false })", list(point.coords))
    tap_site(page, Site(location=point))
    page.locator("#site-sheet button", has_text="Kiểm tra").tap()
    form = page.locator("#inspect-form")
    choose(form, "signage", signage)
    choose(form, "barrier", barrier)
    return form


def refuse_sites(page, *refusals: dict) -> None:
    """The server refuses the next new sites sent, one answer (a 400 body) each, then takes them."""
    answers = list(refusals)

    def site_route(route):
        if answers:
            route.fulfill(status=400, json=answers.pop(0))
        else:
            route.continue_()

    page.route("**/api/v1/sync/sites/", site_route)

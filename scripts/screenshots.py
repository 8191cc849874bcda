"""Screenshots of the main screens for docs/screenshots/, taken from the demo (`make run`
serving on 127.0.0.1:8000) in headless Chromium with a 10-inch tablet viewport.
Usage: .venv/bin/python scripts/screenshots.py [base-url]"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from config.browser import launch

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORD = "SongXanh-2026"  # noqa: S105  (the demo's published password)
# Near a demo pond in Xã Suối Bạc, so the duplicate warning has something to show.
FIELD_POSITION = {"latitude": 22.13830, "longitude": 105.84940, "accuracy": 8}


def sign_in(page, username, url):
    page.goto(f"{BASE}/accounts/login/?next={url}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def tap_site(page):
    """A finger on the first site dot of the survey map (dots are drawn on a canvas)."""
    at = page.evaluate(
        """() => { const m = window.survey.sites.getLayers()[0];
                   return window.survey.map.latLngToContainerPoint(m.getLatLng()); }"""
    )
    box = page.locator("#map").bounding_box()
    page.touchscreen.tap(box["x"] + at["x"], box["y"] + at["y"])


def photo(tmp: Path, name: str, colour) -> Path:
    """A camera-sized picture (a blurred scene) for the register form."""
    from PIL import Image, ImageDraw, ImageFilter

    image = Image.new("RGB", (4000, 3000), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 1700, 4000, 3000], fill=(60, 110, 70))
    draw.ellipse([900, 1900, 3100, 2800], fill=(70, 120, 160))
    path = tmp / name
    image.filter(ImageFilter.GaussianBlur(3)).save(path, format="JPEG", quality=95)
    return path


def survey(browser):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        locale="vi-VN",
        has_touch=True,
        is_mobile=True,
        geolocation=FIELD_POSITION,
        permissions=["geolocation"],
    )
    context.route("https://**/*", lambda route: route.abort())  # no basemap here, as in the field
    page = context.new_page()
    page.goto(f"{BASE}/accounts/login/?next=/survey/")
    page.screenshot(path=OUT / "survey-1-login.png")
    sign_in(page, "canbo.xa", "/survey/")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_timeout(1000)
    page.screenshot(path=OUT / "survey-2-map.png")
    tap_site(page)
    page.wait_for_selector("#site-sheet .history li")
    page.wait_for_timeout(500)
    page.screenshot(path=OUT / "survey-3-site-sheet.png")
    page.click("#site-sheet button:has-text('Đóng')")
    page.click("[data-view=due]")
    page.screenshot(path=OUT / "survey-4-due-list.png")
    page.click("#new-site")
    form = page.locator("#register-form")
    form.locator(".choices[data-name=kind] button[data-value=pond]").tap()
    form.locator("input[name=name]").fill("Ao nhà bà Năm")
    form.locator(".choices[data-name=signage] button[data-value=none]").tap()
    form.locator(".choices[data-name=barrier] button[data-value=partial]").tap()
    with tempfile.TemporaryDirectory() as tmp:
        for i, colour in enumerate([(150, 190, 230), (170, 200, 220)]):
            form.locator("input[name=camera]").set_input_files(str(photo(Path(tmp), f"{i}.jpg", colour)))
            form.locator(".thumbs li").nth(i).wait_for()
    page.wait_for_timeout(500)
    page.screenshot(path=OUT / "survey-5-register.png", full_page=True)
    context.set_geolocation({**FIELD_POSITION, "accuracy": 180})
    page.wait_for_selector("#reg-location.danger")
    page.locator("#reg-map").scroll_into_view_if_needed()
    page.screenshot(path=OUT / "survey-6-vague-gps.png")
    context.set_geolocation(FIELD_POSITION)
    page.wait_for_selector("#reg-location:not(.danger)")
    form.locator("button[type=submit]").tap()
    page.wait_for_timeout(500)
    page.screenshot(path=OUT / "survey-7-duplicate-warning.png")
    page.click("#open-existing")
    page.wait_for_selector("#no-change")
    page.wait_for_timeout(500)
    page.screenshot(path=OUT / "survey-8-inspect.png", full_page=True)
    context.set_offline(True)
    page.click("#no-change")
    page.wait_for_selector("#view-due:not([hidden])")
    page.click("[data-view=outbox]")
    page.wait_for_timeout(300)
    page.screenshot(path=OUT / "survey-9-outbox-offline.png")
    page.click("#menu-button")
    page.wait_for_timeout(300)
    page.screenshot(path=OUT / "survey-10-menu.png")
    # The queued inspection goes with the throw-away browser context: the demo is unchanged.
    context.close()
    # A new tablet opened by the manager's QR code.
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="vi-VN", has_touch=True, is_mobile=True
    )
    context.route("https://**/*", lambda route: route.abort())
    page = context.new_page()
    page.goto(f"{BASE}/survey/#pair=ABCD-EFGH")
    page.wait_for_selector("#view-pair:not([hidden])")
    page.wait_for_timeout(500)
    page.screenshot(path=OUT / "survey-11-pairing.png")
    context.close()


def reports(browser):
    """The report page and the first page of its PDF (rendered with pdftoppm when present)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
    context.route("https://**/*", lambda route: route.abort())
    page = context.new_page()
    sign_in(page, "quanly.tinh", "/reports/")
    page.wait_for_selector("table.report")
    page.wait_for_timeout(800)
    page.screenshot(path=OUT / "report-1-page.png", full_page=True)
    page.click("table.report tbody tr:first-child td:last-child a")
    page.screenshot(path=OUT / "report-2-sites-behind-a-number.png", full_page=True)
    page.goto(f"{BASE}/reports/")
    with page.expect_download() as download:
        page.click("text=PDF")
    pdf = OUT / "report.pdf"
    download.value.save_as(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", pdf, OUT / "report-3-pdf-page-1"],
            check=True,
        )
    pdf.unlink()
    context.close()


def planner_map(browser):
    """The planner map of the province, a drill-down to a commune with a site's panel, and
    the priority list (no basemap: the machine is offline, as the map must cope with)."""
    context = browser.new_context(viewport={"width": 1400, "height": 860}, locale="vi-VN")
    context.route("https://**/*", lambda route: route.abort())
    page = context.new_page()
    sign_in(page, "quanly.tinh", "/map/")
    page.wait_for_selector("#site-list li")
    page.wait_for_timeout(1500)
    page.screenshot(path=OUT / "map-1-province.png")

    def click_area(code):  # the middle of the area's outline box
        box = page.locator(f"path.area-{code}").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    click_area("991")
    page.wait_for_selector("path.area-99102")
    page.wait_for_timeout(1500)
    page.screenshot(path=OUT / "map-2-drill-down-district.png")
    page.goto(f"{BASE}/map/?area=99102")  # the commune, as its shared link opens it
    page.wait_for_selector("#site-list li")
    page.wait_for_timeout(1500)
    page.locator("#site-list li a").first.click()
    page.wait_for_selector("#panel .history")
    page.wait_for_timeout(800)
    page.screenshot(path=OUT / "map-3-commune-with-site-panel.png")
    page.goto(f"{BASE}/map/")
    page.wait_for_selector("#site-list li")
    page.click("#tab-priority")
    page.wait_for_selector("#priority-list li")
    page.wait_for_timeout(1500)
    page.screenshot(path=OUT / "map-4-priority-list.png")
    context.close()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        survey(browser)
        reports(browser)
        planner_map(browser)
        browser.close()
    print(f"Screenshots written to {OUT}")


if __name__ == "__main__":
    main()

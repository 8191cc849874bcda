"""Screenshots of the main screens for docs/screenshots/, taken from the demo (`make run`
serving on 127.0.0.1:8000) in headless Chromium with a 10-inch tablet viewport.
Usage: .venv/bin/python scripts/screenshots.py [base-url] [part ...]
(parts: survey, reports, map, remediation; all by default)"""

import datetime as dt
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from config.browser import launch

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORD = "SongXanh-2026"  # noqa: S105  (the demo's published password)
# Where the field worker stands: about 11 m north of a demo pond of their commune (found
# when the script starts: the demo's positions change with what it draws), so the map
# opens on it and registering here shows the duplicate warning.
FIELD_POSITION = {}


def sign_in(page, username, url):
    page.goto(f"{BASE}/accounts/login/?next={url}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def find_field_position(browser) -> None:
    """FIELD_POSITION near an unprotected pond of the field worker's commune, by the REST API."""
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    sign_in(page, "canbo.xa", "/api/v1/")
    answer = page.request.get(f"{BASE}/api/v1/sites/?kind=pond&state=unprotected&page_size=1").json()
    lon, lat = answer["features"][0]["geometry"]["coordinates"]
    FIELD_POSITION.update(latitude=lat + 0.0001, longitude=lon, accuracy=8)
    context.close()


def tap_site(page):
    """A finger on the site dot nearest the map's middle (dots are drawn on a canvas)."""
    at = page.evaluate(
        """() => { const map = window.survey.map, middle = map.getCenter();
                   const near = window.survey.sites.getLayers().sort(
                     (a, b) => middle.distanceTo(a.getLatLng()) - middle.distanceTo(b.getLatLng()))[0];
                   return map.latLngToContainerPoint(near.getLatLng()); }"""
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
    page.locator("#site-sheet button.propose-closure").tap()
    page.locator("#site-sheet select").select_option("filled_in")
    page.locator("#site-sheet input").fill("Ao đã được san lấp")
    page.screenshot(path=OUT / "survey-12-propose-closing.png")  # not sent: the demo stays as it is
    page.locator("#site-sheet button", has_text="Đóng").tap()  # "Close" the sheet
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


# LibreOffice turns the DOCX into pages to look at; a documentation tool, not something
# the registry needs (so not in `make setup`).
LIBREOFFICE = "apt-get install -y --no-install-recommends libreoffice-writer-nogui"


def _docx_as_pdf(document: Path) -> Path | None:
    """The DOCX as LibreOffice lays it out, or None (said aloud) without LibreOffice. Its
    own profile: another soffice running on the machine would otherwise take the job."""
    if not shutil.which("soffice"):
        print(f"LibreOffice (soffice) is not installed: no screenshots of {document.name}. To make them: {LIBREOFFICE}")
        document.unlink()
        return None
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                document.parent,
                document,
            ],
            check=True,
            capture_output=True,
        )
    document.unlink()
    return document.with_suffix(".pdf")


def _page_count(document: Path) -> int:
    info = subprocess.run(["pdfinfo", document], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info)[1])


def _pages_with(document: Path, texts: list[str]) -> list[int]:
    """The first page showing each text (pdftotext), so that the screenshots show the
    heading, the signature and the annex wherever the layout puts them."""
    pages = []
    for text in texts:
        for number in range(1, _page_count(document) + 1):
            shown = subprocess.run(
                ["pdftotext", "-f", str(number), "-l", str(number), document, "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            if text in shown:
                pages.append(number)
                break
    return sorted(set(pages))


def _pages_as_png(document: Path | None, name: str, pages: list[int]) -> None:
    """Pages of a PDF as PNG (pdftoppm, from poppler-utils)."""
    if document is None:
        return
    if not shutil.which("pdftoppm"):
        print(f"pdftoppm (poppler-utils) is not installed: no screenshots of {document.name}")
        return
    total = _page_count(document)
    for number, page in enumerate(pages, start=1):
        page = total if page == -1 else page
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "80",
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                document,
                OUT / f"{name}-{number}",
            ],
            check=True,
        )
    document.unlink()


def _download(page, link_text: str, path: Path) -> Path:
    with page.expect_download() as download:
        page.click(f"p.files >> text={link_text}")
    download.value.save_as(path)
    return path


def reports(browser):
    """The report page, the sites behind a number, the report as a document (PDF: first
    page and annex), then a district's report submitted (its DOCX through LibreOffice), a late
    inspection sent by a tablet, and the submission's page marking what changed. This
    adds one submission and one inspection to the demo."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="vi-VN")
    context.route("https://**/*", lambda route: route.abort())
    page = context.new_page()
    sign_in(page, "quanly.huyen", "/reports/")
    page.wait_for_selector("table.report")
    page.wait_for_timeout(800)
    page.screenshot(path=OUT / "report-1-page.png", full_page=True)
    report_url = page.url
    page.click("table.report tbody tr:first-child td.count a >> nth=0")  # the sites counting
    page.screenshot(path=OUT / "report-2-sites-behind-a-number.png", full_page=True)
    page.goto(report_url)
    _pages_as_png(_download(page, "PDF", OUT / "report.pdf"), "report-3-pdf-page", [1, 2, 3])

    page.click("text=Nộp báo cáo này")  # "Submit this report"
    page.fill("input[name=signer_name]", "Nguyễn Văn An")
    page.fill(
        "textarea[name=narrative]",
        "Các xã đã rà soát toàn bộ ao, hồ, giếng trên địa bàn; còn nhiều điểm chưa có rào chắn.",
    )
    page.screenshot(path=OUT / "report-5-submit-form.png", full_page=True)
    page.click("form.stacked button[type=submit]")
    page.wait_for_selector("table.report")
    submission_url = page.url
    # The editable DOCX as submitted (its number given), as the department opens it to
    # sign: the heading and Table 1, the signature, the annex.
    docx = _docx_as_pdf(_download(page, "DOCX", OUT / "report-submitted.docx"))
    if docx is not None:
        for old in OUT.glob("report-4-docx-page-*.png"):
            old.unlink()
        _pages_as_png(docx, "report-4-docx-page", _pages_with(docx, ["BÁO CÁO", "Nơi nhận:", "PHỤ LỤC"]))
    _late_inspection(browser)
    page.goto(submission_url)
    page.wait_for_selector("table.report")
    page.screenshot(path=OUT / "report-6-submission-changed-since.png", full_page=True)
    context.close()
    above = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="vi-VN")
    above.route("https://**/*", lambda route: route.abort())
    province = above.new_page()
    sign_in(province, "quanly.tinh", submission_url.removeprefix(BASE))
    province.wait_for_selector("table.report")
    province.screenshot(path=OUT / "report-7-submission-for-the-area-above.png", full_page=True)
    province.goto(f"{BASE}/khong-co-trang-nay/")
    province.screenshot(path=OUT / "report-8-page-not-found.png")
    above.close()


def _late_inspection(browser):
    """A tablet that was offline sends a check made before the end of the last half-year."""
    context = browser.new_context(locale="vi-VN")
    context.route("https://**/*", lambda route: route.abort())
    page = context.new_page()
    sign_in(page, "canbo.xa", "/survey/")
    page.wait_for_selector("body[data-ready=true]")
    # The REST API's list, whose shape (GeoJSON) is stable, not the survey's packed one.
    sites = page.request.get(f"{BASE}/api/v1/sites/?state=unprotected&page_size=1").json()["features"]
    today = dt.date.today()
    end = dt.date(today.year, 6, 30) if today.month > 6 else dt.date(today.year - 1, 12, 31)
    token = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
    # A sign and barrier that protect the site, from the state table the app's page carries.
    states = page.evaluate("JSON.parse(document.getElementById('survey-config').textContent).states")
    signage, barrier = next(pair for pair, state in states.items() if state == "protected").split("|")
    record = {
        "id": str(uuid.uuid4()),
        "site": sites[0]["id"],
        "inspected_at": f"{end}T16:00:00+07:00",  # the last check before the period ended
        "signage": signage,
        "barrier": barrier,
    }
    response = page.request.post(f"{BASE}/api/v1/sync/inspections/", data=record, headers={"X-CSRFToken": token})
    print("late inspection:", response.status, response.text()[:200])
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
    page.click("#panel details.life summary")
    page.wait_for_timeout(300)
    page.screenshot(path=OUT / "map-5-close-from-the-site-panel.png")
    page.goto(f"{BASE}/map/")
    page.wait_for_selector("#site-list li")
    page.click("#tab-priority")
    page.wait_for_selector("#priority-list li")
    page.wait_for_timeout(1500)
    page.screenshot(path=OUT / "map-4-priority-list.png")
    context.close()


def remediation(browser):
    """Follow-up lists, an order, opening one from the map panel, the campaign board and its
    editing, and the field worker's due list with the order awaiting verification first."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="vi-VN")
    context.route("https://**/*", lambda route: route.abort())
    page = context.new_page()
    sign_in(page, "quanly.huyen", "/orders/")
    page.wait_for_selector("table.followup")
    page.screenshot(path=OUT / "orders-1-follow-up.png", full_page=True)
    page.goto(f"{BASE}/orders/?area=99101&order=done")
    page.locator("table.orders tbody a").first.click()
    page.wait_for_selector(".order-state")
    page.screenshot(path=OUT / "orders-2-order.png", full_page=True)
    # A site of the commune that is not protected and has no order yet.
    sites = page.request.get(f"{BASE}/api/v1/sites/?area=99101&page_size=500").json()
    ordered = {
        o["site_code"] for o in page.request.get(f"{BASE}/api/v1/orders/?area=99101&limit=1000").json()["results"]
    }
    code = next(
        p["code"]
        for p in (f["properties"] for f in sites["features"])
        if not p["protected"] and not p["closed_at"] and p["code"] not in ordered
    )
    page.goto(f"{BASE}/map/?area=99101")
    page.wait_for_selector("#site-list li")
    page.wait_for_timeout(1000)
    page.locator("#site-list li", has_text=code).locator("a").click()
    page.wait_for_selector("#panel a.open-order")
    page.wait_for_timeout(500)
    page.screenshot(path=OUT / "orders-3-map-panel.png")
    page.click("#panel a.open-order")
    page.wait_for_selector("#order-form")
    page.screenshot(path=OUT / "orders-4-open-an-order.png", full_page=True)
    page.goto(f"{BASE}/campaigns/")
    page.locator("table.report a").first.click()
    page.wait_for_selector("table.board")
    page.screenshot(path=OUT / "campaign-1-board.png", full_page=True)
    context.close()
    # The province's manager renames the provincial campaign or moves its window (not saved:
    # the demo stays as it is); the district's manager sees no such link.
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="vi-VN")
    context.route("https://**/*", lambda route: route.abort())
    page = context.new_page()
    sign_in(page, "quanly.tinh", "/campaigns/")
    page.locator("table.report a").first.click()
    page.click("#campaign-edit")
    page.wait_for_selector("#campaign-edit-form")
    page.screenshot(path=OUT / "campaign-2-edit.png", full_page=True)
    context.close()
    tablet = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="vi-VN", has_touch=True, is_mobile=True,
        geolocation=FIELD_POSITION, permissions=["geolocation"],
    )  # fmt: skip
    tablet.route("https://**/*", lambda route: route.abort())
    page = tablet.new_page()
    sign_in(page, "canbo.xa", "/survey/")
    page.wait_for_selector("body[data-ready=true]")
    page.click("[data-view=due]")
    page.wait_for_timeout(500)
    page.screenshot(path=OUT / "survey-9-due-list-order-first.png")
    tablet.close()


PARTS = {"survey": survey, "reports": reports, "map": planner_map, "remediation": remediation}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    parts = sys.argv[2:] or list(PARTS)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        find_field_position(browser)
        for part in parts:
            PARTS[part](browser)
        browser.close()
    print(f"Screenshots written to {OUT}")


if __name__ == "__main__":
    main()

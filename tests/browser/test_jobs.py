"""A planner asks for long work in Chromium on the production stack: the national report
PDF and a national GeoPackage export go to the worker; the job's page follows the work by
itself and offers the file, which nginx sends (X-Accel-Redirect)."""

import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import days_ago, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def registry(demo_tree, make_site, inspect):
    inspect(make_site(demo_tree["99101"], name="Ao rào xong"), days_ago(30), "in_place", "complete")
    make_site(demo_tree["99201"], name="Giếng huyện khác", kind="well")


def follow_to_the_file(page, tmp_path, name: str):
    """On a job's page: it follows the work by itself until the file is offered."""
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("#job-file")).to_be_visible(timeout=120_000)
    with page.expect_download() as arriving:
        page.click("#job-file")
    path = tmp_path / name
    arriving.value.save_as(path)
    return path


def test_the_national_pdf_and_export_are_made_by_the_worker_and_arrive(page, stack, registry, superuser, tmp_path):
    login(page, stack, superuser.username)
    page.goto(f"{stack.url}/reports/?kind=year&year={days_ago(30).year}")  # the year of the inspection
    page.click("p.files a:text-is('PDF')")
    page.wait_for_url("**/jobs/*/")
    pdf = follow_to_the_file(page, tmp_path, "report.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")

    page.goto(f"{stack.url}/api/v1/exports/sites.gpkg")
    page.wait_for_url("**/jobs/*/")
    gpkg = follow_to_the_file(page, tmp_path, "sites.gpkg")
    info = subprocess.run(["ogrinfo", "-so", "-al", gpkg], check=True, capture_output=True, text=True).stdout
    assert "Feature Count: 2" in info

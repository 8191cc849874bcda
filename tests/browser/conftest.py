"""Playwright driving Debian's Chromium against pytest-django's live server."""

import os

import pytest
from playwright.sync_api import sync_playwright

from config.browser import launch

# Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are
# still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    # No internet here: basemap tiles are blocked so tests never wait on them.
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN", bypass_csp=True)
    context.route("https://**/*", lambda route: route.abort())
    page = context.new_page()
    yield page
    context.close()


def login(page, live_server, username, password="pw-Secret-123"):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")

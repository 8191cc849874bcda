"""Playwright driving Debian's Chromium against the production stack (the `stack`
fixture, tests/stack.py): nginx with TLS in front of gunicorn and the job worker,
production settings, hashed static files, on the test database."""

import datetime as dt
import os
import time

import pytest
from django.conf import global_settings
from django.db import connection
from django.utils import timezone
from playwright.sync_api import sync_playwright

from accounts.models import Role
from config.browser import CHROMIUM, CHROMIUM_ARGS

# Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are
# still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def production_password_hashing(settings):
    """Accounts made by a test sign in through the stack, which knows only production's
    password hashers."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


# The stack's sessions on the test database that are inside a transaction: a request
# being answered, or a job being run.
BUSY = """
SELECT coalesce(string_agg(left(query, 120), ' | '), '') FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND backend_type = 'client backend' AND xact_start IS NOT NULL
"""


@pytest.fixture(autouse=True)
def nothing_left_running(request):
    """After each test, before its tables are emptied for the next one: every page it
    opened is closed (tablets' contexts are left open by the tests, and a survey page
    syncs on its own) and the stack has finished what they asked. Emptying the tables
    while a request was writing to them deadlocked now and then, and a page left open
    sent its records into the next test."""
    yield
    if "browser" in request.fixturenames:
        for context in request.getfixturevalue("browser").contexts:
            context.close()
    if "stack" not in request.fixturenames:
        return
    deadline = time.monotonic() + 60
    while True:
        with connection.cursor() as cursor:
            cursor.execute(BUSY)
            busy = cursor.fetchone()[0]
        if not busy:
            return
        assert time.monotonic() < deadline, f"the stack was still busy 60 s after the test: {busy}"
        time.sleep(0.05)


@pytest.fixture(scope="session")
def playwright():
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def chromium_args(certificate) -> list[str]:
    """Debian's Chromium as the project launches it, trusting the test stacks' certificate."""
    _cert, _key, spki = certificate
    return [*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={spki}"]


@pytest.fixture(scope="session")
def browser(playwright, chromium_args):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=chromium_args)
    yield browser
    browser.close()


def no_internet(context) -> None:
    """No internet here: every request that is not for this machine (basemap tiles) is
    refused at once, so tests never wait on them."""
    context.route(lambda url: not url.startswith("https://127.0.0.1:"), lambda route: route.abort())


@pytest.fixture
def page(browser):
    # ignore_https_errors: for requests Playwright itself sends (route.fetch), which do not
    # go through Chromium's trust of the test certificate.
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, locale="vi-VN", bypass_csp=True, ignore_https_errors=True
    )
    no_internet(context)
    page = context.new_page()
    yield page
    context.close()


def days_ago(days: int, time: str = "09:00") -> dt.datetime:
    """That time of the day `days` before today, Vietnam time, on the real clock. Browser
    tests run on it (the stack and Chromium keep their own clocks, which no fixture
    freezes), so they write their dates relative to it: what is recent, due or in the
    future stays so whenever the suite runs."""
    hour, minute = map(int, time.split(":"))
    return timezone.localtime().replace(hour=hour, minute=minute, second=0, microsecond=0) - dt.timedelta(days=days)


def login(page, stack, username, password="pw-Secret-123"):
    page.goto(f"{stack.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


@pytest.fixture
def worker(demo_tree, make_user):
    """Lan, field worker of commune 99101 (the survey tests sign in as her)."""
    return make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)


@pytest.fixture
def stack_sessions(settings, stack):
    """Sessions read and written as the stack signs them, with its secret key: with the
    tests' own, each session decodes to nothing, and a check of whose it is cannot fail."""
    settings.SECRET_KEY = (stack.dir / "secret_key").read_text().strip()

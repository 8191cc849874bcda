"""With the Content Security Policy enforced, the pages run without a single violation."""

import pytest

from accounts.models import Role
from tests.browser.conftest import no_internet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/admin/",
    "/admin/hazards/site/",
    "/admin/hazards/site/add/",
    "/admin/hazards/inspection/add/",
    "/api/v1/docs/",
    "/survey/",
]


def test_pages_run_under_the_policy(browser, stack, demo_tree, make_user, make_site):
    make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    make_site(demo_tree["99101"])
    context = browser.new_context(locale="vi-VN")  # CSP enforced
    no_internet(context)
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{stack.url}/accounts/login/?next=/admin/")
    page.fill("input[name=username]", "nam")
    page.fill("input[name=password]", "pw-Secret-123")
    page.click("button[type=submit]")
    for path in PAGES:
        page.goto(f"{stack.url}{path}", wait_until="networkidle")
        assert problems == [], (path, problems)
    # The scripts did run: the admin map drew its site, the survey app started.
    page.goto(f"{stack.url}/admin/hazards/site/", wait_until="networkidle")
    assert page.locator("path.site-dot").count() == 1
    page.goto(f"{stack.url}/survey/", wait_until="networkidle")
    assert page.locator("body[data-ready=true]").count() == 1
    context.close()

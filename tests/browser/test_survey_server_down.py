"""The network is up but the server does not answer (nginx's 503 while the application
is away): the tablet says so in words, when it tries again, and sends at once on request."""

import re

import pytest

from hazards.models import Site
from tests.browser.tablet import inspect_on_map, register, save, sign_in, tablet, unsent, wait_unsent
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# nginx's page while the application is away; Retry-After puts the next try 10 minutes off,
# so the one that follows is the one asked for.
UNAVAILABLE = {
    "status": 503,
    "body": "<html><h1>503 Service Temporarily Unavailable</h1></html>",
    "content_type": "text/html",
    "headers": {"Retry-After": "600"},
}


def test_a_server_that_does_not_answer_is_said_in_words_and_send_now_sends(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = context.new_page()
    sign_in(page, stack)
    page.route("**/api/v1/sync/sites/", lambda route: route.fulfill(**UNAVAILABLE))
    register(page, "Ao chờ máy chủ")
    page.click("[data-view=outbox]")
    retry = page.locator("#outbox-list .retry")
    retry.wait_for()
    # "The server does not answer; the tablet tries again by itself at HH:MM (tried 1 times)."
    assert re.search(r"Máy chủ không trả lời.*lúc \d{1,2}:\d{2}", retry.inner_text())
    assert "HTTP" not in page.locator("#outbox-list").inner_text()
    assert page.locator("#net").inner_text() == "Máy chủ không trả lời"
    assert unsent(page) == "1"

    page.unroute("**/api/v1/sync/sites/")
    page.locator("#outbox-list button.send-now").tap()
    wait_unsent(page, 0)
    assert page.locator("#net").inner_text() == "Có mạng"
    assert Site.objects.filter(name="Ao chờ máy chủ").count() == 1
    context.close()


def test_the_header_keeps_saying_the_server_does_not_answer_while_nothing_got_through(
    browser, stack, worker, demo_tree
):
    """Walkthrough 19-2, #2: a round in which no record's turn had come (the site waiting for
    its next try, an inspection of it waiting for the site) turned the pill green, "Có
    mạng", beside the outbox line saying the server does not answer."""
    point = inside(demo_tree["99101"])
    context = tablet(browser, point)
    page = context.new_page()
    sign_in(page, stack)
    page.route("**/api/v1/sync/sites/", lambda route: route.fulfill(**UNAVAILABLE))
    register(page, "Ao chờ máy chủ")
    page.wait_for_function("document.querySelector('#net').textContent === 'Máy chủ không trả lời'")

    # The worker inspects the site still waiting: the round that follows sends nothing.
    form = inspect_on_map(page, point)
    rounds = page.evaluate("Number(document.body.dataset.syncRounds || 0)")
    save(page, form)
    page.wait_for_function(f"Number(document.body.dataset.syncRounds || 0) > {rounds}")
    assert unsent(page) == "2"
    assert page.locator("#net").inner_text() == "Máy chủ không trả lời"
    context.close()

"""The header's progress while the outbox goes: what has been sent of the whole, not only
what is left."""

import pytest

from tests.browser.tablet import go_offline, open_app, photo_file, register, tablet, wait_unsent
from tests.browser.waiting import wait_until
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_overall_progress_shows_sent_of_total(browser, stack, worker, demo_tree, tmp_path):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    go_offline(context, page)
    register(page, "Ao một", photos=[photo_file(tmp_path, "a.jpg")])
    register(page, "Ao hai", kind="canal", photos=[photo_file(tmp_path, "b.jpg")])
    wait_unsent(page, 2)
    uploads, held = [], []

    def photo_route(route):
        uploads.append(route)
        if len(uploads) == 2:
            held.append(route)  # the second record's photo waits, so the header can be read
        else:
            route.continue_()

    page.route("**/api/v1/sync/photos/**", photo_route)
    context.set_offline(False)
    wait_until(page, lambda: held, "the second photo, held by the route", event="request")
    overall = page.locator("#overall-progress")
    # "Sent 1 of 2 records · photos x of y KB"
    assert "Đã gửi 1/2 bản ghi" in overall.inner_text()
    assert 0.3 < float(overall.locator("progress").evaluate("p => p.value")) < 1
    held[0].continue_()
    wait_unsent(page, 0)
    context.close()

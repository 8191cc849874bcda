"""A tablet nobody is signed in on takes no record (none could be sent) and says what to
do; a record made before a session ended waits for the same person's next sign-in, never
sent under another's name."""

import pytest

from accounts.models import Role
from hazards.models import Site
from tests.browser.tablet import READY, go_offline, open_app, register, sign_in, tablet, unsent, wait_unsent
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOBODY = "Chưa có ai đăng nhập trên máy tính bảng này"


def test_a_tablet_never_signed_in_takes_no_record_and_says_what_to_do(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = context.new_page()
    page.goto(f"{stack.url}/survey/")
    page.wait_for_selector("body[data-ready=true]")
    page.locator("#view-pair").wait_for()
    page.click("#new-site")
    assert page.locator("#view-register").is_hidden()
    assert NOBODY in page.locator("#banner").inner_text()
    assert page.locator("#view-pair").is_visible() and unsent(page) == "0"
    context.close()


def test_after_signing_out_the_banner_says_to_sign_in(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    page.click("#menu-button")
    with page.expect_navigation():
        page.click("#sign-out-button")
    page.wait_for_selector(READY)
    page.locator("#banner", has_text=NOBODY).wait_for()
    # Not "your session has ended ... your records are kept": there are none.
    assert "phiên" not in page.locator("#banner").inner_text().lower()
    page.click("#new-site")
    assert page.locator("#view-register").is_hidden()
    context.close()


def test_records_wait_for_the_same_persons_next_sign_in(browser, stack, worker, demo_tree, make_user):
    make_user("minh", demo_tree["99101"], Role.FIELD_WORKER)
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    go_offline(context, page)
    register(page, "Ao của Lan")
    wait_unsent(page, 1)
    # Lan's session ends while she is in the field; back online, the tablet says whom to sign in.
    context.clear_cookies()
    context.set_offline(False)
    page.locator("#banner", has_text="lan").wait_for()

    # Minh signs in on the same tablet: Lan's record is not sent under his name.
    sign_in(page, stack, "minh")
    rounds = page.evaluate("Number(document.body.dataset.syncRounds || 0)")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function(f"Number(document.body.dataset.syncRounds || 0) > {rounds}")
    assert not Site.objects.filter(name="Ao của Lan").exists()
    assert unsent(page) == "1"
    page.click("[data-view=outbox]")
    assert "lan" in page.locator("#outbox-list .owner").inner_text()

    context.clear_cookies()
    sign_in(page, stack, "lan")
    wait_unsent(page, 0)
    assert Site.objects.get(name="Ao của Lan").created_by == worker
    context.close()

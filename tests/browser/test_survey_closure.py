"""Proposing to close a site from the tablet asks for the reason: the list opened on "Đã
san lấp" (filled in), so a tap on Send proposed that, unread (walkthrough 19-2, #8)."""

import pytest

from hazards.models import ClosureProposal
from tests.browser.tablet import closure_form, open_app, tablet, unsent
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_closure_proposal_is_sent_only_with_a_reason_the_worker_chose(browser, stack, worker, demo_tree, make_site):
    site = make_site(demo_tree["99101"], name="Ao cạn")
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    sheet = closure_form(page, site)
    reason = sheet.locator("select")
    assert reason.input_value() == ""
    assert reason.locator("option:checked").inner_text() == "Chọn lý do…"
    sheet.locator("button.primary", has_text="Gửi đề xuất").tap()
    assert sheet.locator(".form-errors").inner_text() == "Chọn lý do đóng điểm."
    assert unsent(page) == "0"
    page.click("[data-view=outbox]")
    assert page.locator("#outbox-list .chip").count() == 0

    page.click("[data-view=map]")
    assert sheet.is_visible()
    reason.select_option("drained")
    sheet.locator("button.primary", has_text="Gửi đề xuất").tap()
    sheet.wait_for(state="hidden")
    page.click("[data-view=outbox]")
    page.wait_for_selector("#outbox-list .chip.sent")
    assert ClosureProposal.objects.get().reason == "drained"
    context.close()

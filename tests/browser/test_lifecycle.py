"""A site's life in the browser: a field worker proposes closing a site from the tablet's
site sheet (through the outbox), a manager closes a site from the map's site panel."""

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from hazards.models import ClosureProposal, Site
from tests.browser.conftest import login
from tests.browser.tablet import open_app, tablet, tap_site
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_field_worker_proposes_closing_a_site_from_the_tablet(browser, stack, worker, demo_tree, make_site):
    site = make_site(demo_tree["99101"], name="Ao đã lấp")
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    tap_site(page, site)
    sheet = page.locator("#site-sheet")
    sheet.locator("button.propose-closure").tap()
    sheet.locator("select").select_option("filled_in")
    sheet.locator("input").fill("Đã san lấp")
    sheet.locator("button.primary", has_text="Gửi đề xuất").tap()  # "Send proposal"
    page.click("[data-view=outbox]")
    page.wait_for_selector("#outbox-list .chip.sent")
    proposal = ClosureProposal.objects.get()
    assert (proposal.site_id, proposal.reason, proposal.note, proposal.status) == (
        site.pk,
        "filled_in",
        "Đã san lấp",
        "pending",
    )
    context.close()


def test_a_manager_closes_a_site_from_the_map_panel(page, stack, demo_tree, make_site, make_user):
    site = make_site(demo_tree["99101"], name="Ao cạn")
    make_user("tinh", demo_tree["99"], Role.AREA_MANAGER, is_staff=True)
    login(page, stack, "tinh")
    page.goto(f"{stack.url}/map/")
    page.locator("#site-list li", has_text=site.code).locator("a").click()
    panel = page.locator("#panel")
    panel.locator("details.life summary").click()
    panel.locator("select[name=reason]").select_option("drained")
    panel.locator("input[name=closed_at]").fill("2030-01-01")
    panel.locator("form[data-panel-form] button[type=submit]").click()
    expect(panel.locator("form[data-panel-form] .errors")).to_contain_text("tương lai")  # "in the future"
    panel.locator("input[name=closed_at]").fill("")
    panel.locator("form[data-panel-form] button[type=submit]").click()
    expect(panel.locator("details.life summary")).to_have_text("Mở lại điểm này")  # "Reopen this site"
    assert Site.objects.get(pk=site.pk).close_reason == "drained"

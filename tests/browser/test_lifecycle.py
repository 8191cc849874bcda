"""A site's life in the browser: a field worker proposes closing a site from the tablet's
site sheet (through the outbox) and sees the manager's decision there, online and
offline; a manager closes a site from the map's site panel."""

import pytest
from django.contrib.gis.geos import Point
from playwright.sync_api import expect

from accounts.models import Role
from hazards import lifecycle
from hazards.models import ClosureProposal, Site
from tests.browser.conftest import days_ago, login
from tests.browser.tablet import READY, closure_form, go_offline, open_app, tablet, tap_site
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_field_worker_proposes_closing_a_site_from_the_tablet(browser, stack, worker, demo_tree, make_site):
    site = make_site(demo_tree["99101"], name="Ao đã lấp")
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    sheet = closure_form(page, site)
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


def propose_closing(page, site, reason, note):
    sheet = closure_form(page, site)
    sheet.locator("select").select_option(reason)
    sheet.locator("input").fill(note)
    sheet.locator("button.primary", has_text="Gửi đề xuất").tap()  # "Send proposal"
    sheet.wait_for(state="hidden")


def test_the_worker_sees_the_managers_decisions_on_the_tablet_offline_too(
    browser, stack, worker, demo_tree, make_site, make_user
):
    commune = demo_tree["99101"]
    here = inside(commune)
    kept = make_site(commune, name="Ao còn nước", location=Point(here.x - 0.002, here.y, srid=4326))
    gone = make_site(commune, name="Hố đã lấp", location=Point(here.x + 0.002, here.y, srid=4326))
    context = tablet(browser, here)
    page = open_app(context, stack)
    propose_closing(page, kept, "drained", "Ao cạn hết nước")
    propose_closing(page, gone, "filled_in", "Đã san lấp")
    page.click("[data-view=outbox]")
    expect(page.locator("#outbox-list .chip.sent")).to_have_count(2)
    # Sent, waiting: said on the site, which offers no second proposal meanwhile.
    expect(page.locator("#proposal-list li[data-status=pending]")).to_have_count(2)
    page.click("[data-view=map]")
    tap_site(page, kept)
    sheet = page.locator("#site-sheet")
    expect(sheet.locator(".proposal-line.proposal-pending")).to_contain_text(
        "Chờ cán bộ quản lý"
    )  # "Waiting for a manager"
    expect(sheet.locator("button.propose-closure")).to_have_count(0)

    manager = make_user("quanly", demo_tree["991"], Role.AREA_MANAGER)
    lifecycle.closure_decline(
        actor=manager, proposal=ClosureProposal.objects.get(site=kept), note="Mùa mưa ao lại đầy, giữ biển báo"
    )
    lifecycle.closure_confirm(actor=manager, proposal=ClosureProposal.objects.get(site=gone))
    page.reload()
    page.wait_for_selector(READY)

    def decisions_shown():
        page.click("[data-view=outbox]")
        declined = page.locator("#proposal-list li[data-status=declined]")
        expect(declined).to_contain_text("Ao còn nước")
        expect(declined).to_contain_text("Không đồng ý")  # "Declined"
        expect(declined).to_contain_text("Mùa mưa ao lại đầy, giữ biển báo")
        expect(declined).to_contain_text("quanly")
        expect(page.locator("#proposal-list li[data-status=confirmed]")).to_contain_text("Hố đã lấp")
        page.click("[data-view=map]")
        tap_site(page, kept)
        line = page.locator("#site-sheet .proposal-line.proposal-declined")
        expect(line).to_contain_text("Mùa mưa ao lại đầy, giữ biển báo")
        # Refused: the worker may propose again, with better evidence.
        expect(page.locator("#site-sheet button.propose-closure")).to_be_visible()

    decisions_shown()
    # Offline, from what the tablet kept: after a restart too.
    go_offline(context, page)
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    decisions_shown()
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
    panel.locator("input[name=closed_at]").fill(days_ago(-30).date().isoformat())
    panel.locator("form[data-panel-form] button[type=submit]").click()
    expect(panel.locator("form[data-panel-form] .errors")).to_contain_text("tương lai")  # "in the future"
    panel.locator("input[name=closed_at]").fill("")
    panel.locator("form[data-panel-form] button[type=submit]").click()
    expect(panel.locator("details.life summary")).to_have_text("Mở lại điểm này")  # "Reopen this site"
    assert Site.objects.get(pk=site.pk).close_reason == "drained"

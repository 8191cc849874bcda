"""A manager renames a campaign and moves its window on its page, in Vietnamese, through
the production stack: the board shows what was saved, and moving the first day of a
campaign that has opened is refused with the reason, nothing stored."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from hazards import campaigns
from hazards.models import Campaign
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_renames_a_campaign_and_moves_its_window_on_its_page(page, stack, demo_tree, make_user, make_site):
    manager = make_user("quanly", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    make_site(demo_tree["99101"], name="Ao nhà ông Ba")
    today = timezone.localdate()
    opened, ends = today - dt.timedelta(days=5), today + dt.timedelta(days=30)
    campaign = campaigns.campaign_start(
        actor=manager, name="Trước hè", area=demo_tree["991"], starts_on=opened, ends_on=ends
    )
    login(page, stack, "quanly")

    # Renamed and extended by a month from its board.
    page.goto(f"{stack.url}/campaigns/{campaign.pk}/")
    page.click("#campaign-edit")
    form = page.locator("#campaign-edit-form")
    expect(form.locator("input[name=name]")).to_have_value("Trước hè")
    form.locator("input[name=name]").fill("Kiểm tra trước hè 2026")
    later = ends + dt.timedelta(days=31)
    form.locator("input[name=ends_on]").fill(later.isoformat())
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{stack.url}/campaigns/{campaign.pk}/")
    expect(page.locator("h1")).to_have_text("Kiểm tra trước hè 2026")
    expect(page.locator("main, body").first).to_contain_text(f"{opened:%d/%m/%Y} – {later:%d/%m/%Y}")
    campaign.refresh_from_db()
    assert (campaign.name, campaign.starts_on, campaign.ends_on) == ("Kiểm tra trước hè 2026", opened, later)

    # Its first day cannot move once it has opened: the page says why and keeps what was typed.
    page.click("#campaign-edit")
    form = page.locator("#campaign-edit-form")
    form.locator("input[name=starts_on]").fill((today + dt.timedelta(days=1)).isoformat())
    form.locator("input[name=name]").fill("Tên khác")
    form.locator("button[type=submit]").click()
    refusal = page.locator("#campaign-edit-form .errors")
    expect(refusal).to_contain_text(f"Đợt kiểm tra đã bắt đầu từ ngày {opened:%d/%m/%Y}")
    expect(refusal).to_contain_text("ngày bắt đầu được giữ nguyên. Hãy dời ngày kết thúc.")
    expect(page.locator("#campaign-edit-form input[name=name]")).to_have_value("Tên khác")
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.name, stored.starts_on, stored.ends_on) == ("Kiểm tra trước hè 2026", opened, later)

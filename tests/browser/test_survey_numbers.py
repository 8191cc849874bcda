"""Numbers typed on the tablet: Vietnamese writes decimals with a comma (2,5), and a
worker may write a point; both are 2.5, and what is not a number is said before saving."""

from decimal import Decimal

import pytest

from hazards.models import Inspection, Site
from tests.browser.tablet import fill_register, open_app, save, tablet, unsent, wait_unsent
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def type_into(form, name, text):
    """As a finger types it, key by key (a number field judged each key)."""
    field = form.locator(f"input[name={name}]")
    field.fill("")
    field.press_sequentially(text)


def type_depths(form, depth, water_depth):
    type_into(form, "depth_m", depth)
    type_into(form, "water_depth_m", water_depth)


def test_a_decimal_comma_and_a_decimal_point_both_read_as_decimals(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    form = fill_register(page, "Ao sâu")
    type_depths(form, "2,5", "1.5")
    save(page, form)
    wait_unsent(page, 0)
    site = Site.objects.get(name="Ao sâu")
    assert site.depth_m == Decimal("2.5")
    assert Inspection.objects.get(site=site).water_depth_m == Decimal("1.5")
    context.close()


def refused_before_saving(form) -> str:
    """Save tapped: the form stays, saying why (the text of its errors)."""
    form.locator("button[type=submit]").tap()
    errors = form.locator(".form-errors")
    errors.wait_for(state="visible")
    return errors.inner_text()


def test_what_is_not_a_number_is_refused_with_a_reason_before_saving(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    form = fill_register(page, "Ao nhầm")
    type_into(form, "depth_m", "hai mét")
    # "Depth (m): “hai mét” is not a number. Write it like 2,5 or 2.5."
    assert "Độ sâu (m): “hai mét” không phải là số" in refused_before_saving(form)
    assert form.locator("input[name=depth_m]").get_attribute("aria-invalid") == "true"
    assert form.is_visible() and unsent(page) == "0"
    type_into(form, "depth_m", "3,25")
    save(page, form)
    wait_unsent(page, 0)
    assert Site.objects.get(name="Ao nhầm").depth_m == Decimal("3.25")
    context.close()


def test_a_record_back_in_its_form_shows_its_depth_with_a_comma(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    refusal = '{"code": "invalid", "detail": "Tên đã có.", "errors": {"name": ["Tên đã có."]}}'
    page.route(
        "**/api/v1/sync/sites/", lambda route: route.fulfill(status=400, body=refusal, content_type="application/json")
    )
    form = fill_register(page, "Ao bị từ chối")
    type_into(form, "depth_m", "2,5")
    save(page, form)
    page.click("[data-view=outbox]")
    page.locator("#outbox-list .fix").tap()
    assert form.locator("input[name=depth_m]").input_value() == "2,5"
    context.close()


def test_the_servers_limits_are_checked_in_the_form_before_saving(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    form = fill_register(page, "Ao quá sâu")
    # Checked as the server keeps it, to the centimetre: 4 mm is no depth, 300.004 m is 300.
    type_depths(form, "0,004", "300,004")
    errors = refused_before_saving(form)
    assert "Độ sâu (m): Độ sâu phải lớn hơn 0 và không quá 300 m." in errors and "Độ sâu nước" not in errors
    type_depths(form, "301", "0")
    errors = refused_before_saving(form)
    # The server's own message ("more than 0 and at most 300 m"), for each depth.
    assert "Độ sâu (m): Độ sâu phải lớn hơn 0 và không quá 300 m." in errors
    assert "Độ sâu nước (m): Độ sâu phải lớn hơn 0 và không quá 300 m." in errors
    assert form.is_visible() and unsent(page) == "0"
    type_depths(form, "300", "0,5")
    save(page, form)
    wait_unsent(page, 0)
    site = Site.objects.get(name="Ao quá sâu")
    assert site.depth_m == Decimal("300") and Inspection.objects.get(site=site).water_depth_m == Decimal("0.5")
    context.close()

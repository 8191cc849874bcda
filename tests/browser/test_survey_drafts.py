"""A form being filled is kept on the tablet until it is saved or cancelled: Android may
discard the page while the camera app is open, and the worker comes back to a page loaded
again (walkthrough 19-2, #1). The app opens the form again, as it was, photos included."""

import pytest

from hazards.models import Site
from tests.browser.tablet import (
    READY,
    add_photo,
    choose,
    fill_register,
    go_offline,
    open_app,
    photo_file,
    save,
    tablet,
    unsent,
    wait_unsent,
)
from tests.browser.test_survey_cancel import answer_dialogs
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESTORED = "Biểu mẫu bạn chưa lưu đã được mở lại như lúc trước: kiểm tra rồi bấm Lưu lại."


def reload(page):
    page.reload()
    page.wait_for_selector(READY)


def test_a_half_filled_registration_comes_back_after_the_page_loads_again_offline(
    browser, stack, worker, demo_tree, tmp_path
):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    go_offline(context, page)
    form = fill_register(page, "Đập tràn thôn Bản Chang", kind="dam", signage="none", barrier="none")
    form.locator("input[name=depth_m]").fill("3,5")
    add_photo(form, photo_file(tmp_path))
    # The pin moved by hand stays where the worker put it.
    page.locator("#reg-map").scroll_into_view_if_needed()
    box = page.locator("#reg-map").bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.4)
    pin = page.locator("#reg-location", has_text="đặt bằng tay")
    pin.wait_for()
    pin = pin.inner_text()

    reload(page)
    assert form.is_visible()
    assert form.locator(".draft-note").inner_text() == RESTORED
    assert form.locator("input[name=name]").input_value() == "Đập tràn thôn Bản Chang"
    assert form.locator("input[name=depth_m]").input_value() == "3,5"
    assert form.locator(".choices[data-name=kind] .chosen").get_attribute("data-value") == "dam"
    assert form.locator(".choices[data-name=barrier] .chosen").get_attribute("data-value") == "none"
    assert form.locator(".thumbs li").count() == 1
    assert page.locator("#reg-location").inner_text() == pin

    save(page, form)
    assert unsent(page) == "1"
    # Saved: nothing opens again.
    reload(page)
    assert page.locator("#view-register").is_hidden()
    context.set_offline(False)
    wait_unsent(page, 0)
    site = Site.objects.get(name="Đập tràn thôn Bản Chang")
    assert float(site.depth_m) == 3.5
    assert site.inspections.get().photos.count() == 1
    context.close()


def test_a_half_filled_inspection_comes_back_and_cancel_lets_it_go(
    browser, stack, worker, demo_tree, make_site, tmp_path
):
    make_site(demo_tree["99101"], name="Giếng cũ", kind="well")
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    page.click("[data-view=due]")
    page.locator("#due-list li", has_text="Giếng cũ").locator("button").tap()
    form = page.locator("#inspect-form")
    choose(form, "signage", "in_place")
    form.locator("textarea[name=notes]").fill("Biển mới cắm")
    add_photo(form, photo_file(tmp_path))

    reload(page)
    assert form.is_visible()
    assert "Giếng cũ" in page.locator("#inspect-title").inner_text()
    assert form.locator(".choices[data-name=signage] .chosen").get_attribute("data-value") == "in_place"
    assert form.locator(".choices[data-name=barrier] .chosen").count() == 0
    assert form.locator("textarea[name=notes]").input_value() == "Biển mới cắm"
    assert form.locator(".thumbs li").count() == 1

    answer_dialogs(page, accept=True)
    form.locator(".cancel").tap()
    form.wait_for(state="hidden")
    reload(page)
    assert page.locator("#view-inspect").is_hidden()
    context.close()


def test_a_form_left_for_another_view_is_taken_up_where_it_was(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    form = fill_register(page, "Ao nhà ông Sáu")
    page.click("[data-view=outbox]")
    page.click("#new-site")
    assert form.locator("input[name=name]").input_value() == "Ao nhà ông Sáu"
    save(page, form)
    page.click("#new-site")
    assert form.locator("input[name=name]").input_value() == ""
    context.close()

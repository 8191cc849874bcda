"""Cancel on a half-filled form asks before throwing away what the worker entered."""

import pytest

from hazards.models import Site
from tests.browser.tablet import add_photo, choose, fill_register, open_app, photo_file, tablet, unsent
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def answer_dialogs(page, accept: bool) -> list[str]:
    """The confirmations the page asks, each answered `accept`."""
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.on("dialog", answer)
    return asked


def test_cancel_asks_before_discarding_a_half_filled_form_and_its_photos(browser, stack, worker, demo_tree, tmp_path):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    form = fill_register(page, "Ao đang ghi")
    add_photo(form, photo_file(tmp_path))
    asked = answer_dialogs(page, accept=False)
    form.locator(".cancel").tap()
    assert asked == ["Bỏ biểu mẫu này? Những gì bạn đã nhập, kể cả ảnh, sẽ mất."]
    # Kept, photo included.
    assert form.is_visible()
    assert form.locator("input[name=name]").input_value() == "Ao đang ghi"
    assert form.locator(".thumbs li").count() == 1
    context.close()


def test_cancel_discards_once_confirmed_and_an_untouched_form_closes_at_once(
    browser, stack, worker, demo_tree, make_site
):
    make_site(demo_tree["99101"], name="Giếng cũ", kind="well")
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    asked = answer_dialogs(page, accept=True)
    page.click("#new-site")
    form = page.locator("#register-form")
    form.locator(".cancel").tap()
    form.wait_for(state="hidden")
    assert asked == []

    page.click("[data-view=due]")
    page.locator("#due-list li", has_text="Giếng cũ").locator("button").tap()
    inspect = page.locator("#inspect-form")
    choose(inspect, "signage", "in_place")
    inspect.locator(".cancel").tap()
    inspect.wait_for(state="hidden")
    assert len(asked) == 1
    assert unsent(page) == "0" and not Site.objects.filter(inspections__isnull=False).exists()
    context.close()

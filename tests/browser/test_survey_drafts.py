"""A form being filled is kept on the tablet until it is saved or cancelled: Android may
discard the page while the camera app is open, and the worker comes back to a page loaded
again (walkthrough 19-2, #1). The app opens the form again, as it was, photos included.
Every form begun is kept, not only the last one: a registration left for another site's
inspection, an inspection left for another, a refused record being fixed left for a new
one each wait for the worker, who takes them up where they were."""

import pytest
from django.contrib.gis.geos import Point

from accounts.models import Role
from hazards.models import Site
from tests.browser.tablet import (
    READY,
    add_photo,
    choose,
    chosen,
    fill_register,
    go_offline,
    inspect_from_due_list,
    inspect_on_map,
    open_app,
    photo_file,
    refuse_sites,
    register,
    save,
    sign_in,
    tablet,
    unsent,
    wait_drafts,
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
    wait_unsent(page, 0)  # nothing on its way to the server as the test ends
    context.close()


def tap_reg_map(page, x=0.7, y=0.4):
    """A finger on the registration map: the pin goes there, placed by hand."""
    page.locator("#reg-map").scroll_into_view_if_needed()
    box = page.locator("#reg-map").bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] * x, box["y"] + box["height"] * y)
    pin = page.locator("#reg-location", has_text="đặt bằng tay")
    pin.wait_for()
    return pin.inner_text()


def test_a_registration_left_for_another_sites_inspection_is_there_again_with_its_photo_and_pin(
    browser, stack, worker, demo_tree, make_site, tmp_path
):
    """The reviewer's case: a new pond begun (fields, a photo, a pin), the worker goes back
    to the map and begins inspecting another site, then taps "Register a site" again."""
    here = inside(demo_tree["99101"])
    well = make_site(
        demo_tree["99101"], name="Giếng cũ", kind="well", location=Point(here.x + 0.003, here.y, srid=4326)
    )
    context = tablet(browser, here)
    page = open_app(context, stack)
    # In the field, without a network: both records go together once it is back.
    context.set_offline(True)
    page.wait_for_selector("#net.offline")
    form = fill_register(page, "Ao nhà ông Bảy", signage="damaged", barrier="none")
    form.locator("input[name=depth_m]").fill("2,5")
    add_photo(form, photo_file(tmp_path))
    pin = tap_reg_map(page)

    page.click("[data-view=map]")
    inspection = inspect_on_map(page, well.location, signage="none", barrier="partial")
    inspection.locator("textarea[name=notes]").fill("Rào gãy một đoạn")

    page.click("#new-site")
    assert form.is_visible()
    assert form.locator("input[name=name]").input_value() == "Ao nhà ông Bảy"
    assert form.locator("input[name=depth_m]").input_value() == "2,5"
    assert chosen(form, "signage") == "damaged"
    assert form.locator(".thumbs li").count() == 1
    assert page.locator("#reg-location").inner_text() == pin

    # The inspection left for it waits too, and the site's Inspect takes it up.
    page.click("[data-view=map]")
    inspection = inspect_on_map(page, well.location, signage="none", barrier="partial")
    assert inspection.locator("textarea[name=notes]").input_value() == "Rào gãy một đoạn"
    save(page, inspection)
    page.click("#new-site")
    save(page, form)
    assert unsent(page) == "2"
    context.set_offline(False)
    wait_unsent(page, 0)
    site = Site.objects.get(name="Ao nhà ông Bảy")
    assert site.inspections.get().photos.count() == 1
    assert well.inspections.get().notes == "Rào gãy một đoạn"
    context.close()


def test_an_inspection_left_for_another_sites_waits_across_a_reload_and_is_taken_up_where_it_was(
    browser, stack, worker, demo_tree, make_site, tmp_path
):
    here = inside(demo_tree["99101"])
    make_site(demo_tree["99101"], name="Giếng cũ", kind="well", location=Point(here.x + 0.002, here.y, srid=4326))
    make_site(demo_tree["99101"], name="Ao đình làng", location=Point(here.x - 0.002, here.y, srid=4326))
    context = tablet(browser, here)
    page = open_app(context, stack)
    go_offline(context, page)
    form = inspect_from_due_list(page, "Giếng cũ")
    choose(form, "signage", "in_place")
    form.locator("textarea[name=notes]").fill("Biển mới cắm")
    add_photo(form, photo_file(tmp_path, "gieng.jpg"))

    # Another site's inspection opens empty: nothing of the well's comes with it.
    form = inspect_from_due_list(page, "Ao đình làng")
    assert "Ao đình làng" in page.locator("#inspect-title").inner_text()
    assert chosen(form, "signage") is None
    assert form.locator("textarea[name=notes]").input_value() == ""
    assert form.locator(".thumbs li").count() == 0
    choose(form, "barrier", "complete")
    add_photo(form, photo_file(tmp_path, "ao.jpg"))

    # Android reloads the page (the camera app): the form on screen opens again, the
    # other waits and is listed.
    reload(page)
    assert form.is_visible()
    assert "Ao đình làng" in page.locator("#inspect-title").inner_text()
    assert form.locator(".draft-note").inner_text() == RESTORED
    assert chosen(form, "barrier") == "complete"
    assert form.locator(".thumbs li").count() == 1
    page.click("[data-view=outbox]")
    waiting = page.locator("#draft-list li")
    assert waiting.count() == 2
    assert "Giếng cũ" in page.locator("#draft-list").inner_text()

    waiting.filter(has_text="Giếng cũ").locator("button.continue").tap()
    assert "Giếng cũ" in page.locator("#inspect-title").inner_text()
    assert chosen(form, "signage") == "in_place"
    assert form.locator("textarea[name=notes]").input_value() == "Biển mới cắm"
    assert form.locator(".thumbs li").count() == 1
    choose(form, "barrier", "none")
    save(page, form)
    page.click("[data-view=outbox]")
    assert page.locator("#draft-list li").count() == 1

    form = inspect_from_due_list(page, "Ao đình làng")
    assert chosen(form, "barrier") == "complete"
    assert form.locator(".thumbs li").count() == 1
    choose(form, "signage", "none")
    save(page, form)
    assert unsent(page) == "2"
    context.set_offline(False)
    wait_unsent(page, 0)
    assert Site.objects.get(name="Giếng cũ").inspections.get().photos.count() == 1
    assert Site.objects.get(name="Ao đình làng").inspections.get().photos.count() == 1
    context.close()


def test_a_refused_record_being_fixed_waits_while_a_new_site_is_registered(browser, stack, worker, demo_tree, tmp_path):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    refuse_sites(
        page, {"code": "invalid", "detail": "Bản ghi bị từ chối.", "errors": {"name": ["Tên đã có người dùng."]}}
    )
    register(page, "Ao", kind="pond")
    page.click("[data-view=outbox]")
    page.locator("#outbox-list li.outbox-refused button.fix").tap()
    # The rest in the field, without a network: what is saved goes together once it is back.
    context.set_offline(True)
    page.wait_for_selector("#net.offline")
    form = page.locator("#register-form")
    form.locator("input[name=name]").fill("Ao nhà ông Tư")
    add_photo(form, photo_file(tmp_path))

    # A new site, begun while the fix waits: the form is empty, not the record being fixed.
    page.click("#new-site")
    assert form.locator("input[name=name]").input_value() == ""
    assert form.locator(".thumbs li").count() == 0
    choose(form, "kind", "well")
    form.locator("input[name=name]").fill("Giếng mới")
    choose(form, "signage", "none")
    choose(form, "barrier", "none")
    tap_reg_map(page, 0.2, 0.8)
    save(page, form)
    assert unsent(page) == "2"

    page.click("[data-view=outbox]")
    page.locator("#outbox-list li.outbox-refused button.fix").tap()
    assert form.locator("input[name=name]").input_value() == "Ao nhà ông Tư"
    assert form.locator(".thumbs li").count() == 1
    save(page, form)
    context.set_offline(False)
    wait_unsent(page, 0)
    assert sorted(Site.objects.values_list("name", flat=True)) == ["Ao nhà ông Tư", "Giếng mới"]
    assert Site.objects.get(name="Ao nhà ông Tư").inspections.get().photos.count() == 1
    context.close()


def test_forms_not_saved_wait_for_the_person_who_began_them_and_keep_them_from_signing_out(
    browser, stack, worker, demo_tree, make_user
):
    make_user("minh", demo_tree["99101"], Role.FIELD_WORKER)
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    form = fill_register(page, "Ao của Lan")
    page.click("#menu-button")
    page.click("#sign-out-button")
    page.locator("#sign-out-note", has_text="chưa lưu").wait_for()
    page.locator("#menu-dialog .close").click()
    assert page.locator("#draft-count").inner_text() == "1"

    # Lan's session ends; Minh signs in on the same tablet: her form is not his.
    context.clear_cookies()
    sign_in(page, stack, "minh")
    assert page.locator("#view-register").is_hidden()
    assert page.locator("#drafts-button").is_hidden()
    page.click("#new-site")
    assert form.locator("input[name=name]").input_value() == ""

    context.clear_cookies()
    sign_in(page, stack, "lan")
    assert form.is_visible()
    assert form.locator("input[name=name]").input_value() == "Ao của Lan"
    context.close()


# The previous app's database (db.js version 2) holding its one draft, as it kept it.
V2_DRAFT = """async () => {
  const canvas = new OffscreenCanvas(64, 48);
  canvas.getContext("2d").fillRect(0, 0, 64, 48);
  const blob = await canvas.convertToBlob({ type: "image/jpeg" });
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open("hazard-survey", 2);
    request.onupgradeneeded = () => {
      request.result.createObjectStore("outbox", { keyPath: "id" });
      request.result.createObjectStore("cache", { keyPath: "key" });
      request.result.createObjectStore("device", { keyPath: "key" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const draft = {
    form: "register-form", owner: "lan", editing: null, pin: null,
    values: { fields: { name: "Ao trước bản cập nhật", depth_m: "1,5", water_depth_m: "", notes: "", accuracy_confirmed: false },
              choices: { kind: "pond", deep_water: "true", signage: "none", barrier: "none", water_present: "true" } },
    photos: [{ id: crypto.randomUUID(), type: "image/jpeg", blob, bytes: blob.size, sent: false }],
  };
  await new Promise((resolve, reject) => {
    const tx = db.transaction("cache", "readwrite");
    tx.objectStore("cache").put({ key: "draft", value: draft, at: Date.now() });
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
}"""


def test_the_draft_kept_by_the_previous_app_opens_after_the_update(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = context.new_page()
    page.goto(f"{stack.url}/accounts/login/")
    page.evaluate(V2_DRAFT)
    sign_in(page, stack)
    form = page.locator("#register-form")
    assert form.is_visible()
    assert form.locator(".draft-note").inner_text() == RESTORED
    assert form.locator("input[name=name]").input_value() == "Ao trước bản cập nhật"
    assert form.locator(".thumbs li").count() == 1
    save(page, form)
    wait_unsent(page, 0)
    assert Site.objects.get(name="Ao trước bản cập nhật").inspections.get().photos.count() == 1
    context.close()


def test_a_registration_taken_up_elsewhere_keeps_the_place_where_it_was_begun(browser, stack, worker, demo_tree):
    """The pin the GPS put follows the tablet while the form is on screen; once the form
    is left, it stays where the site is. Taken up 2.6 km away after a reload, the form
    put its pond where the tablet was then (walkthrough)."""
    pond = inside(demo_tree["99101"])
    context = tablet(browser, pond)
    page = open_app(context, stack)
    fill_register(page, "Ao nhà ông Tư", kind="pond")
    pin = page.locator("#reg-location")
    pin.wait_for()
    begun = pin.inner_text()
    assert f"{pond.y:.6f}"[:7] in begun  # the GPS's place, to about 10 m

    elsewhere = Point(pond.x + 0.02, pond.y + 0.015)  # a couple of kilometres away
    context.set_geolocation({"latitude": elsewhere.y, "longitude": elsewhere.x, "accuracy": 7})
    reload(page)
    form = page.locator("#register-form")
    assert form.locator(".draft-note").inner_text() == RESTORED
    page.wait_for_function(
        "(at) => document.querySelector('#gps').textContent.includes(at)", arg=f"{elsewhere.y:.6f}"[:7]
    )
    assert f"{pond.y:.6f}"[:7] in page.locator("#reg-location").inner_text()
    save(page, form)
    wait_unsent(page, 0)
    site = Site.objects.get(name="Ao nhà ông Tư")
    assert site.location.distance(pond) < 0.0001
    context.close()


def test_open_the_existing_site_from_a_registration_keeps_the_inspection_begun_there(
    browser, stack, worker, demo_tree, make_site, tmp_path
):
    """An inspection of a pond begun (its sign found missing, a note), then the pond
    registered again by mistake: "Open the existing site" wrote the registration's answers
    over the inspection begun (walkthrough). The inspection keeps its answers unless the
    worker chooses the registration's, or goes back to the registration; what does not
    collide (the registration's photo, an answer the inspection did not give) comes along."""
    here = inside(demo_tree["99101"])
    pond = make_site(demo_tree["99101"], name="Ao đã có", location=Point(here.x + 0.0001, here.y, srid=4326))
    context = tablet(browser, here)
    page = open_app(context, stack)
    form = inspect_from_due_list(page, "Ao đã có")
    choose(form, "signage", "none")
    form.locator("textarea[name=notes]").fill("Biển bị mất")
    page.wait_for_selector("#draft-count:text('1')")

    registration = fill_register(page, "Ao mới trùng", signage="damaged", barrier="partial")
    add_photo(registration, photo_file(tmp_path))
    registration.locator("button[type=submit]").tap()
    page.locator("#duplicate-dialog").wait_for()
    page.click("#open-existing")
    page.wait_for_selector("#existing-dialog[open], #view-inspect:not([hidden]) .thumbs li")
    dialog = page.locator("#existing-dialog")
    assert dialog.is_visible(), "the registration's answers were written over the inspection begun"
    text = dialog.inner_text()
    assert "Biển báo: Không có biển báo" in text and "Biển báo: Biển báo hư hỏng" in text
    assert "Rào chắn" not in text  # not answered in the inspection: the registration's comes

    # Back: both forms as they were.
    dialog.locator("button[value=back]").tap()
    registration.wait_for()
    assert registration.locator("input[name=name]").input_value() == "Ao mới trùng"
    assert page.locator("#draft-count").inner_text() == "2"

    registration.locator("button[type=submit]").tap()
    page.click("#open-existing")
    dialog.locator("button[value=keep]").tap()
    page.wait_for_selector("#draft-count:text('1')")  # the registration went into the inspection
    assert form.is_visible()
    assert (chosen(form, "signage"), chosen(form, "barrier")) == ("none", "partial")
    assert form.locator("textarea[name=notes]").input_value() == "Biển bị mất"
    assert form.locator(".thumbs li").count() == 1
    save(page, form)
    wait_unsent(page, 0)
    latest = pond.inspections.get()
    assert (latest.signage, latest.barrier, latest.notes) == ("none", "partial", "Biển bị mất")
    assert latest.photos.count() == 1
    assert Site.objects.count() == 1
    context.close()


def test_a_form_open_in_two_tabs_keeps_what_each_tab_was_given(browser, stack, worker, demo_tree, make_site):
    """The app open in a second tab took up the inspection begun in the first, and the
    worker went on there; a tap in the first tab, left open with its older copy, wrote that
    copy over the draft, and what was given in the second tab was gone. A tab now never
    writes over a draft another tab has kept since: its own copy is kept beside it."""
    make_site(demo_tree["99101"], name="Giếng cũ", kind="well")
    context = tablet(browser, inside(demo_tree["99101"]))
    first = open_app(context, stack)
    form = inspect_from_due_list(first, "Giếng cũ")
    choose(form, "signage", "none")
    first.wait_for_selector("#draft-count:text('1')")

    second = context.new_page()
    second.goto(f"{stack.url}/survey/")
    second.wait_for_selector(READY)
    later = second.locator("#inspect-form")
    assert later.is_visible() and chosen(later, "signage") == "none"  # the form on screen, taken up
    later.locator("textarea[name=notes]").fill("Ghi ở thẻ thứ hai")
    choose(later, "barrier", "complete")
    wait_drafts(second, lambda drafts: any(d["barrier"] == "complete" for d in drafts), "the second tab's draft kept")

    choose(form, "water_present", "false")  # the first tab, with its older copy
    drafts = wait_drafts(
        first, lambda drafts: any(d["water_present"] == "false" for d in drafts), "the first tab's copy kept"
    )
    assert any(d["notes"] == "Ghi ở thẻ thứ hai" and d["barrier"] == "complete" for d in drafts), drafts
    assert len(drafts) == 2
    second.reload()
    second.wait_for_selector(READY)
    assert second.locator("#draft-count").inner_text() == "2"  # both listed, to continue or discard
    context.close()

"""Photos on the tablet (issue #19, item 1): several per record from camera and gallery,
added not replaced, each removable; made small before queueing; progress while sending."""

from pathlib import Path

import pytest
from django.conf import settings

from hazards.models import Photo, Site
from tests.browser.tablet import add_photo, fill_register, open_app, photo_file, save, tablet, wait_unsent
from tests.browser.waiting import wait_until
from tests.conftest import inside
from tests.security.camera_photo import camera_jpeg, metadata_left, red_corner

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CAMERA = (4000, 3000)  # a tablet camera's 12 megapixels


def test_camera_and_gallery_photos_add_up_and_can_be_removed(browser, stack, worker, demo_tree, tmp_path):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    form = fill_register(page, "Ao nhiều ảnh")
    add_photo(form, photo_file(tmp_path, "1.jpg"))
    add_photo(form, photo_file(tmp_path, "2.jpg"))  # a second camera tap: added, not replacing
    form.locator("input[name=gallery]").set_input_files([str(photo_file(tmp_path, f"g{i}.jpg")) for i in (3, 4)])
    form.locator(".thumbs li").nth(3).wait_for()
    assert form.locator(".thumbs li img").count() == 4
    form.locator(".thumbs li").nth(1).locator("button.remove").tap()
    assert form.locator(".thumbs li").count() == 3
    box = form.locator(".thumbs li").first.locator("button.remove").bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    save(page, form)
    wait_unsent(page, 0)
    site = Site.objects.get(name="Ao nhiều ảnh")
    assert Photo.objects.filter(inspection__site=site).count() == 3
    context.close()


def test_photos_are_downscaled_upright_before_queueing_with_progress(browser, stack, worker, demo_tree, tmp_path):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    uploads, held = [], []

    def photo_route(route):
        uploads.append(route.request.post_data_buffer)
        if len(uploads) == 2:
            held.append(route)  # the second photo waits, so its progress can be seen
        else:
            route.continue_()

    page.route("**/api/v1/sync/photos/**", photo_route)
    upright = photo_file(tmp_path, "upright.jpg", size=CAMERA)
    # Stored landscape, shown portrait: EXIF orientation 6 (turn 90° clockwise).
    turned = photo_file(tmp_path, "turned.jpg", size=CAMERA, orientation=6)
    assert upright.stat().st_size > 3_000_000
    form = fill_register(page, "Ao ảnh lớn", photos=[upright, turned])
    sizes = form.locator(".thumbs li span").all_inner_texts()
    assert all(int(s.split()[0].replace(".", "")) < 1600 for s in sizes), sizes  # KB, before sending
    save(page, form)
    wait_until(page, lambda: held, "the second photo, held by the route", event="request")
    page.click("[data-view=outbox]")
    # Half the record's photos are up: its bar and the header's say so.
    record_bar = page.locator("#outbox-list li progress")
    assert record_bar.is_visible() and 0.3 < float(record_bar.evaluate("p => p.value")) < 1
    overall = page.locator("#overall-progress")
    assert overall.is_visible() and "KB" in overall.inner_text()
    held[0].continue_()
    wait_unsent(page, 0)
    photos = list(Photo.objects.filter(inspection__site__name="Ao ảnh lớn").order_by("created_at"))
    assert len(photos) == 2
    for data in uploads:
        assert len(data) < 1_600_000  # noise is the worst case; a real scene is under 400 KB
    assert sorted((p.width, p.height) for p in photos) == [(1200, 1600), (1600, 1200)]
    page.locator("#overall-progress").wait_for(state="hidden")
    context.close()


def test_a_real_looking_photo_is_under_400_kb(browser, stack, worker, demo_tree, tmp_path):
    """A smooth scene (sky, water, a bank) as a camera gives it, 12 megapixels, 4+ MB."""
    from PIL import Image, ImageDraw, ImageFilter

    path = tmp_path / "scene.jpg"
    image = Image.new("RGB", CAMERA, (120, 170, 220))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 1500, 4000, 3000], fill=(40, 90, 60))
    for i in range(0, 4000, 40):
        draw.line([(i, 1500 + (i * 7) % 300), (i + 400, 3000)], fill=(20 + i % 90, 70, 50), width=9)
    image = image.filter(ImageFilter.GaussianBlur(1))
    image.save(path, format="JPEG", quality=98)
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    uploads = []
    page.on("request", lambda r: uploads.append(len(r.post_data_buffer)) if "/sync/photos/" in r.url else None)
    form = fill_register(page, "Ao cảnh thật", photos=[path])
    save(page, form)
    wait_unsent(page, 0)
    assert len(uploads) == 1 and uploads[0] < 400_000, uploads
    context.close()


def test_a_photo_chosen_in_the_form_is_stored_with_its_pixels_only(browser, stack, worker, demo_tree, tmp_path):
    """A phone's photo with every kind of metadata (GPS, maker notes, comments, XMP, ICC
    text, IPTC, a trailer), chosen in the survey form: the photo and the thumbnail a person
    downloads (through nginx) hold its pixels, upright, and nothing else."""
    source = tmp_path / "camera.jpg"
    source.write_bytes(camera_jpeg(size=(640, 480), orientation=6))
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    form = fill_register(page, "Ao ảnh có GPS")
    add_photo(form, source, source="gallery")
    save(page, form)
    wait_unsent(page, 0)
    photo = Photo.objects.get(inspection__site__name="Ao ảnh có GPS")
    assert (photo.width, photo.height) == (480, 640)  # upright
    download = "url => fetch(url).then(r => r.arrayBuffer()).then(b => Array.from(new Uint8Array(b)))"
    for stored in (photo.image, photo.thumbnail):
        served = bytes(page.evaluate(download, stored.url))
        assert served == (Path(settings.MEDIA_ROOT) / stored.name).read_bytes()
        assert metadata_left(served) == [], stored.name
        assert red_corner(served) == "top-right", stored.name
    context.close()

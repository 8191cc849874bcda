"""A photo sent by a tablet keeps nothing of its source but the pixels, turned upright: no
EXIF (GPS position, maker, maker notes, comments), no comment segment, no XMP, no ICC
profile and its text, no IPTC, nothing after the image. Checked on the stored photo and
thumbnail as a person downloads them, for a photo sent with a device token through the
sync API (the survey app's browser form sends its photos the same way:
tests/browser/test_survey_photos.py drives it)."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from accounts.tokens import token_issue
from hazards.models import Photo
from tests.hazards.test_sync_api import site_record
from tests.security.camera_photo import camera_jpeg, metadata_left, red_corner

pytestmark = pytest.mark.django_db


@pytest.fixture
def tablet(demo_tree, make_user, superuser):
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    _token, key = token_issue(actor=superuser, user=worker, name="máy tính bảng")
    return Client(HTTP_ACCEPT_LANGUAGE="en", headers={"Authorization": f"Token {key}"})


def downloaded(client, name: str) -> bytes:
    response = client.get("/" + reverse("evidence-file", args=[name]).lstrip("/"))
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_photo_sent_by_a_tablet_is_stored_with_its_pixels_only(tablet, demo_tree):
    record = site_record(demo_tree["99101"])
    assert tablet.post(reverse("sync-site"), record, content_type="application/json").status_code == 201
    sent = camera_jpeg(size=(64, 48), orientation=6)
    url = reverse("sync-photo", args=[uuid.uuid4()]) + f"?inspection={record['inspection']['id']}"
    response = tablet.put(
        url, sent, content_type="image/jpeg", headers={"Content-Disposition": 'attachment; filename="IMG_0042.jpg"'}
    )
    assert response.status_code == 201, response.content
    photo = Photo.objects.get()
    assert (photo.width, photo.height) == (48, 64)  # upright: the orientation was applied
    for name in (photo.image.name, photo.thumbnail.name):
        stored = downloaded(tablet, name)
        with open(photo.image.storage.path(name), "rb") as on_disk:
            assert on_disk.read() == stored
        assert metadata_left(stored) == [], name
        assert red_corner(stored) == "top-right", name

"""A photo sent by a tablet keeps nothing of its source but the pixels, turned upright: no
EXIF (GPS position, maker, maker notes, comments), no comment segment, no XMP, no ICC
profile and its text, no IPTC, nothing after the image. Checked on the stored photo and
thumbnail as a person downloads them, for a photo sent with a device token through the
sync API (the survey app's browser form sends its photos the same way:
tests/browser/test_survey_photos.py drives it)."""

import io
import struct
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

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


def exif_with_a_mistyped_tag() -> bytes:
    """EXIF turning the photo (orientation 6) whose Make, text by the standard, is stored
    as a number: as buggy phones and editors write, and as anyone can send."""
    entries = [(0x0112, 3, 1, struct.pack("<HH", 6, 0)), (0x010F, 12, 1, struct.pack("<I", 8 + 2 + 2 * 12 + 4))]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHI", t, k, n) + v for t, k, n, v in entries)
    return b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + struct.pack("<d", 1.5)


def test_a_photo_whose_exif_holds_a_tag_of_the_wrong_type_is_stored_upright(tablet, demo_tree):
    """Pillow's exif_transpose rewrites the EXIF it leaves behind, and raised AttributeError,
    TypeError or struct.error on such a tag: a 500, which the tablet retries for ever
    (pentest 5). The stored photo keeps no EXIF, so only the orientation is read."""
    record = site_record(demo_tree["99101"])
    assert tablet.post(reverse("sync-site"), record, content_type="application/json").status_code == 201
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 10, 10)).save(out, "JPEG", exif=exif_with_a_mistyped_tag())
    url = reverse("sync-photo", args=[uuid.uuid4()]) + f"?inspection={record['inspection']['id']}"
    response = tablet.put(
        url, out.getvalue(), content_type="image/jpeg", headers={"Content-Disposition": 'attachment; filename="a.jpg"'}
    )
    assert response.status_code == 201, response.content
    photo = Photo.objects.get()
    assert (photo.width, photo.height) == (48, 64)
    assert metadata_left(downloaded(tablet, photo.image.name)) == []

"""Photos, thumbnails and import uploads are not readable by whoever has the address:
a photo file answers only to those who may see its inspection (404 to anyone else,
anonymous included), through nginx's internal location in production; import uploads
never lie in the media folder at all."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.models import Role
from accounts.tokens import token_issue
from hazards import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(demo_tree, make_site, inspect, superuser):
    site = make_site(demo_tree["99201"])
    inspection = inspect(site, "2026-04-01T09:00")
    jpeg = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(jpeg, format="JPEG")
    stored, _created = services.photo_attach(actor=superuser, inspection=inspection, data=jpeg.getvalue())
    return stored


def client_of(user=None, **headers) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", **headers)
    if user is not None:
        client.force_login(user)
    return client


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_photo_and_thumbnail_answer_only_within_the_area(photo, demo_tree, make_user, superuser, settings):
    files = {photo.image.url: photo.image, photo.thumbnail.url: photo.thumbnail}
    inside = [
        client_of(make_user("b", demo_tree["99201"], Role.FIELD_WORKER)),
        client_of(make_user("huyen", demo_tree["992"], Role.VIEWER)),
        client_of(superuser),
    ]
    outside = [
        client_of(),  # anonymous
        client_of(make_user("a", demo_tree["99101"], Role.ADMINISTRATOR, is_staff=True)),
        client_of(make_user("huyen-khac", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)),
        client_of(make_user("none")),
    ]
    for url, field in files.items():
        assert url.startswith(settings.MEDIA_URL)
        for client in inside:
            response = client.get(url)
            assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
            assert body(response) == Path(field.path).read_bytes()
            assert "private" in response["Cache-Control"]
        for client in outside:
            assert client.get(url).status_code == 404, url


def test_a_tablet_reads_its_photos_with_its_device_token(photo, demo_tree, make_user, superuser):
    worker = make_user("b", demo_tree["99201"], Role.FIELD_WORKER)
    _token, key = token_issue(actor=superuser, user=worker, name="tablet")
    assert client_of(HTTP_AUTHORIZATION=f"Token {key}").get(photo.thumbnail.url).status_code == 200
    stranger = make_user("a", demo_tree["99101"], Role.FIELD_WORKER)
    _token, other_key = token_issue(actor=superuser, user=stranger, name="tablet")
    assert client_of(HTTP_AUTHORIZATION=f"Token {other_key}").get(photo.thumbnail.url).status_code == 404
    assert client_of(HTTP_AUTHORIZATION="Token not-a-key").get(photo.thumbnail.url).status_code == 404


def test_names_that_are_no_stored_photo_are_not_found(photo, superuser, settings):
    client = client_of(superuser)
    (Path(settings.MEDIA_ROOT) / "notes.txt").write_text("not a photo")
    for name in ["notes.txt", "photos/../notes.txt", "photos/%2e%2e/notes.txt", "photos/xx/nothing.jpg", ""]:
        assert client.get(settings.MEDIA_URL + name).status_code == 404, name


def test_a_deleted_inspection_keeps_its_photo_from_all_but_administrators(photo, demo_tree, make_user, superuser):
    services.inspection_delete(actor=superuser, inspection=photo.inspection)
    worker = client_of(make_user("b", demo_tree["99201"], Role.FIELD_WORKER))
    administrator = client_of(make_user("qt", demo_tree["992"], Role.ADMINISTRATOR, is_staff=True))
    assert worker.get(photo.image.url).status_code == 404
    assert administrator.get(photo.image.url).status_code == 200


def test_in_production_the_web_server_sends_the_file(photo, superuser, settings):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    response = client_of(superuser).get(photo.image.url)
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == "/protected-media/" + photo.image.name
    assert response["Content-Type"] == "image/jpeg"
    assert client_of().get(photo.image.url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_through_nginx_a_photo_carries_the_application_s_one_cache_rule(stack, photo, superuser):
    _token, key = token_issue(actor=superuser, user=superuser, name="qgis")
    status, headers, sent = stack.get(photo.image.url, {"Authorization": f"Token {key}"})
    assert status == 200 and sent == Path(photo.image.path).read_bytes()
    # nginx keeps the application's Cache-Control on X-Accel-Redirect: adding its own sent two.
    assert headers.get_all("Cache-Control") == ["private, max-age=3600"]
    assert headers.get_all("X-Content-Type-Options") == ["nosniff"]


def test_import_uploads_are_kept_outside_the_media_folder(demo_tree, make_user, settings, tmp_path):
    settings.IMPORT_UPLOAD_ROOT = tmp_path / "imports"  # only this test's upload in it
    client = client_of(make_user("lan", demo_tree["99101"], Role.FIELD_WORKER))
    sent = client.post(reverse("import-upload"), {"file": SimpleUploadedFile("ds.csv", b"ten,lat,lon\nAo,21,105\n")})
    assert sent.status_code == 302
    stored = [p for p in Path(settings.IMPORT_UPLOAD_ROOT).rglob("ds.csv")]
    assert len(stored) == 1
    media = Path(settings.MEDIA_ROOT).resolve()
    assert media not in stored[0].resolve().parents
    assert not list(media.rglob("ds.csv"))
    relative = stored[0].relative_to(settings.IMPORT_UPLOAD_ROOT)
    for url in [f"{settings.MEDIA_URL}imports/{relative}", f"{settings.MEDIA_URL}{relative}"]:
        assert client.get(url).status_code == 404

"""What files sent to the server may take of its disk (pentest F10): each person keeps at
most IMPORT_QUOTA_BYTES of uploads, queued run files and unexpired job results, and no
file is kept that would leave the disk below IMPORT_MIN_FREE_BYTES; a refusal is a 400
that says which limit and what to do."""

import datetime as dt
import html
import io
import os
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from hazards.models import ImportRun, JobRun

pytestmark = pytest.mark.django_db

MB = 1_000_000


@pytest.fixture
def quota(settings, tmp_path):
    settings.IMPORT_UPLOAD_ROOT = tmp_path / "imports"
    settings.IMPORT_QUOTA_BYTES = 5 * MB
    settings.IMPORT_MIN_FREE_BYTES = 0
    return settings


@pytest.fixture
def person(quota, demo_tree, make_user):
    def signed_in(name: str):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(make_user(name, demo_tree["99101"], Role.FIELD_WORKER))
        return client

    return signed_in


def csv_of(size: int) -> SimpleUploadedFile:
    """A list of about `size` bytes (its notes column is filler)."""
    row = "Ao,22.1,105.8," + "x" * 90 + "\n"
    return SimpleUploadedFile("ds.csv", ("ten,lat,lon,ghi chu\n" + row * (size // len(row) + 1)).encode())


def send(client, file):
    response = client.post(reverse("import-upload"), {"file": file})
    return response.status_code, html.unescape(response.content.decode())


def kept_bytes(settings) -> int:
    return sum(f.stat().st_size for f in settings.IMPORT_UPLOAD_ROOT.rglob("*") if f.is_file())


def test_a_person_keeps_no_more_than_the_quota_and_others_are_not_held_by_it(person, quota):
    lan, mai = person("lan"), person("mai")
    assert send(lan, csv_of(3 * MB))[0] == 302
    status, page = send(lan, csv_of(3 * MB))
    assert status == 400
    assert (
        "You already keep 3.0 MB of files on the server; with this one (3.0 MB) it would be more than the 5 MB" in page
    )
    assert "Uploads are removed 24 hours after they were sent" in page
    assert kept_bytes(quota) < 31 * MB // 10  # the refused file was not kept
    assert send(mai, csv_of(3 * MB))[0] == 302


def test_a_zip_counts_by_what_it_unpacks_and_is_not_kept_beside_its_parts(person, quota):
    lan = person("lan")
    parts = {
        "a.shp": os.urandom(3 * MB // 2).hex().encode(),
        "a.dbf": os.urandom(3 * MB // 2).hex().encode(),
        "a.shx": b"",
    }
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    assert len(archive.getvalue()) < 4 * MB  # within the quota as sent, 6 MB unpacked
    status, page = send(lan, SimpleUploadedFile("a.zip", archive.getvalue()))
    assert status == 400 and "with this one (6.0 MB) it would be more than the 5 MB" in page
    assert kept_bytes(quota) == 0
    quota.IMPORT_QUOTA_BYTES = 20 * MB
    assert send(lan, SimpleUploadedFile("a.zip", archive.getvalue()))[0] == 302
    assert sorted(f.name for f in quota.IMPORT_UPLOAD_ROOT.rglob("*") if f.is_file()) == ["a.dbf", "a.shp", "a.shx"]


def test_job_results_not_yet_expired_count_toward_the_quota(person, quota, django_user_model):
    lan = person("lan")
    owner = django_user_model.objects.get(username="lan")
    now = timezone.now()
    result = {"kind": "export", "created_by": owner, "language": "en", "status": JobRun.Status.DONE}
    JobRun.objects.create(**result, result_bytes=4 * MB, expires_at=now + dt.timedelta(hours=1))
    JobRun.objects.create(**result, result_bytes=100 * MB, expires_at=now - dt.timedelta(hours=1))
    status, page = send(lan, csv_of(2 * MB))
    assert status == 400 and "You already keep 4.0 MB of files" in page


def test_a_run_copies_its_upload_into_the_database_only_within_the_quota(person, quota):
    lan = person("lan")
    assert send(lan, csv_of(MB // 2))[0] == 302
    preview = lan.post(reverse("import-upload"), {"file": csv_of(2 * MB)})["Location"]
    mapping = {"latitude": "lat", "longitude": "lon", "name": "ten", "action": "check"}
    assert lan.post(preview, mapping).status_code == 302  # 2.5 MB kept, 2 MB queued: 4.5 MB, then 6.5
    refused = lan.post(preview, mapping)
    assert refused.status_code == 400 and "it would be more than the 5 MB" in html.unescape(refused.content.decode())
    assert ImportRun.objects.count() == 1


def test_nothing_is_kept_below_the_free_space_floor(person, quota):
    quota.IMPORT_MIN_FREE_BYTES = 10**18
    status, page = send(person("lan"), csv_of(10_000))
    assert status == 400 and "The server is short of disk space: the file cannot be kept now." in page
    assert kept_bytes(quota) == 0

"""The tablet sync API: idempotent replays, 409 on clashing ids, photo limits and retries."""

import datetime as dt
import io
import struct
import uuid
import zlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from hazards import lifecycle, orders
from hazards.models import Inspection, Photo, RemediationOrder, Site, SiteVersion
from tests.conftest import inside
from tests.hazards.site_list import fetch_rows

pytestmark = pytest.mark.django_db


def site_record(area, **overrides):
    point = inside(area)
    record = {
        "id": str(uuid.uuid4()),
        "kind": "pond",
        "name": "Ao nhà ông Ba",
        "location": {"type": "Point", "coordinates": [point.x, point.y]},
        "deep_water": True,
        "depth_m": "2.5",
        "inspection": {
            "id": str(uuid.uuid4()),
            "inspected_at": timezone.now().isoformat(),
            "signage": "none",
            "barrier": "partial",
            "water_present": True,
            "gps_fix": {"type": "Point", "coordinates": [point.x, point.y]},
            "gps_accuracy_m": 6,
        },
    }
    record.update(overrides)
    return record


def post(api, name, record, **headers):
    return api.post(reverse(name), record, content_type="application/json", headers=headers)


def test_register_site_with_first_inspection(api, demo_tree, worker):
    record = site_record(demo_tree["99101"])
    response = post(api, "sync-site", record)
    assert response.status_code == 201, response.json()
    site = Site.objects.get(pk=record["id"])
    assert response.json()["code"] == site.code
    assert response.json()["area"] == {"code": "99101", "name": site.area.name}
    assert (site.signage, site.barrier, site.created_by) == ("none", "partial", worker)
    assert Inspection.objects.get(pk=record["inspection"]["id"]).gps_accuracy_m == 6


def test_replayed_batch_creates_nothing_new(api, demo_tree):
    first = site_record(demo_tree["99101"])
    second = site_record(demo_tree["99101"], name="Giếng làng")
    batch = {"sites": [first, second], "inspections": []}
    replies = []
    for _attempt in range(2):
        response = post(api, "sync-batch", batch)
        assert response.status_code == 200
        replies.append(response.json())
    site_id = first["id"]
    follow_up = {
        "id": str(uuid.uuid4()),
        "site": site_id,
        "inspected_at": timezone.now().isoformat(),
        "signage": "in_place",
        "barrier": "complete",
    }
    later = [post(api, "sync-batch", {"inspections": [follow_up]}).json()["results"] for _attempt in range(3)]

    def answers(results):
        return [{key: value for key, value in result.items() if key != "replay"} for result in results]

    assert answers(replies[0]["results"]) == answers(replies[1]["results"])
    assert [r["replay"] for r in replies[0]["results"] + replies[1]["results"]] == [False, False, True, True]
    assert all(result["status"] == 201 for result in replies[0]["results"])
    assert answers(later[0]) == answers(later[1]) == answers(later[2])
    assert [r[0]["replay"] for r in later] == [False, True, True]
    assert Site.objects.count() == 2
    assert Inspection.objects.count() == 3
    assert Site.objects.get(pk=site_id).is_protected


def test_single_record_replay_gets_the_same_response(api, demo_tree):
    record = site_record(demo_tree["99101"])
    first = post(api, "sync-site", record)
    again = post(api, "sync-site", record)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers["Idempotent-Replay"] == "true"
    assert Site.objects.count() == 1 and Inspection.objects.count() == 1


def test_same_uuid_different_body_is_409_and_stored_record_untouched(api, demo_tree):
    record = site_record(demo_tree["99101"])
    post(api, "sync-site", record)
    clash = {**record, "name": "Tên khác"}
    response = post(api, "sync-site", clash)
    assert response.status_code == 409
    assert response.json()["code"] == "id_conflict"
    assert Site.objects.get(pk=record["id"]).name == "Ao nhà ông Ba"

    inspection = {
        "id": str(uuid.uuid4()),
        "site": record["id"],
        "inspected_at": timezone.now().isoformat(),
        "signage": "in_place",
        "barrier": "none",
    }
    assert post(api, "sync-inspection", inspection).status_code == 201
    changed = {**inspection, "barrier": "complete"}
    response = post(api, "sync-inspection", changed)
    assert response.status_code == 409 and response.json()["code"] == "id_conflict"
    assert Inspection.objects.get(pk=inspection["id"]).barrier == "none"


def inspection_of(site_id, when=None, **fields):
    return {
        "id": str(uuid.uuid4()),
        "site": str(site_id),
        "inspected_at": (when or timezone.now()).isoformat(),
        "signage": "in_place",
        "barrier": "complete",
        **fields,
    }


def varied_batch(area, superuser, worker, make_site, n):
    """A tablet's batch of 2n records, every kind in proportion: n new sites with their
    first inspection, and n inspections of known sites, a fifth each of a plain site, of
    a site closed and reopened (dated before it became active, so it moves its start
    back), of one dated in its closed stretch (refused), of a duplicate merged since
    (recorded on the site kept), and of a site whose order it verifies. Returns the
    batch, the status each record must get and the sites whose start moves back."""
    today = timezone.localdate()
    sites, inspections, expected, earlier = [], [], [], []
    for i in range(n):
        sites.append(site_record(area))
        site = make_site(area, active_from=today - dt.timedelta(days=30))
        if i % 5 in (1, 2):
            lifecycle.site_close(
                actor=superuser, site=site, reason="filled_in", closed_at=today - dt.timedelta(days=20)
            )
            lifecycle.site_reopen(actor=superuser, site=site, reopened_on=today - dt.timedelta(days=10))
        if i % 5 == 3:
            lifecycle.site_merge(actor=superuser, duplicate=site, kept=make_site(area))
        if i % 5 == 4:
            orders.order_open(
                actor=superuser,
                site=site,
                party_kind="household",
                party_name="Hộ ông Ba",
                requirements=["sign", "barrier"],
                deadline=today + dt.timedelta(days=30),
                follow_up=worker,
            )
        closed_stretch = i % 5 == 2
        when = {1: timezone.now() - dt.timedelta(days=35), 2: timezone.now() - dt.timedelta(days=15)}.get(i % 5)
        inspections.append(inspection_of(site.pk, when))
        expected.append(400 if closed_stretch else 201)
        if i % 5 == 1:
            earlier.append(site.pk)
    return {"sites": sites, "inspections": inspections}, [201] * n + expected, earlier


def test_a_batch_takes_as_many_queries_for_fifty_records_as_for_five(api, demo_tree, superuser, worker, make_site):
    """A tablet's batch is checked and written set-based: ten times the records, not one
    query more, sent the first time or again (then a replay of every record)."""
    post(api, "sync-batch", {"sites": [site_record(demo_tree["99101"])]})  # the session's first queries
    counts = {}
    for n in (5, 50):
        batch, expected, earlier = varied_batch(demo_tree["99101"], superuser, worker, make_site, n)
        for attempt in ("first", "again"):
            with CaptureQueriesContext(connection) as queries:
                response = post(api, "sync-batch", batch)
            results = response.json()["results"]
            assert [r["status"] for r in results] == expected, [r["body"] for r in results if r["status"] != 201]
            assert all(r["replay"] == (attempt == "again") for r in results if r["status"] == 201)
            counts[n, attempt] = len(queries)
        refused = [r["body"]["errors"] for r in results if r["status"] == 400]
        assert all("closed" in str(errors["inspected_at"]) for errors in refused)
        moved_back = timezone.localdate() - dt.timedelta(days=35)
        assert set(Site.objects.filter(pk__in=earlier).values_list("active_from", flat=True)) == {moved_back}
        assert set(SiteVersion.objects.filter(site__in=earlier).values_list("valid_from", flat=True)) == {moved_back}
    assert counts[50, "first"] == counts[5, "first"], counts
    assert counts[50, "again"] == counts[5, "again"], counts
    assert not RemediationOrder.objects.filter(state__in=orders.UNVERIFIED).exists()


def test_point_outside_the_workers_area_is_refused(api, demo_tree):
    record = site_record(demo_tree["99201"])
    response = post(api, "sync-site", record)
    assert response.status_code == 400
    assert "outside the areas you work in" in str(response.json()["errors"]["location"])
    assert not Site.objects.exists() and not Inspection.objects.exists()


def test_bad_records_get_field_errors_and_store_nothing(api, demo_tree):
    record = site_record(demo_tree["99101"], kind="volcano")
    response = post(api, "sync-site", record)
    assert response.status_code == 400 and "kind" in response.json()["errors"]
    record = site_record(demo_tree["99101"])
    record["inspection"]["signage"] = "maybe"
    response = post(api, "sync-site", record)
    assert response.status_code == 400 and "signage" in response.json()["errors"]["inspection"]
    assert not Site.objects.exists()
    response = post(api, "sync-site", {"id": "not-a-uuid", "location": "here"})
    assert response.status_code == 400 and {"id", "location", "kind"} <= set(response.json()["errors"])


def test_inspection_of_a_site_outside_scope_is_404(api, demo_tree, make_site):
    other = make_site(demo_tree["99201"])
    record = {
        "id": str(uuid.uuid4()),
        "site": str(other.pk),
        "inspected_at": timezone.now().isoformat(),
        "signage": "none",
        "barrier": "none",
    }
    response = post(api, "sync-inspection", record)
    assert response.status_code == 404
    assert not Inspection.objects.exists()


def test_unauthenticated_sync_is_refused(client, demo_tree):
    response = post(client, "sync-site", site_record(demo_tree["99101"]))
    assert response.status_code == 401
    assert not Site.objects.exists()


# ---------- photos ----------


def jpeg_with_exif(width=64, height=48) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to show upright
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (21.0, 0.0, 0.0), 3: "E", 4: (105.0, 48.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def inspection_id(api, demo_tree):
    record = site_record(demo_tree["99101"])
    post(api, "sync-site", record)
    return record["inspection"]["id"]


def put_photo(api, inspection_id, data, photo_id=None, content_type="image/jpeg"):
    url = reverse("sync-photo", args=[photo_id or uuid.uuid4()]) + f"?inspection={inspection_id}"
    return api.put(
        url, data, content_type=content_type, headers={"Content-Disposition": 'attachment; filename="p.jpg"'}
    )


def test_stored_photo_has_no_exif_and_is_upright(api, inspection_id):
    sent = jpeg_with_exif()
    with Image.open(io.BytesIO(sent)) as original:
        assert original.getexif().get_ifd(0x8825), "the upload carries a GPS position"
    response = put_photo(api, inspection_id, sent)
    assert response.status_code == 201, response.json()
    photo = Photo.objects.get()
    with Image.open(photo.image.path) as stored:
        assert not stored.getexif()
        assert "exif" not in stored.info
        assert stored.size == (48, 64)  # orientation applied
    with Image.open(photo.thumbnail.path) as thumb:
        assert not thumb.getexif()
    assert response.json()["width"] == 48


def test_broken_upload_retried_stores_one_photo(api, inspection_id):
    data = jpeg_with_exif(800, 600)
    photo_id = uuid.uuid4()
    broken = put_photo(api, inspection_id, data[: len(data) // 2], photo_id)
    assert broken.status_code == 400
    assert not Photo.objects.exists()
    first = put_photo(api, inspection_id, data, photo_id)
    again = put_photo(api, inspection_id, data, photo_id)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    # The same picture under a new id (the app lost track of the first try) is not stored twice.
    assert put_photo(api, inspection_id, data).json()["id"] == str(photo_id)
    assert Photo.objects.count() == 1


def png_declaring(width, height) -> bytes:
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (png_declaring(30000, 30000), "image/png", 400, "too_many_pixels"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF", "image/jpeg", 400, "not_an_image"),
        (b"\xff" * 30_000_000, "image/jpeg", 413, "too_large"),
        (b"GIF89a" + b"\x00" * 100, "image/gif", 400, "not_an_image"),
    ],
    ids=["png-bomb", "pdf-as-jpg", "30MB", "gif"],
)
def test_bad_photos_are_refused(api, inspection_id, data, content_type, status, code):
    response = put_photo(api, inspection_id, data, content_type=content_type)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert not Photo.objects.exists()


def test_photo_for_an_inspection_outside_scope_is_404(client, demo_tree, make_user, inspection_id):
    stranger = make_user("other", demo_tree["99201"], Role.FIELD_WORKER)
    client.force_login(stranger)
    assert put_photo(client, inspection_id, jpeg_with_exif()).status_code == 404


def test_survey_data_is_the_workers_own(api, demo_tree, make_site):
    mine = make_site(demo_tree["99101"])
    make_site(demo_tree["99201"])
    sites = fetch_rows(api)
    assert [row["id"] for row in sites] == [str(mine.pk)]
    assert sites[0]["due"] is True
    areas = api.get(reverse("survey-areas")).json()["features"]
    assert [a["properties"]["code"] for a in areas] == ["99101"]
    me = api.get(reverse("survey-me")).json()
    assert me["areas"] == [{"code": "99101", "name": demo_tree["99101"].name}]

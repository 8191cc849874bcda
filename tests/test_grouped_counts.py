"""Counts a person reads outside the pages are grouped as the pages group them, in the
reader's language (common.numbers.format_number: 12.345 in Vietnamese, 12,345 in English):
what the management commands print (import_sites, verify_derived, load_places, which
load_demo runs, send_order_reminders), the backup's and the restore's summary, and the
limits and refusals of the REST, sync and OGC APIs. A technician read "Đã nhập 1000
điểm" and a tablet "tối đa 1000 sites" where every page writes 1.000."""

import csv
import datetime as dt
import io
import json
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Role
from hazards import orders, photos
from hazards.backup import contents
from tests.hazards.test_sync_api import png_declaring, site_record

pytestmark = pytest.mark.django_db

# The language of each run and how it writes one thousand and one thousand two hundred and thirty-four.
LANGUAGES = [("en", "1,000", "1,234"), ("vi", "1.000", "1.234")]


def command(name: str, *args, language: str, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with translation.override(language):
        call_command(name, *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def points_in(area, count: int) -> list[tuple[float, float]]:
    """`count` points of `area` about a kilometre apart: no two taken for a duplicate."""
    lon_min, lat_min = area.geom.extent[:2]
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT ST_X(p), ST_Y(p) FROM (
                 SELECT ST_SetSRID(ST_MakePoint(%s + x * 0.01, %s + y * 0.01), 4326) AS p
                 FROM generate_series(0, 99) x, generate_series(0, 99) y) grid
               WHERE ST_Contains(%s::geometry, p) AND ST_Distance(ST_Boundary(%s::geometry), p) > 0.002
               LIMIT %s""",
            [lon_min, lat_min, area.geom.ewkt, area.geom.ewkt, count],
        )
        found = cursor.fetchall()
    assert len(found) == count
    return found


def test_the_import_command_groups_its_counts(tmp_path, demo_tree, superuser):
    path = tmp_path / "sites.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "kind", "latitude", "longitude"])
        for n, (x, y) in enumerate(points_in(demo_tree["99"], 1000)):
            writer.writerow([f"Ao {n}", "pond", y, x])
    out, err = command("import_sites", str(path), language="en", as_user=superuser.username)
    assert "1,000 of 1,000 rows checked" in err
    assert out.strip().endswith("Imported 1,000 sites; 0 were already in the registry.")
    out, err = command("import_sites", str(path), language="vi", as_user=superuser.username)
    assert "1.000" in err and "1000" not in err
    assert out.strip().endswith("Đã nhập 0 điểm; 1.000 điểm đã có trong hệ thống."), out


@pytest.mark.parametrize(("language", "thousand", "count"), LANGUAGES)
def test_verify_derived_groups_the_rows_it_repairs(demo_tree, language, thousand, count):
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO mapping_sitecell (level, cx, cy, area_id, kind, signage, barrier, closed, n, sum_x, sum_y)
               SELECT 99, x, 0, %s, 'pond', 'none', 'none', false, 1, 0, 0 FROM generate_series(1, 1234) x""",
            [demo_tree["99101"].pk],
        )
    out = io.StringIO()
    with translation.override(language), pytest.raises(CommandError):
        call_command("verify_derived", "--check", stdout=out)
    said = out.getvalue()
    assert count in said and "1234" not in said, said
    expected = {"en": "Map grid: 1,234 rows to repair.", "vi": "Lưới bản đồ: 1.234 dòng cần sửa."}
    assert expected[language] in said.splitlines()


@pytest.mark.parametrize(("language", "thousand", "count"), LANGUAGES)
def test_load_places_groups_the_places_loaded(tmp_path, demo_tree, language, thousand, count):
    features = [
        {"type": "Feature", "properties": {"name": f"Trường {n}", "kind": "school"},
         "geometry": {"type": "Point", "coordinates": [x, y]}}
        for n, (x, y) in enumerate(points_in(demo_tree["99"], 1000))
    ]  # fmt: skip
    path = tmp_path / "places.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    out, _err = command("load_places", str(path), language=language)
    loaded = {"en": "Loaded 1,000 schools", "vi": "Đã nạp 1.000 trường học"}
    assert loaded[language] in out and "1000" not in out, out


@pytest.mark.parametrize(("language", "thousand", "count"), LANGUAGES)
def test_the_backup_summary_groups_rows_and_photos(language, thousand, count):
    manifest = {
        "row_counts": {"hazards_site": 1000, "hazards_photo": 1234, "django_migrations": 0},
        "files": {"database.dump": {"sha256": "", "bytes": 12_345_678}},
    }
    with translation.override(language):
        said = contents(manifest)
    expected = {"en": "2,234 rows, 1,234 photos", "vi": "2.234 dòng, 1.234 ảnh"}
    assert said.startswith(expected[language]), said
    # Megabytes with one decimal, as the reader writes a decimal.
    assert ("12.3 MB" if language == "en" else "12,3 MB") in said, said


@pytest.mark.parametrize(("language", "thousand", "count"), LANGUAGES)
def test_the_restore_check_groups_the_files_it_checked(tmp_path, language, thousand, count):
    """A backup folder of 1,000 photo files (the manifest of a backup made before the
    manifest had its own checksum, which a restore still reads)."""
    files = {}
    for n in range(1000):
        path = tmp_path / "media" / "photos" / f"{n}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        files[f"media/photos/{n}.jpg"] = {
            "sha256": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
            "bytes": 1,
        }
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 1, "files": files, "row_counts": {}}))
    out, _err = command("restore", str(tmp_path), "--check", language=language)
    expected = {"en": "The backup is complete: 1,000 files", "vi": "Bản sao lưu đầy đủ: 1.000 tệp"}
    assert out.startswith(expected[language]), out


def test_the_reminder_command_speaks_the_readers_language(demo_tree):
    english, _err = command("send_order_reminders", language="en")
    vietnamese, _err = command("send_order_reminders", language="vi")
    assert english.strip() == "0 before the deadline, 0 after it, 0 digests sent."
    assert vietnamese.startswith("Đã gửi 0 lời nhắc"), vietnamese


@pytest.fixture
def tablet(demo_tree, make_user):
    """A field worker of commune 99101, for a client that speaks the language it is given."""
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)

    def client(language: str) -> Client:
        made = Client(HTTP_ACCEPT_LANGUAGE=language)
        made.force_login(worker)
        return made

    return client


@pytest.mark.parametrize(("language", "thousand", "count"), LANGUAGES)
def test_the_sync_apis_limits_are_grouped(demo_tree, tablet, language, thousand, count):
    api = tablet(language)
    batch = {"sites": [{} for _n in range(1001)]}
    refused = api.post(reverse("sync-batch"), batch, content_type="application/json").json()
    assert thousand in refused["detail"] and "1000" not in refused["detail"], refused
    long_notes = site_record(demo_tree["99101"], notes="x" * 4001)
    refused = api.post(reverse("sync-site"), long_notes, content_type="application/json").json()
    four = "4,000" if language == "en" else "4.000"
    assert four in refused["detail"] and "4000" not in refused["detail"], refused
    # The survey page carries the same message, for its forms to check before saving.
    assert four in api.get(reverse("survey")).content.decode()


@pytest.mark.parametrize(("language", "thousand", "count"), LANGUAGES)
def test_a_closure_proposals_note_limit_is_grouped(demo_tree, tablet, make_site, language, thousand, count):
    site = make_site(demo_tree["99101"])
    proposal = {
        "id": str(uuid.uuid4()), "site": str(site.pk), "reason": "filled_in",
        "observed_at": timezone.now().isoformat(), "note": "x" * 4001,
    }  # fmt: skip
    refused = tablet(language).post(reverse("sync-closure"), proposal, content_type="application/json").json()
    four = "4,000" if language == "en" else "4.000"
    assert four in refused["detail"] and "4000" not in refused["detail"], refused


@pytest.mark.parametrize(("language", "thousand", "count"), LANGUAGES)
def test_the_rest_and_ogc_apis_page_limits_are_grouped(demo_tree, tablet, make_site, language, thousand, count):
    make_site(demo_tree["99101"])
    api = tablet(language)
    past = api.get(reverse("site-list"), {"page": "2", "page_size": "5000"})
    assert past.status_code == 404
    five = "5,000" if language == "en" else "5.000"
    assert five in past.json()["detail"] and "5000" not in past.json()["detail"], past.json()
    refused = api.get(reverse("ogc-items", args=["sites"]), {"limit": "0"}).json()
    ten = "10,000" if language == "en" else "10.000"
    assert ten in refused["detail"] and "10000" not in refused["detail"], refused


@pytest.mark.parametrize(("language", "thousand", "count"), LANGUAGES)
def test_a_photos_refusal_writes_its_numbers_as_the_reader_does(language, thousand, count):
    with translation.override(language), pytest.raises(ValidationError) as too_large:
        photos.process_photo(b"\xff" * 15_200_000)
    assert ("15.2 MB" if language == "en" else "15,2 MB") in too_large.value.messages[0]
    declared = png_declaring(8000, 8000)
    with translation.override(language), pytest.raises(ValidationError) as too_many:
        photos.process_photo(declared + b"\x00" * (1_234_567 - len(declared)))
    said = too_many.value.messages[0]
    assert f"{count} KB" in said and ("49.4" if language == "en" else "49,4") in said, said


@pytest.mark.parametrize(("language", "thousand", "count"), LANGUAGES)
def test_an_orders_text_limit_is_grouped(demo_tree, make_site, superuser, language, thousand, count):
    """The order form and the services under it: a limit of characters is a count too."""
    site = make_site(demo_tree["99101"])
    with translation.override(language), pytest.raises(ValidationError) as refused:
        orders.order_open(
            actor=superuser, site=site, party_kind="household", party_name="Hộ ông Ba", requirements=["sign"],
            deadline=timezone.localdate() + dt.timedelta(days=30), follow_up=superuser, details="x" * 2001,
        )  # fmt: skip
    (said,) = refused.value.message_dict["details"]
    assert ("2,000" if language == "en" else "2.000") in said, said

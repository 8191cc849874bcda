"""The restore drill: demo data with photos is backed up, destroyed and restored into a
fresh database and media folder, and must come back whole: every table's rows, a
report's numbers and every photo's bytes."""

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.utils import translation
from PIL import Image

from hazards import services
from hazards.backup import MANIFEST, MANIFEST_CHECKSUM, backup, database_libpq
from hazards.models import Photo

MANAGE = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
# The report of the demo province for the last complete half-year and for today, read in
# whatever database DATABASE_URL names.
REPORT_NUMBERS = """
import json
from hazards.models import Site
from reports.periods import half_year_containing, last_complete_half_year
from reports.selectors import progress_report
from django.utils import timezone
Area = Site._meta.get_field("area").related_model
province = Area.objects.get(code="99")
out = {}
for period in (last_complete_half_year(), half_year_containing(timezone.localdate())):
    report = progress_report(province, period)
    out[period.label] = {row.area.code if row.area else "-": row.counts for row in [report.total, *report.rows]}
print(json.dumps(out, sort_keys=True))
"""


def _url(name: str) -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgis://{credentials}@{quote(db['HOST'] or '', safe='')}{port}/{name}"


def _run(args: list[str], database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    return subprocess.run([*MANAGE, *args], env=env, capture_output=True, text=True, check=False)


def _counts(cursor) -> dict[str, int]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    counts = {}
    for (table,) in cursor.fetchall():
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608
        counts[table] = cursor.fetchone()[0]
    return counts


def _photo_digests(root: Path) -> dict[str, str]:
    return {
        name: hashlib.sha256((root / name).read_bytes()).hexdigest()
        for photo in Photo.objects.all()
        for name in (photo.image.name, photo.thumbnail.name)
    }


@pytest.fixture
def fresh_database():
    """An empty database with PostGIS beside the test database, dropped afterwards."""
    name = f"restore_drill_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {**os.environ, **database_libpq(), "PGDATABASE": name}
        subprocess.run(["psql", "-X", "-q", "-c", "CREATE EXTENSION postgis"], env=env, check=True, capture_output=True)
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_restore_drill(tmp_path, settings, fresh_database):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = "https://localhost:9443"  # as `make prod` sets it
    said = io.StringIO()
    call_command("load_demo", stdout=said)
    assert "Sign in at https://localhost:9443/ " in said.getvalue()  # not the development server's
    photos = _photo_digests(settings.MEDIA_ROOT)
    assert len(photos) >= 40  # the demo's photos and thumbnails
    report = _run(["shell", "--no-imports", "-c", REPORT_NUMBERS], _url(connection.settings_dict["NAME"]))
    assert report.returncode == 0, report.stderr
    with connection.cursor() as cursor:
        counts = _counts(cursor)  # after the report, which keeps its past-period results
    assert counts["hazards_site"] >= 200

    said = io.StringIO()
    # In the language the restore below runs in (the registry's, Vietnamese): each writes
    # its numbers as its reader does (5.252 dòng, 1,7 MB).
    with translation.override("vi"):
        call_command("backup", str(tmp_path / "backup"), stdout=said)
    # Destroy the originals: the restore must need nothing but the backup.
    shutil.rmtree(settings.MEDIA_ROOT)

    restored_media = tmp_path / "restored-media"
    url = _url(fresh_database)
    result = _run(
        ["restore", str(tmp_path / "backup"), "--database-url", url, "--media-root", str(restored_media)], url
    )
    assert result.returncode == 0, result.stderr
    assert "Restored" in result.stdout or "Đã khôi phục" in result.stdout
    # Both say what the backup holds the same way: rows, one per photo (not its thumbnail), MB.
    holds = [re.findall(r"\d+(?:[.,]\d+)?", text.rsplit(": ", 1)[1]) for text in (said.getvalue(), result.stdout)]
    assert holds[0] == holds[1] and int(holds[0][1]) == counts["hazards_photo"] > 0, holds

    env = {**os.environ, **database_libpq(url)}
    listing = subprocess.run(
        ["psql", "-X", "-qAt", "-c", "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    restored_counts = {}
    for table in listing:
        out = subprocess.run(
            ["psql", "-X", "-qAt", "-c", f'SELECT count(*) FROM "{table}"'],  # noqa: S608
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        restored_counts[table] = int(out.stdout)
    assert restored_counts == counts
    assert _photo_digests(restored_media) == photos
    restored_report = _run(["shell", "--no-imports", "-c", REPORT_NUMBERS], url)
    assert restored_report.returncode == 0, restored_report.stderr
    assert json.loads(restored_report.stdout) == json.loads(report.stdout)
    assert any(json.loads(report.stdout)[p]["99"]["protected"] for p in json.loads(report.stdout))


@pytest.mark.django_db(transaction=True)
def test_a_damaged_or_misdirected_restore_writes_nothing(
    tmp_path, settings, demo_tree, make_site, inspect, fresh_database
):
    settings.MEDIA_ROOT = tmp_path / "media"
    inspection = inspect(make_site(demo_tree["99101"]), "2026-05-02T09:00")
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(picture, format="JPEG")
    services.photo_attach(actor=inspection.inspector, inspection=inspection, data=picture.getvalue())
    backup = tmp_path / "backup"
    call_command("backup", str(backup), stdout=open(os.devnull, "w"))  # noqa: SIM115

    # Into the database it came from (not empty): refused, nothing touched.
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(backup), "--media-root", str(tmp_path / "other"))

    # A damaged photo: found by the check, and a restore refuses before writing anything.
    manifest = json.loads((backup / MANIFEST).read_text())
    photo = next(name for name in manifest["files"] if name.startswith("media/photos/"))
    with (backup / photo).open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\0\0\0\0")
    with pytest.raises(CommandError, match="checksum"):
        call_command("restore", str(backup), "--check")
    url = _url(fresh_database)
    result = _run(["restore", str(backup), "--database-url", url, "--media-root", str(tmp_path / "m2")], url)
    assert result.returncode != 0
    assert photo in result.stderr
    assert not (tmp_path / "m2").exists()
    tables = subprocess.run(
        ["psql", "-X", "-qAt", "-c", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"],
        env={**os.environ, **database_libpq(url)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert tables.stdout.strip() == "1"  # spatial_ref_sys only


@pytest.fixture
def owned_database():
    """As `make prod` and the README's restore make it: an empty database owned by a login
    role that is no superuser, PostGIS created in it by a superuser. The restore connects
    as that role. Yields its URL."""
    suffix = uuid.uuid4().hex[:8]
    role, name = f"registry_{suffix}", f"restore_owned_{suffix}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
        cursor.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
    try:
        env = {**os.environ, **database_libpq(), "PGDATABASE": name}
        subprocess.run(["psql", "-X", "-q", "-c", "CREATE EXTENSION postgis"], env=env, check=True, capture_output=True)
        db = connection.settings_dict
        port = f":{db['PORT']}" if db.get("PORT") else ""
        yield f"postgis://{role}@{quote(db['HOST'] or '', safe='')}{port}/{name}"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.django_db(transaction=True)
def test_a_restore_by_the_database_owner_who_is_no_superuser(
    tmp_path, settings, demo_tree, make_site, inspect, owned_database
):
    """The production stack's role `hazards` owns its database and is no superuser:
    PostGIS's table of coordinate systems is not its to write, and the restore must not
    try (pg_dump writes that table's rows, even none)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    inspection = inspect(make_site(demo_tree["99101"]), "2026-05-02T09:00")
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 160, 40)).save(picture, format="JPEG")
    photo, _created = services.photo_attach(actor=inspection.inspector, inspection=inspection, data=picture.getvalue())
    call_command("backup", str(tmp_path / "backup"), stdout=open(os.devnull, "w"))  # noqa: SIM115
    # Password hashes and sessions are in the dump: no other account on the machine reads it.
    assert (tmp_path / "backup").stat().st_mode & 0o777 == 0o700

    media = tmp_path / "restored-media"
    result = _run(["restore", str(tmp_path / "backup"), "--database-url", owned_database, "--media-root", str(media)],
                  owned_database)  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert (media / photo.image.name).read_bytes() == (settings.MEDIA_ROOT / photo.image.name).read_bytes()
    restored = subprocess.run(
        ["psql", "-X", "-qAt", "-c", "SELECT count(*) FROM hazards_photo UNION ALL SELECT count(*) FROM hazards_site"],
        env={**os.environ, **database_libpq(owned_database)}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert restored.stdout.split() == ["1", "1"]


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_drill_on_the_production_stack(
    stack, tmp_path, demo_tree, make_site, inspect, fresh_database
):
    """As the README's runbook says: `scripts/prod.py manage backup` (the stack's settings,
    as its user) into PROD_DIR/backups, `restore --check`, and a restore into another
    database and media folder."""
    inspection = inspect(make_site(demo_tree["99101"]), "2026-05-02T09:00")
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 20)).save(picture, format="JPEG")
    # The photo lands in the stack's media folder, as a tablet's upload would.
    with override_settings(MEDIA_ROOT=stack.env["DJANGO_MEDIA_ROOT"]):
        photo, _created = services.photo_attach(
            actor=inspection.inspector, inspection=inspection, data=picture.getvalue()
        )
    original = (Path(stack.env["DJANGO_MEDIA_ROOT"]) / photo.image.name).read_bytes()

    made = stack.run("manage", "backup", "--keep", "2", check=False)
    assert made.returncode == 0, made.stderr
    (folder,) = sorted((stack.dir / "backups").iterdir())[-1:]
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["row_counts"]["hazards_photo"] == 1 and f"media/{photo.image.name}" in manifest["files"]
    checked = stack.run("manage", "restore", str(folder), "--check", check=False)
    assert checked.returncode == 0, checked.stderr

    url, media = _url(fresh_database), tmp_path / "restored-media"
    restored = stack.run(
        "manage", "restore", str(folder), "--database-url", url, "--media-root", str(media), check=False
    )
    assert restored.returncode == 0, restored.stderr
    assert (media / photo.image.name).read_bytes() == original
    count = subprocess.run(
        ["psql", "-X", "-qAt", "-c", "SELECT count(*) FROM hazards_photo"],
        env={**os.environ, **database_libpq(url)}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert count.stdout.strip() == "1"


@pytest.mark.django_db(transaction=True)
def test_the_manifest_names_the_registry_version_of_a_checkout_another_user_owns(tmp_path, settings, monkeypatch):
    """On the production stack the backup runs as the service user in root's checkout,
    which git refuses as "dubious ownership" unless told it is safe."""
    checkout = tmp_path / "checkout"
    git = ["git", "-c", "user.name=Ops", "-c", "user.email=ops@example.org", "-C", str(checkout)]
    checkout.mkdir()
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "release"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    settings.BASE_DIR, settings.MEDIA_ROOT = checkout, tmp_path / "media"
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")  # git's own stand-in for another owner

    assert backup(tmp_path / "backup")["registry_version"] == head
    assert json.loads((tmp_path / "backup" / MANIFEST).read_text())["registry_version"] == head


@pytest.fixture
def small_backup(tmp_path, settings, demo_tree, make_site, inspect):
    """A backup of one site with one photo, made with the default report settings."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVIDENCE_MAX_AGE_DAYS = 365
    inspection = inspect(make_site(demo_tree["99101"]), "2026-05-02T09:00")
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 90, 60)).save(picture, format="JPEG")
    services.photo_attach(actor=inspection.inspector, inspection=inspection, data=picture.getvalue())
    call_command("backup", str(tmp_path / "backup"), stdout=open(os.devnull, "w"))  # noqa: SIM115
    return tmp_path / "backup"


def _public_tables(url: str) -> list[str]:
    listing = subprocess.run(
        ["psql", "-X", "-qAt", "-c", "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"],
        env={**os.environ, **database_libpq(url)}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return listing.stdout.split()


@pytest.mark.django_db(transaction=True)
def test_a_changed_manifest_is_refused_before_anything_is_written(tmp_path, small_backup, fresh_database):
    """A row count changed in manifest.json was found only after the whole restore, which
    then stayed in place and made a retry "not empty"."""
    manifest = json.loads((small_backup / MANIFEST).read_text())
    manifest["row_counts"]["hazards_site"] += 1
    (small_backup / MANIFEST).write_text(json.dumps(manifest, indent=2))
    url, media = _url(fresh_database), tmp_path / "restored-media"

    result = _run(["restore", str(small_backup), "--database-url", url, "--media-root", str(media)], url)

    assert result.returncode != 0
    assert MANIFEST_CHECKSUM in result.stderr and "Traceback" not in result.stderr
    assert _public_tables(url) == ["spatial_ref_sys"] and not media.exists()


@pytest.mark.django_db(transaction=True)
def test_a_media_folder_the_restoring_user_cannot_write_is_refused_before_anything_is_written(
    tmp_path, small_backup, fresh_database
):
    """The database was restored, then a PermissionError traceback and no photos."""
    url = _url(fresh_database)
    # Where nobody, who runs the restore, reads its own copy of the backup and cannot
    # write root's media folder (pytest's own folders are root's alone).
    with tempfile.TemporaryDirectory() as shared:
        Path(shared).chmod(0o755)
        backup, media = Path(shared) / "backup", Path(shared) / "roots" / "media"
        shutil.copytree(small_backup, backup)
        for path in (backup, *backup.rglob("*")):
            shutil.chown(path, "nobody")
        media.parent.mkdir(mode=0o755)
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
        as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        result = subprocess.run(
            [*as_nobody, *MANAGE, "restore", str(backup), "--database-url", url, "--media-root", str(media)],
            env=env, capture_output=True, text=True, check=False, cwd="/",
        )  # fmt: skip
        created = media.exists()

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert str(media) in result.stderr and "scripts/prod.py manage restore" in result.stderr
    assert _public_tables(url) == ["spatial_ref_sys"] and not created


@pytest.mark.django_db(transaction=True)
def test_a_restore_with_other_report_settings_is_refused_unless_the_operator_says_so(
    tmp_path, settings, small_backup, fresh_database
):
    """The report numbers depend on these settings: a warning and exit 0 let a restore
    with other numbers pass unseen."""
    settings.EVIDENCE_MAX_AGE_DAYS = 180
    url, media = _url(fresh_database), tmp_path / "restored-media"
    restore = ["restore", str(small_backup), "--database-url", url, "--media-root", str(media)]

    with pytest.raises(CommandError) as refused:
        call_command(*restore)
    said = str(refused.value)
    assert all(word in said for word in ("EVIDENCE_MAX_AGE_DAYS", "180", "365", "--settings-may-differ")), said
    assert _public_tables(url) == ["spatial_ref_sys"] and not media.exists()

    said, warned = io.StringIO(), io.StringIO()
    call_command(*restore, "--settings-may-differ", stdout=said, stderr=warned)
    assert "EVIDENCE_MAX_AGE_DAYS" in warned.getvalue()
    assert "hazards_site" in _public_tables(url) and any(media.rglob("*.jpg"))


@pytest.mark.django_db(transaction=True)
def test_a_backup_stopped_before_its_end_is_removed_by_the_next_one(tmp_path, settings, demo_tree, make_site):
    """A backup killed mid-way (the machine's power, the OOM killer) left a folder with a
    dump and photos but no manifest: never counted as a backup, never removed by --keep,
    filling the disk night after night."""
    settings.MEDIA_ROOT, settings.BACKUP_ROOT = tmp_path / "media", tmp_path / "backups"
    make_site(demo_tree["99101"])
    stopped = settings.BACKUP_ROOT / "registry-20261201-023000"
    (stopped / "media").mkdir(parents=True)
    (stopped / "database.dump").write_bytes(b"PGDMP half")
    out = io.StringIO()

    call_command("backup", "--keep", "3", stdout=out)

    assert not stopped.exists()
    assert f"Removed the unfinished backup {stopped}" in out.getvalue()
    assert [p.name for p in settings.BACKUP_ROOT.iterdir() if p.is_dir()] != [stopped.name]
    assert all((p / MANIFEST).is_file() for p in settings.BACKUP_ROOT.iterdir() if p.is_dir())

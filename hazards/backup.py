"""Backup and restore of the registry's evidence: the database in PostgreSQL's custom
format, every stored photo and thumbnail, and the settings the numbers depend on, with a
manifest of checksums.

A backup is one consistent moment: the row counts, the list of photo files and the dump
all read the same exported snapshot, so a photo arriving during the backup is either
wholly in it (row and file) or not at all. Photo files are named by their content and
never change, so a backup may hard-link the files an earlier backup already holds.
A restore goes only into an empty database and an empty media folder, checks every
checksum (the manifest's own included), the settings the numbers depend on and that the
media folder can take the photos before it writes anything, and compares the restored row
counts with the manifest's."""

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import dj_database_url
from django.apps import apps
from django.conf import settings
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _

from common.numbers import format_number

FORMAT = 1
MANIFEST = "manifest.json"
# The manifest's own checksum (`sha256sum -c` reads it): a manifest changed after the
# backup is refused before anything is written, not after a whole restore.
MANIFEST_CHECKSUM = "manifest.sha256"
DUMP = "database.dump"
MEDIA = "media"
SETTINGS = "settings.json"
# Settings that change what the stored data means: a restore refuses when they differ
# unless told they may.
MEANINGFUL_SETTINGS = ["TIME_ZONE", "LANGUAGE_CODE", "EVIDENCE_MAX_AGE_DAYS", "TEMPORARY_EVIDENCE_MAX_AGE_DAYS"]
CHUNK = 1 << 20
REFERENCE_SYSTEMS = "spatial_ref_sys"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says what to do."""


def _use_another_copy() -> str:
    return _("Restore an older backup or the off-site copy instead.")


def _start_again() -> str:
    return _(
        "If this is where the backup belongs, drop and recreate the database and empty the media "
        "folder as the README's “Operations: backups and restores” shows, then restore again."
    )


@dataclass(frozen=True)
class Target:
    """Where a restore goes: a database (libpq parameters) and a media folder."""

    libpq: dict[str, str]
    media_root: Path


def _libpq(db: dict) -> dict[str, str]:
    """libpq environment variables for a Django DATABASES entry."""
    names = {"HOST": "PGHOST", "PORT": "PGPORT", "USER": "PGUSER", "PASSWORD": "PGPASSWORD", "NAME": "PGDATABASE"}
    return {env: str(db[key]) for key, env in names.items() if db.get(key)}


def database_libpq(database_url: str | None = None, alias: str = "default") -> dict[str, str]:
    """libpq parameters for a database URL, or for the configured database."""
    return _libpq(dj_database_url.parse(database_url) if database_url else connections[alias].settings_dict)


def _tool(name: str) -> str:
    """PostgreSQL's client programs of the server's major version when installed there."""
    versioned = Path(settings.POSTGRES_BIN_DIR) / name
    return str(versioned) if versioned.exists() else name


def _run(args: list[str], libpq: dict[str, str]) -> None:
    # PostgreSQL's own programs with fixed arguments; the shell is never involved.
    result = subprocess.run(args, env={**os.environ, **libpq}, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode:
        raise BackupError(f"{Path(args[0]).name}: {result.stderr.strip() or result.stdout.strip()}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _tables() -> list[str]:
    """The registry's tables: every concrete model's, and the migration record."""
    tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True) if m._meta.managed}
    return sorted(tables | {"django_migrations"})


def _row_counts(cursor, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - names from the models
        counts[table] = cursor.fetchone()[0]
    return counts


def contents(manifest: dict) -> str:
    """What a backup holds, said the same way by `backup` and `restore`: rows, photos (one
    per stored photo, its thumbnail not counted again) and size."""
    size = sum(f["bytes"] for f in manifest["files"].values())
    return _("%(rows)s rows, %(photos)s photos, %(mb)s MB") % {
        "rows": format_number(sum(manifest["row_counts"].values())),
        "photos": format_number(manifest["row_counts"].get("hazards_photo", 0)),
        "mb": format_number(size / 1e6, 1),
    }


def _photo_files(cursor) -> list[str]:
    cursor.execute("SELECT image, thumbnail FROM hazards_photo ORDER BY image")
    return [name for row in cursor.fetchall() for name in row if name]


def _registry_version() -> str:
    head = Path(settings.BASE_DIR) / ".git"
    if not head.exists():
        return ""
    # The backup runs as the service user and the checkout is root's: git refuses a
    # repository another user owns ("dubious ownership") unless told this one is safe.
    root = str(settings.BASE_DIR)
    result = subprocess.run(  # noqa: S603
        ["git", "-c", f"safe.directory={root}", "-C", root, "rev-parse", "HEAD"],  # noqa: S607 - git from PATH
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip()


def _copy_or_link(source: Path, destination: Path, earlier: Path | None) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    if earlier is not None and earlier.exists():
        os.link(earlier, destination)
    else:
        shutil.copyfile(source, destination)


def backup(destination: Path, *, previous: Path | None = None, alias: str = "default") -> dict:
    """Write a backup into `destination` (new or empty); returns its manifest. With
    `previous` (an earlier backup) photo files already there are hard-linked, not copied."""
    if destination.exists() and any(destination.iterdir()):
        raise BackupError(_("The backup folder %(path)s is not empty.") % {"path": destination})
    destination.mkdir(parents=True, exist_ok=True)
    # The dump holds password hashes, sessions and people's names: the service's alone.
    destination.chmod(0o700)
    earlier_files = _manifest(previous)["files"] if previous else {}
    media_root = Path(settings.MEDIA_ROOT)
    connection = connections[alias]
    connection.ensure_connection()
    # The snapshot lives as long as this transaction: counts, photo list and dump all see it.
    with connection.connection.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version'), postgis_lib_version()")
            snapshot, server_version, postgis_version = cursor.fetchone()
            counts = _row_counts(cursor, _tables())
            photo_files = _photo_files(cursor)
            cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
            migrations = dict(cursor.fetchall())
            dump = destination / DUMP
            _run(
                [_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", f"--file={dump}"],
                database_libpq(alias=alias),
            )
        finally:
            cursor.execute("ROLLBACK")
    files = {DUMP: {"sha256": sha256_of(dump), "bytes": dump.stat().st_size}}
    for name in photo_files:
        source = media_root / name
        if not source.is_file():
            raise BackupError(
                _("The photo file %(name)s named in the database is missing from %(root)s.")
                % {"name": name, "root": media_root}
            )
        relative = f"{MEDIA}/{name}"
        digest = sha256_of(source)
        earlier = earlier_files.get(relative)
        reuse = previous / relative if earlier and earlier["sha256"] == digest else None
        _copy_or_link(source, destination / relative, reuse)
        files[relative] = {"sha256": digest, "bytes": source.stat().st_size}
    meaningful = {name: getattr(settings, name) for name in MEANINGFUL_SETTINGS}
    (destination / SETTINGS).write_text(json.dumps(meaningful, indent=2, ensure_ascii=False) + "\n")
    files[SETTINGS] = {"sha256": sha256_of(destination / SETTINGS), "bytes": (destination / SETTINGS).stat().st_size}
    manifest = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "registry_version": _registry_version(),
        "postgresql": server_version,
        "postgis": postgis_version,
        "migrations": migrations,
        "row_counts": counts,
        "files": files,
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    digest = hashlib.sha256(text.encode()).hexdigest()
    (destination / MANIFEST_CHECKSUM).write_text(f"{digest}  {MANIFEST}\n")
    # Written last: a folder with a manifest is a complete backup (backups_in).
    (destination / MANIFEST).write_text(text)
    return manifest


def _manifest(source: Path) -> dict:
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(
            _("%(path)s is not a registry backup: it has no %(manifest)s.") % {"path": source, "manifest": MANIFEST}
        )
    text = path.read_bytes()
    checksum = source / MANIFEST_CHECKSUM
    # Backups made before the checksum existed have none; their row counts are still
    # compared after the restore.
    if checksum.is_file() and checksum.read_text().split()[:1] != [hashlib.sha256(text).hexdigest()]:
        raise BackupError(
            _("The manifest of %(path)s does not match its checksum (%(file)s): it was changed or damaged.")
            % {"path": source, "file": MANIFEST_CHECKSUM}
            + " "
            + _use_another_copy()
        )
    try:
        manifest = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise BackupError(
            _("The manifest of %(path)s is damaged.") % {"path": source} + " " + _use_another_copy()
        ) from None
    if manifest.get("format") != FORMAT:
        raise BackupError(_("The backup %(path)s has a format this version cannot read.") % {"path": source})
    return manifest


def verify(source: Path) -> dict:
    """Every file the manifest lists is there with its checksum, and nothing else is."""
    manifest = _manifest(source)
    for relative, expected in manifest["files"].items():
        path = source / relative
        if not path.is_file():
            raise BackupError(_("The backup is missing %(file)s.") % {"file": relative} + " " + _use_another_copy())
        if sha256_of(path) != expected["sha256"]:
            raise BackupError(
                _("%(file)s in the backup does not match its checksum: it is damaged.") % {"file": relative}
                + " "
                + _use_another_copy()
            )
    return manifest


def settings_differences(manifest_source: Path) -> list[str]:
    """The meaningful settings whose value here differs from the backup's."""
    saved = json.loads((manifest_source / SETTINGS).read_text())
    return [
        _("%(name)s is %(here)s here but was %(then)s when the backup was made.")
        % {"name": name, "here": getattr(settings, name, None), "then": value}
        for name, value in saved.items()
        if getattr(settings, name, None) != value
    ]


def _query(target: Target, sql: str) -> list[tuple]:
    result = subprocess.run(  # noqa: S603
        [_tool("psql"), "-X", "-qAt", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
        env={**os.environ, **target.libpq},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise BackupError(f"psql: {result.stderr.strip()}")
    return [tuple(line.split("\t")) for line in result.stdout.splitlines() if line]


def _require_empty(target: Target) -> None:
    tables = _query(
        target,
        "SELECT schemaname || '.' || tablename FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'topology', 'tiger', 'tiger_data') "
        "AND tablename <> 'spatial_ref_sys' LIMIT 3",
    )
    if tables:
        raise BackupError(
            _("The database %(db)s is not empty (it has %(tables)s); restore only into an empty database.")
            % {"db": target.libpq.get("PGDATABASE", "?"), "tables": ", ".join(t[0] for t in tables)}
            + " "
            + _start_again()
        )
    if target.media_root.exists() and any(target.media_root.iterdir()):
        raise BackupError(
            _("The media folder %(path)s is not empty; restore only into an empty folder.")
            % {"path": target.media_root}
            + " "
            + _start_again()
        )


def _require_room_for_photos(target: Target, manifest: dict) -> None:
    """The media folder can take the backup's photos, checked before the database is written."""
    folder = target.media_root
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise BackupError(
            _(
                "The user running the restore cannot write the media folder %(path)s: run the restore as "
                "the user who owns it (on the production stack: scripts/prod.py manage restore), or give "
                "that user the folder, then restore again. Nothing was written."
            )
            % {"path": folder}
        )
    needed = sum(f["bytes"] for name, f in manifest["files"].items() if name.startswith(f"{MEDIA}/"))
    if shutil.disk_usage(existing).free < needed:
        raise BackupError(
            _("The media folder %(path)s has less than the %(mb)s MB of photos free: make room, then restore again.")
            % {"path": folder, "mb": format_number(needed / 1e6, 1)}
        )


def _require_same_settings(source: Path) -> None:
    differences = settings_differences(source)
    if differences:
        raise BackupError(
            " ".join(differences)
            + " "
            + _(
                "The report numbers depend on these settings: set them as they were, or restore anyway "
                "with --settings-may-differ."
            )
        )


def restore(source: Path, target: Target, *, settings_may_differ: bool = False) -> dict:
    """Restore a verified backup into an empty database and media folder; returns the
    manifest. Nothing is written before every checksum, the settings (unless they may
    differ) and the media folder have been checked."""
    manifest = verify(source)
    if not settings_may_differ:
        _require_same_settings(source)
    _require_empty(target)
    _require_room_for_photos(target, manifest)
    with tempfile.NamedTemporaryFile("w", suffix=".list") as contents:
        contents.write(_restore_list(source / DUMP))
        contents.flush()
        _run(
            [
                _tool("pg_restore"),
                "--exit-on-error",
                "--single-transaction",
                "--no-owner",
                "--no-privileges",
                # COMMENT ON EXTENSION needs the extension's owner; the comments carry nothing.
                "--no-comments",
                f"--use-list={contents.name}",
                f"--dbname={target.libpq.get('PGDATABASE', '')}",
                str(source / DUMP),
            ],
            target.libpq,
        )
    try:
        _copy_photos_and_count(source, target, manifest)
    except (BackupError, OSError) as exc:
        # What could be checked was; what fails now leaves a partial restore behind.
        raise BackupError(f"{exc} {_start_again()}") from exc
    # pg_restore leaves the planner without statistics: the first reports would crawl.
    _run([_tool("vacuumdb"), "--analyze-only", "--quiet"], target.libpq)
    return manifest


def _copy_photos_and_count(source: Path, target: Target, manifest: dict) -> None:
    for relative, expected in manifest["files"].items():
        if not relative.startswith(f"{MEDIA}/"):
            continue
        destination = target.media_root / relative.removeprefix(f"{MEDIA}/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, destination)
        if sha256_of(destination) != expected["sha256"]:
            raise BackupError(_("%(file)s was damaged while copying it back.") % {"file": relative})
    counts = dict(_query(target, _count_sql(list(manifest["row_counts"]))))
    wrong = [t for t, n in manifest["row_counts"].items() if int(counts.get(t, -1)) != n]
    if wrong:
        raise BackupError(
            _("The restored tables %(tables)s do not hold the rows the backup counted.") % {"tables": ", ".join(wrong)}
        )


def _restore_list(dump: Path) -> str:
    """What pg_restore restores: the whole dump but the rows of PostGIS's table of
    coordinate systems when it has none of its own. That table belongs to the extension,
    which a superuser creates; pg_dump writes its rows added by hand (the registry adds
    none) as a COPY, which the database's owner, who restores on the production stack, may
    not run even with no rows."""
    listing = _output([_tool("pg_restore"), "--list", str(dump)])
    rows = _output([_tool("pg_restore"), "--data-only", f"--table={REFERENCE_SYSTEMS}", "--file=-", str(dump)])
    copied = rows.split(" FROM stdin;\n", 1)[1].split("\\.\n", 1)[0] if " FROM stdin;\n" in rows else ""
    if copied:
        return listing
    return "".join(
        line for line in listing.splitlines(keepends=True) if f" TABLE DATA public {REFERENCE_SYSTEMS} " not in line
    )


def _output(args: list[str]) -> str:
    # PostgreSQL's own programs reading a file, with fixed arguments.
    result = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode:
        raise BackupError(f"{Path(args[0]).name}: {result.stderr.strip()}")
    return result.stdout


def _count_sql(tables: list[str]) -> str:
    return " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables)  # noqa: S608


def backups_in(root: Path) -> list[Path]:
    """The complete backups in a folder, oldest first (names sort by time)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST).is_file())


def unfinished_in(root: Path) -> list[Path]:
    """The dated folders of backups that never wrote their manifest: stopped mid-way. Only
    to be read while holding the folder's lock (backup_lock), when no backup is running."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("registry-*") if p.is_dir() and not (p / MANIFEST).is_file())


@contextlib.contextmanager
def backup_lock(root: Path):
    """One backup at a time in a folder: a second one is refused (BackupError), and the one
    holding the lock knows that any unfinished folder there is a stopped run's."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                _("Another backup is being written into %(path)s; wait for it to end.") % {"path": root}
            ) from None
        yield


def new_backup_path(root: Path, now: dt.datetime) -> Path:
    return root / f"registry-{timezone.localtime(now):%Y%m%d-%H%M%S}"

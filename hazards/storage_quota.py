"""How much of the server's disk (and database) the files a person sends may take
(pentest F10: a field worker's 1.9 MB zip left 100 MB for a day, with nothing limiting how
many). A person's stored bytes are their kept uploads (a folder of their own under
IMPORT_UPLOAD_ROOT), the files of their runs and jobs still waiting in the database, and
their job results not yet expired. A new file is refused when it would take them beyond
IMPORT_QUOTA_BYTES, or leave the uploads' disk with less than IMPORT_MIN_FREE_BYTES free."""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, Func, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from common.numbers import format_number

from .models import ImportFilePart, ImportRun, JobInput, JobRun

MB = 1_000_000
# The first key of a person's advisory lock on what they keep and queue (the second is their id).
PERSON_LOCK = 7317


class NoRoom(Exception):
    """The file may not be kept; the message says why, for a person."""


def upload_folder(user) -> Path:
    """The folder of a person's kept uploads."""
    return Path(settings.IMPORT_UPLOAD_ROOT) / str(user.pk)


def _bytes_in(parts) -> int:
    return parts.aggregate(n=Sum(Func(F("data"), function="octet_length")))["n"] or 0


def stored_bytes(user) -> int:
    folder = upload_folder(user)
    kept = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) if folder.exists() else 0
    queued = _bytes_in(ImportFilePart.objects.filter(run__created_by=user))
    queued += _bytes_in(JobInput.objects.filter(run__created_by=user))
    results = JobRun.objects.filter(created_by=user, expires_at__gt=timezone.now()).aggregate(n=Sum("result_bytes"))
    return kept + queued + (results["n"] or 0)


def _free_bytes() -> int:
    folder = Path(settings.IMPORT_UPLOAD_ROOT)
    while not folder.exists():  # made on the first upload
        folder = folder.parent
    return shutil.disk_usage(folder).free


def hold(user) -> None:
    """The person's lock until the transaction ends: what they keep or queue is counted,
    then added, by one request at a time (pentest P2: 8 uploads sent at once kept 1.3 GB
    against a quota of 1 GB; 30 exports at once queued 7 where 3 were allowed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [PERSON_LOCK, user.pk])


def check_job_room(user) -> None:
    """ValidationError unless `user` may queue more work for the one job worker: at most
    JOBS_MAX_WAITING_PER_PERSON jobs and import runs waiting or running (pentest N3: a
    viewer queued a hundred exports at once; P1: a field worker's checks of one file made
    another person's export wait behind them; bench/NOTES.md), and job files within the
    quota. Called in the transaction that queues the work, under the person's lock
    (hold)."""
    hold(user)
    unfinished = [JobRun.Status.QUEUED, JobRun.Status.RUNNING]
    waiting = JobRun.objects.filter(created_by=user, status__in=unfinished).count()
    waiting += ImportRun.objects.filter(created_by=user, status__in=unfinished).count()
    if waiting >= settings.JOBS_MAX_WAITING_PER_PERSON:
        raise ValidationError(
            _(
                "You already have %(n)d jobs waiting or running: ask for more once one has finished "
                "(their pages show how far they are)."
            )
            % {"n": settings.JOBS_MAX_WAITING_PER_PERSON}
        )
    stored = stored_bytes(user)
    if stored >= settings.IMPORT_QUOTA_BYTES:
        raise ValidationError(
            _(
                "You already keep %(stored)s MB of files and job files on the server, the most one person may keep. "
                "Job files are removed %(hours)d hours after they were made: ask again then."
            )
            % {"stored": format_number(stored / MB, 1), "hours": settings.JOBS_RESULT_HOURS}
        )


def check_room(user, adding: int) -> None:
    """NoRoom unless `user` may keep `adding` more bytes."""
    if _free_bytes() - adding < settings.IMPORT_MIN_FREE_BYTES:
        raise NoRoom(
            _(
                "The server is short of disk space: the file cannot be kept now. "
                "Tell the administrator, or try again later."
            )
        )
    stored = stored_bytes(user)
    if stored + adding > settings.IMPORT_QUOTA_BYTES:
        raise NoRoom(
            _(
                "You already keep %(stored)s MB of files on the server; with this one (%(adding)s MB) it would be more "
                "than the %(quota)s MB one person may keep. Uploads are removed %(hours)d hours after they were sent, "
                "and job files when they expire: try again then, or send a smaller file."
            )
            % {
                "stored": format_number(stored / MB, 1),
                "adding": format_number(adding / MB, 1),
                "quota": format_number(settings.IMPORT_QUOTA_BYTES / MB),
                "hours": settings.IMPORT_UPLOAD_KEPT_HOURS,
            }
        )

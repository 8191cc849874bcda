"""Long work queued for the job worker (hazards/tasks.py): an import of an uploaded
file, or its check, and the other work a person asks for (the kinds of job_kinds.py).
Each start writes the run, the file it reads (copied into the database, for a worker
that may be on another machine) and the job in one transaction, all or none."""

from pathlib import Path

from django.db import transaction

from common.log_context import current_request_id

from . import storage_quota
from .job_kinds import KINDS
from .models import ImportFilePart, ImportRun, JobInput, JobRun
from .tasks import import_file, run_job

# An uploaded file is copied into the database in parts of this size (bytes).
IMPORT_PART_BYTES = 8 * 1024 * 1024


def _store_parts(path: Path, create) -> None:
    """Copies an uploaded file into the database, `create(name=, seq=, data=)` per part,
    for a worker that may be on another machine. A Shapefile is read with the files
    beside it; the zip it came in is not needed."""
    for member in sorted(p for p in path.parent.iterdir() if p.is_file() and p.suffix.lower() != ".zip"):
        with open(member, "rb") as source:
            for seq, data in enumerate(iter(lambda source=source: source.read(IMPORT_PART_BYTES), b"")):
                create(name=member.name, seq=seq, data=data)


@transaction.atomic
def import_run_start(
    *,
    actor,
    path: Path,
    mapping: dict,
    dry_run: bool,
    language: str,
    words: dict | None = None,
    system: int | None = None,
    update: bool = False,
    sheet: str = "",
) -> ImportRun:
    """Queues the import (or the check) of an uploaded file for the worker: the run, its
    file copied into the database (the worker may be on another machine) and the job, all
    or none."""
    storage_quota.check_job_room(actor)
    run = ImportRun.objects.create(
        created_by=actor,
        upload_id=path.parent.name,
        file_name=path.name,
        mapping=mapping,
        words=words or {},
        system=system,
        dry_run=dry_run,
        update=update,
        sheet=sheet,
        language=language,
    )
    _store_parts(path, lambda **part: ImportFilePart.objects.create(run=run, **part))
    import_file.defer(run_id=str(run.pk), request_id=current_request_id.get())
    return run


@transaction.atomic
def job_start(*, actor, kind: str, params: dict, language: str, upload: Path | None = None) -> JobRun:
    """Queues long work of a registered kind (job_kinds.py) for the worker: the run, the
    uploaded file it reads (copied into the database) and its job, all or none. Asked again
    while the same work (without a file) still waits or runs, it answers that run rather
    than doing it twice (a person clicking again)."""
    if kind not in KINDS:
        raise ValueError(f"no job kind {kind!r}")
    waiting = [JobRun.Status.QUEUED, JobRun.Status.RUNNING]
    unfinished = JobRun.objects.filter(
        created_by=actor, kind=kind, params=params, language=language, status__in=waiting
    )
    if upload is None and (found := unfinished.order_by("-created_at").first()):
        return found
    if upload is None:  # a file sent is held to the upload quota where it arrives
        storage_quota.check_job_room(actor)
    run = JobRun.objects.create(
        created_by=actor, kind=kind, params=params, language=language, request_id=current_request_id.get()
    )
    if upload is not None:
        _store_parts(upload, lambda **part: JobInput.objects.create(run=run, **part))
    run_job.defer(run_id=str(run.pk), request_id=run.request_id)
    return run

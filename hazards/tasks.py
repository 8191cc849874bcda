"""Jobs of the hazards app, run by the worker (`manage.py jobs_worker`, started
by `make prod`): imports and their checks, the other long work a person asks for
(JobRun: exports here, report documents from reports/tasks.py, see job_kinds.py), and the
remediation order reminders.

An import's file comes from the database, so a worker on another machine needs only
DATABASE_URL. The import is one transaction (hazards/imports.py): a worker killed in the
middle leaves nothing of the file, and the job, found stalled, runs again from the start
(config/jobs.py). A JobRun's file is written under MEDIA_ROOT (RESULTS_FOLDER), from where
nginx sends it to the person who asked (job_pages.py): a worker on another machine needs
the media folder mounted, as a second app server does. A JobRun killed part-way runs again
from the start, its folder emptied first. Every log line written by a job carries its run's
id and the id of the request that asked for it (log_context.py)."""

import contextlib
import datetime as dt
import logging
import shutil
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F
from django.http import HttpRequest, QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from procrastinate.contrib.django import app

from accounts.models import User
from accounts.scope import scope_for
from areas.loader import field_map, load_boundaries
from areas.spatialfile import SpatialFileError
from common.log_context import current_job_id, current_request_id

from . import exports, selectors
from .imports import ImportFileError, import_steps
from .job_kinds import KINDS, JobError, job_kind
from .models import ImportFilePart, ImportRun, JobInput, JobRun
from .reminders import send_due_reminders

log = logging.getLogger("hazards.jobs")
# A run's progress is written at most this often (seconds).
PROGRESS_EVERY = 1.0
# Where JobRun files are written, under MEDIA_ROOT (one folder per run).
RESULTS_FOLDER = "results"


@contextlib.contextmanager
def job_log_context(run_id: str, request_id: str):
    """Every log line written inside carries the run's id and the id of the request that
    asked for it."""
    job_token, request_token = current_job_id.set(run_id), current_request_id.set(request_id)
    try:
        yield
    finally:
        current_job_id.reset(job_token)
        current_request_id.reset(request_token)


def on_own_connection(write) -> None:
    """Runs `write` on a connection of its own, so that it commits at once while the job
    holds its transaction open on this one (which nobody sees before the end)."""

    def target():
        try:
            write()
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()


def _materialise(parts, folder: Path) -> None:
    """Writes a file kept in the database in parts (ImportFilePart, JobInput) into
    `folder` (a Shapefile's files beside each other)."""
    for part in parts.order_by("name", "seq").iterator():
        with open(folder / part.name, "ab") as out:
            out.write(part.data)


@app.task(queue="imports", name="hazards.import_file")
def import_file(*, run_id: str, request_id: str = "") -> None:
    with job_log_context(run_id, request_id):
        _import_file(run_id)


def _claimed(model, run_id: str):
    """The run (ImportRun or JobRun), marked running for one more attempt; None when it had
    already ended (a stalled job retried after its run had ended)."""
    run = model.objects.get(pk=run_id)
    if run.finished:
        return None
    model.objects.filter(pk=run.pk).update(status=model.Status.RUNNING, attempts=F("attempts") + 1)
    return run


def _import_file(run_id: str) -> None:
    run = _claimed(ImportRun, run_id)
    if run is None:
        return
    # Problems are written in the language of the person who asked for the run.
    with translation.override(run.language):
        # What the page says if the import fails unexpectedly (the error itself is logged
        # with its traceback as the job fails): the transaction left nothing behind.
        outcome = {
            "status": ImportRun.Status.FAILED,
            "problems": [_("The import stopped on an unexpected error: nothing was stored. Try again later.")],
        }
        try:
            outcome = _import(run)
        finally:
            ImportRun.objects.filter(pk=run.pk).update(**outcome, finished_at=timezone.now())
            ImportFilePart.objects.filter(run=run).delete()
            log.info(
                "import run %s: %s",
                run.pk,
                outcome["status"],
                extra={
                    "outcome": str(outcome["status"]),
                    "dry_run": run.dry_run,
                    "sites_added": outcome.get("created"),
                },
            )


def _import(run: ImportRun) -> dict:
    """Runs the import, writing its progress as it goes; returns the run's outcome."""
    actor = User.objects.get(pk=run.created_by_id)
    last = 0.0
    with tempfile.TemporaryDirectory(prefix="hazards-import-") as folder:
        _materialise(ImportFilePart.objects.filter(run=run), Path(folder))
        steps = import_steps(
            Path(folder) / run.file_name,
            actor=actor,
            mapping=run.mapping,
            words=run.words,
            system=run.system,
            dry_run=run.dry_run,
            update=run.update,
            sheet=run.sheet,
        )
        try:
            while True:
                done, total = next(steps)
                if time.monotonic() - last >= PROGRESS_EVERY:
                    last = time.monotonic()
                    on_own_connection(
                        lambda done=done, total=total: ImportRun.objects.filter(pk=run.pk).update(
                            rows_done=done, rows_total=total
                        )
                    )
        except StopIteration as finished:
            result = finished.value
        except ImportFileError as error:
            return {"status": ImportRun.Status.FAILED, "problems": error.problems}
    return {
        "status": ImportRun.Status.FAILED if result.problems else ImportRun.Status.DONE,
        "rows_done": result.rows,
        "rows_total": result.rows,
        "created": None if result.problems else result.created,
        "unchanged": None if result.problems else result.unchanged,
        "updated": None if result.problems else result.updated,
        "changes": [] if result.problems else result.changes,
        "problems": result.problems,
        "notices": result.notices,
    }


@app.periodic(cron="23 3 * * *", periodic_id="forget_old_import_runs")
@app.task(queue="upkeep", queueing_lock="forget_old_import_runs", name="hazards.forget_old_import_runs")
def forget_old_import_runs(timestamp: int) -> None:
    ImportRun.objects.filter(created_at__lt=timezone.now() - dt.timedelta(days=settings.JOBS_KEPT_DAYS)).delete()


def results_folder(run: JobRun) -> Path:
    return Path(settings.MEDIA_ROOT) / RESULTS_FOLDER / run.pk.hex


class Progress:
    """progress(done, total) of a JobRun, written at most every PROGRESS_EVERY seconds."""

    def __init__(self, run: JobRun):
        self.run_id = run.pk
        self.last = 0.0
        self.total = 0

    def __call__(self, done: int, total: int) -> None:
        self.total = total
        if time.monotonic() - self.last < PROGRESS_EVERY:
            return
        self.last = time.monotonic()
        on_own_connection(lambda: JobRun.objects.filter(pk=self.run_id).update(done=done, total=total))


@app.task(queue="jobs", name="hazards.run_job")
def run_job(*, run_id: str, request_id: str = "") -> None:
    with job_log_context(run_id, request_id):
        _run_job(run_id)


def _run_job(run_id: str) -> None:
    run = _claimed(JobRun, run_id)
    if run is None:
        return
    started = time.monotonic()
    log.info("job run %s (%s) started", run.pk, run.kind, extra={"kind": run.kind, "attempt": run.attempts + 1})
    folder = results_folder(run)
    shutil.rmtree(folder, ignore_errors=True)  # what a killed attempt left
    folder.mkdir(parents=True)
    # Messages in the language of the person who asked.
    with translation.override(run.language):
        # What the page says if the work fails unexpectedly (the error itself is logged
        # with its traceback as the job fails).
        outcome = {
            "status": JobRun.Status.FAILED,
            "problem": _("The work stopped on an unexpected error. Try again later."),
        }
        try:
            outcome = _run(run, folder)
        except JobError as error:
            outcome = {"status": JobRun.Status.FAILED, "problem": str(error)}
        finally:
            if not outcome.get("result"):
                shutil.rmtree(folder, ignore_errors=True)
            JobRun.objects.filter(pk=run.pk).update(**outcome, finished_at=timezone.now())
            JobInput.objects.filter(run=run).delete()
            log.info(
                "job run %s (%s): %s",
                run.pk,
                run.kind,
                outcome["status"],
                extra={
                    "kind": run.kind,
                    "outcome": str(outcome["status"]),
                    "result_bytes": outcome.get("result_bytes"),
                    "duration_s": round(time.monotonic() - started, 2),
                },
            )


def _run(run: JobRun, folder: Path) -> dict:
    actor = User.objects.get(pk=run.created_by_id)
    # Read before the work, which reads the same scope (scope_for keeps it on the actor).
    made_within = scope_for(actor).readable_roots()
    progress = Progress(run)
    with tempfile.TemporaryDirectory(prefix="hazards-job-") as work:
        params = dict(run.params)
        if "upload" in params:  # the file it reads: back from the database
            _materialise(JobInput.objects.filter(run=run), Path(work))
            params["upload"] = Path(work) / params["upload"]
        produced = KINDS[run.kind].function(actor=actor, folder=folder, progress=progress, **params)
    if isinstance(produced, str):  # work without a file says what it did
        return {"status": JobRun.Status.DONE, "summary": produced}
    if produced.resolve().parent != folder.resolve():
        raise ValueError(f"{run.kind} wrote {produced}, outside its folder {folder}")
    return {
        "status": JobRun.Status.DONE,
        "done": progress.total,
        "total": progress.total,
        "result": f"{RESULTS_FOLDER}/{run.pk.hex}/{produced.name}",
        "result_bytes": produced.stat().st_size,
        "made_within": made_within,
        "expires_at": timezone.now() + dt.timedelta(hours=settings.JOBS_RESULT_HOURS),
    }


@app.periodic(cron="*/10 * * * *", periodic_id="expire_job_results")
@app.task(queue="upkeep", queueing_lock="expire_job_results", name="hazards.expire_job_results")
def expire_job_results(timestamp: int) -> None:
    """Files go when they expire (their page then says so); runs are forgotten after
    JOBS_KEPT_DAYS."""
    now = timezone.now()
    expired = JobRun.objects.filter(expires_at__lte=now).exclude(result="")
    for run in expired:
        shutil.rmtree(results_folder(run), ignore_errors=True)
    expired.update(result="", result_bytes=None)
    JobRun.objects.filter(created_at__lt=now - dt.timedelta(days=settings.JOBS_KEPT_DAYS)).delete()


EXPORT_JOB = "hazards.export_sites"


@job_kind(EXPORT_JOB, gettext_lazy("Export of sites"))
def export_sites(*, actor, folder: Path, progress, fmt: str, query: str) -> Path:
    """The export the API was asked for (its filters as the query string it came with),
    of the sites in the asker's scope as it is when the job runs."""
    request = HttpRequest()
    request.GET, request.user = QueryDict(query), actor
    try:
        sites = selectors.filtered_sites(actor, request).order_by("code")
    except ValidationError as refused:  # an area no longer the asker's since they asked
        raise JobError(" ".join(refused.messages)) from None
    return exports.write_export(sites, fmt, folder, progress)


BOUNDARIES_JOB = "areas.load_boundaries"


@job_kind(BOUNDARIES_JOB, gettext_lazy("Boundary reload"))
def load_boundary_file(*, actor, folder: Path, progress, upload: Path, fields: dict, level, layer) -> str:
    """A boundary file sent on the boundary page, loaded as `load_areas` loads it: in one
    transaction, so a worker killed part-way leaves the area tree as it was."""
    try:
        result = load_boundaries([upload], fields=field_map(**fields), level=level or None, layer=layer or None)
    except SpatialFileError as exc:
        raise JobError(_("Nothing was loaded:") + "\n" + "\n".join(exc.problems)) from None
    return result.summary()


@app.periodic(cron="7 * * * *", periodic_id="send_order_reminders")
@app.task(queue="upkeep", queueing_lock="send_order_reminders", name="hazards.send_order_reminders")
def send_order_reminders(timestamp: int) -> None:
    """Every hour: the order reminders and daily digests due (each is sent once however
    often this runs, hazards/reminders.py)."""
    send_due_reminders()

"""Jobs of the hazards app, run by the worker (`manage.py procrastinate worker`, started
by `make prod`): imports and their checks.

A run's file comes from the database, so a worker on another machine needs only
DATABASE_URL. The import is one transaction (hazards/imports.py): a worker killed in the
middle leaves nothing of the file, and the job, found stalled, runs again from the start
(config/jobs.py)."""

import datetime as dt
import logging
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from procrastinate.contrib.django import app

from accounts.models import User

from .imports import ImportFileError, import_steps
from .models import ImportFilePart, ImportRun

log = logging.getLogger("hazards.jobs")
# A run's progress is written at most this often (seconds).
PROGRESS_EVERY = 1.0


def _on_own_connection(write) -> None:
    """Runs `write` on a connection of its own, so that it commits at once while the import
    holds its transaction open on this one (which nobody sees before the end)."""

    def target():
        try:
            write()
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()


def _materialise(run: ImportRun, folder: Path) -> Path:
    """Writes the run's file (a Shapefile's files beside each other) into `folder`."""
    for part in ImportFilePart.objects.filter(run=run).order_by("name", "seq").iterator():
        with open(folder / part.name, "ab") as out:
            out.write(part.data)
    return folder / run.file_name


@app.task(queue="imports", name="hazards.import_file")
def import_file(*, run_id: str) -> None:
    run = ImportRun.objects.get(pk=run_id)
    if run.finished:  # a stalled job retried after its run had ended
        return
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING, attempts=run.attempts + 1)
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
                extra={"run_id": str(run.pk), "dry_run": run.dry_run, "sites_added": outcome.get("created")},
            )


def _import(run: ImportRun) -> dict:
    """Runs the import, writing its progress as it goes; returns the run's outcome."""
    actor = User.objects.get(pk=run.created_by_id)
    last = 0.0
    with tempfile.TemporaryDirectory(prefix="hazards-import-") as folder:
        steps = import_steps(
            _materialise(run, Path(folder)),
            actor=actor,
            mapping=run.mapping,
            words=run.words,
            system=run.system,
            dry_run=run.dry_run,
        )
        try:
            while True:
                done, total = next(steps)
                if time.monotonic() - last >= PROGRESS_EVERY:
                    last = time.monotonic()
                    _on_own_connection(
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
        "problems": result.problems,
        "notices": result.notices,
    }


@app.periodic(cron="23 3 * * *", periodic_id="forget_old_import_runs")
@app.task(queue="upkeep", queueing_lock="forget_old_import_runs", name="hazards.forget_old_import_runs")
def forget_old_import_runs(timestamp: int) -> None:
    ImportRun.objects.filter(created_at__lt=timezone.now() - dt.timedelta(days=settings.JOBS_KEPT_DAYS)).delete()

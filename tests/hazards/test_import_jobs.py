"""Imports run as jobs of the production stack's worker (`make prod`): a worker killed
in the middle of an import leaves nothing of the file; the supervisor starts a new worker,
the job runs again and the registry holds the whole file, once."""

import os
import signal
import time
import uuid

import pytest

from accounts.models import Role
from hazards import import_load, job_queue
from hazards.models import ImportFilePart, ImportRun, Site
from tests.conftest import inside
from tests.hazards.test_import_staging import staging_tables

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 150_000  # three chunks of 50,000: progress is written after each


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.2)
    return found


def big_file(folder, area) -> object:
    point = inside(area)
    path = folder / uuid.uuid4().hex / "ao.csv"
    path.parent.mkdir()
    with open(path, "w", encoding="utf-8") as out:
        out.write("name,kind,lat,lon\n")
        for n in range(ROWS):
            out.write(f"Ao {n},ao,{point.y + (n % 400) * 1e-6:.7f},{point.x + (n // 400) * 1e-6:.7f}\n")
    return path


def test_a_worker_killed_mid_import_leaves_nothing_and_the_job_runs_again_whole(
    stack, demo_tree, make_user, tmp_path, monkeypatch
):
    officer = make_user("nam", demo_tree["99101"], Role.AREA_MANAGER, is_staff=True)
    path = big_file(tmp_path, demo_tree["99101"])
    run = job_queue.import_run_start(actor=officer, path=path, mapping={}, dry_run=False, language="en")

    def importing():
        run.refresh_from_db()
        return run.status == ImportRun.Status.RUNNING and run.rows_done > 0

    wait_for(importing, 240, "the worker to be part-way through the file")
    worker = stack.pid("worker")
    os.kill(worker, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{worker}"), 10, "the worker to die")
    # The killed import's transaction is undone by PostgreSQL: nothing of the file.
    wait_for(lambda: Site.objects.count() == 0, 30, "the killed import's rows to vanish")
    assert run.rows_done < ROWS

    wait_for(lambda: stack.pid("worker") not in (None, worker), 30, "the supervisor to start a new worker")
    wait_for(lambda: ImportRun.objects.get(pk=run.pk).status == ImportRun.Status.DONE, 300, "the import to run again")
    run.refresh_from_db()
    assert run.attempts == 2 and run.created == ROWS
    # Rows packed within metres of each other: the near-site check searches the site index
    # once per grid cell, not per row (it never finished), and lists the first rows of the
    # file found near an earlier one.
    near = [notice for notice in run.notices if "of this file, of the same kind: a duplicate?" in notice]
    assert len(near) == import_load.NEAR_LISTED and near[0].startswith("row 3: ")
    assert Site.objects.count() == ROWS and Site.objects.values("name").distinct().count() == ROWS
    assert not ImportFilePart.objects.filter(run=run).exists()  # the file's copy is dropped
    assert '"logger": "procrastinate.worker"' in stack.log("worker")
    # The killed import's staging table stays behind, as after any crash, until an import
    # a day later drops it.
    (left,) = [name for name in staging_tables() if not name.endswith("_idx")]
    # Two days after the table was made, by the worker's clock (this test's is frozen).
    made = int(left.removeprefix(import_load.STAGED_PREFIX).split("_")[0])
    monkeypatch.setattr(import_load.time, "time", lambda: made + 2 * 24 * 3600)
    import_load.drop_abandoned()
    assert left not in staging_tables()

"""The stack recovers by itself (scripts/prod.py's supervisor): a job worker and a gunicorn
master killed outright are started again, the site answers through nginx and the jobs
queued meanwhile run, within a bounded wait, with no operator. `make prod` again (an
upgrade) keeps gunicorn's master and starts a new worker."""

import os
import signal
from pathlib import Path

import pytest

from accounts.models import Role
from hazards import services
from hazards.models import ImportRun
from tests.conftest import inside
from tests.hazards.test_import_jobs import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_killed_worker_and_gunicorn_master_are_started_again(stack, demo_tree, make_user, tmp_path):
    officer = make_user("nam", demo_tree["99101"], Role.AREA_MANAGER, is_staff=True)
    point = inside(demo_tree["99101"])
    upload = tmp_path / "upload" / "ao.csv"
    upload.parent.mkdir()
    upload.write_text(f"name,kind,lat,lon\nAo mới,ao,{point.y},{point.x}\n", encoding="utf-8")
    assert stack.get("/healthz")[0] == 200
    worker, master = stack.pid("worker"), stack.pid("gunicorn")
    assert worker and master

    os.kill(worker, signal.SIGKILL)
    os.kill(master, signal.SIGKILL)
    # Queued while nothing runs it.
    run = services.import_run_start(actor=officer, path=upload, mapping={}, dry_run=False, language="en")

    wait_for(lambda: stack.pid("worker") not in (None, worker), 30, "a new worker")
    wait_for(lambda: stack.pid("gunicorn") not in (None, master), 30, "a new gunicorn")
    wait_for(lambda: stack.get("/healthz")[0] == 200, 60, "the site to answer through nginx again")
    wait_for(lambda: ImportRun.objects.get(pk=run.pk).finished, 120, "the queued import to run")
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE and run.created == 1
    wait_for(lambda: stack.get("/readyz")[0] == 200, 60, "/readyz (the new worker's heartbeat)")
    # Started again with the stack's saved settings, not the first start's environment.
    assert len(app_workers(stack.pid("gunicorn"))) == int(stack.env["GUNICORN_WORKERS"])
    supervisor = stack.log("supervisor")
    assert "worker died" in supervisor and "gunicorn died" in supervisor

    # An upgrade on the running stack: the worker is paused and started anew, gunicorn
    # replaces its workers under the same master, and the site stays up.
    worker, master = stack.pid("worker"), stack.pid("gunicorn")
    stack.run("start")
    assert stack.pid("gunicorn") == master
    wait_for(lambda: stack.pid("worker") not in (None, worker), 30, "the new release's worker")
    assert stack.get("/healthz")[0] == 200
    wait_for(lambda: len(app_workers(master)) == int(stack.env["GUNICORN_WORKERS"]), 60, "the old app workers to go")


def app_workers(master: int) -> list[str]:
    return Path(f"/proc/{master}/task/{master}/children").read_text().split()

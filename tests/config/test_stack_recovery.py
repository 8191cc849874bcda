"""The stack recovers by itself (scripts/prod.py's supervisor): a job worker and a gunicorn
master killed outright are started again, the site answers through nginx and the jobs
queued meanwhile run, within a bounded wait, with no operator. `make prod` again (an
upgrade) keeps gunicorn's master and starts a new worker, and says so when the new code
cannot start instead of reporting the old code's answer."""

import os
import re
import signal
from pathlib import Path

import pytest

from accounts.models import Role
from hazards import job_queue
from hazards.models import ImportRun
from tests.conftest import inside
from tests.hazards.test_import_jobs import wait_for
from tests.stack import release, running_stack

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
    run = job_queue.import_run_start(actor=officer, path=upload, mapping={}, dry_run=False, language="en")

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


def test_an_upgrade_that_cannot_start_fails_with_its_error_and_keeps_the_old_pages_files(certificate, tmp_path):
    """A release whose app cannot start: the old app workers answer /healthz until the new
    ones replace them, so `make prod` must not take their answer for the new code's, nor
    wait out a fixed time once gunicorn has died: it stops at once with gunicorn's own
    error. Its new style sheet is collected beside the old one, which the pages the old
    code served (still open in browsers) name."""
    cert, key, _spki = certificate
    root = release(tmp_path, lambda _root: None)
    with running_stack(tmp_path / "stack", cert, key, root=root) as stack:
        old_style = re.search(
            r"/static/survey/survey\.[0-9a-f]{12}\.css", stack.get("/accounts/login/")[2].decode()
        ).group()
        with (root / "static" / "survey" / "survey.css").open("a") as css:
            css.write("\n.release-2 { color: black; }\n")
        wsgi = root / "config" / "wsgi.py"
        wsgi.write_text(wsgi.read_text() + '\nraise ImportError("release 7f3a lacks a module")\n')

        upgraded = stack.run("start", check=False)

        assert upgraded.returncode != 0 and "running:" not in upgraded.stdout
        assert "gunicorn died" in upgraded.stderr, upgraded.stderr
        assert "release 7f3a lacks a module" in upgraded.stderr
        assert stack.get(old_style)[0] == 200
        assert len(list((stack.dir / "static" / "survey").glob("survey.*.css"))) == 2

"""Exports as jobs on the production stack (`make prod`): a script asks through nginx with
a device token, the worker is killed part-way, the supervisor starts a new one, the job
runs again whole and the file comes through nginx (X-Accel-Redirect after the owner
check). Every line the job wrote in the worker's log names the run and the request."""

import json
import os
import signal
import subprocess

import pytest
from django.core.management import call_command

from accounts.models import Role
from accounts.tokens import token_issue
from hazards.models import JobRun
from tests.hazards.test_import_jobs import ROWS, big_file, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_killed_mid_export_runs_it_again_and_the_file_comes_through_nginx(
    stack, demo_tree, make_user, superuser, tmp_path
):
    officer = make_user("nam", demo_tree["99101"], Role.AREA_MANAGER, is_staff=True)
    call_command("import_sites", str(big_file(tmp_path, demo_tree["99101"])), "--as-user", "nam", verbosity=0)
    _token, key = token_issue(actor=superuser, user=officer, name="script")
    asking = {"Authorization": f"Token {key}", "X-Request-ID": "req-kill-export-01"}
    status, headers, body = stack.get("/api/v1/exports/sites.gpkg", asking)
    assert status == 202, body[:300]
    run_id = json.loads(body)["id"]
    assert headers["Location"] == f"/api/v1/jobs/{run_id}/"

    def exporting():
        run = JobRun.objects.get(pk=run_id)
        return run.status == JobRun.Status.RUNNING and run.total == ROWS

    wait_for(exporting, 240, "the worker to be part-way through the export")
    worker = stack.pid("worker")
    os.kill(worker, signal.SIGKILL)
    wait_for(lambda: stack.pid("worker") not in (None, worker), 30, "the supervisor to start a new worker")
    wait_for(lambda: JobRun.objects.get(pk=run_id).finished, 300, "the export to run again")
    run = JobRun.objects.get(pk=run_id)
    assert run.status == JobRun.Status.DONE and run.attempts == 2

    status, _headers, body = stack.get(f"/api/v1/jobs/{run_id}/", {"Authorization": f"Token {key}"})
    state = json.loads(body)
    assert status == 200 and state["status"] == "done" and state["file"].startswith(stack.url)
    status, headers, body = stack.get(state["file"].removeprefix(stack.url), {"Authorization": f"Token {key}"})
    assert status == 200 and len(body) == run.result_bytes == state["file_bytes"]
    assert headers["Content-Disposition"].startswith("attachment") and "X-Accel-Redirect" not in headers
    exported = tmp_path / "export.gpkg"
    exported.write_bytes(body)
    info = subprocess.run(["ogrinfo", "-so", "-al", exported], check=True, capture_output=True, text=True).stdout
    assert f"Feature Count: {ROWS}" in info
    # Only its owner gets it; nobody reaches the internal location directly.
    assert stack.get(state["file"].removeprefix(stack.url))[0] in (401, 403)
    assert stack.get(f"/protected-media/{run.result}", {"Authorization": f"Token {key}"})[0] == 404

    lines = [json.loads(line) for line in stack.log("worker").splitlines() if run_id in line]
    mine = [line for line in lines if line.get("job_id") == run_id]
    messages = [line["message"] for line in mine]
    assert messages.count(f"job run {run_id} (hazards.export_sites) started") == 2
    assert f"job run {run_id} (hazards.export_sites): done" in messages
    assert any("lost its worker: queued again" in m for m in messages)
    assert all(line["request_id"] == "req-kill-export-01" for line in mine)

"""The per-person limits of waiting work and kept files hold for requests sent at once
(pentest P2: 30 export requests at once queued 7 jobs, the limit being 3; 8 uploads kept
1.3 GB against 1 GB): each on its own thread and database connection."""

import contextlib
import os
import signal

import pytest
import requests
from django.db import connection

from accounts.models import Role
from accounts.tokens import token_issue
from hazards.models import JobRun
from tests.accounts.test_lockout_concurrency import at_once

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def worker_paused(stack):
    """The session's production stack runs a job worker on this database: it took one of
    these exports and finished it while the others were asked, which made room for a
    fourth (the fresh-machine check). It is stopped while the requests are answered, and
    the exports queued are taken off the queue before it goes on."""
    pid = stack.pid("worker")
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name = 'hazards.run_job' AND status = 'todo'")
        os.kill(pid, signal.SIGCONT)


def test_exports_asked_at_once_queue_no_more_than_the_limit(
    live_server, stack, demo_tree, make_user, superuser, settings
):
    settings.JOBS_MAX_WAITING_PER_PERSON = 3
    viewer = make_user("xem", demo_tree["99"], Role.VIEWER)
    _token, key = token_issue(actor=superuser, user=viewer, name="script")

    def export(i):
        url = f"{live_server.url}/api/v1/exports/sites.gpkg?area=991&n={i}"
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        return lambda: requests.get(url, headers=headers, timeout=60).status_code

    with worker_paused(stack):
        answers = at_once(export, 12)
    assert sorted(answers) == [202] * 3 + [400] * 9
    assert JobRun.objects.filter(created_by=viewer).count() == 3


def test_uploads_sent_at_once_keep_no_more_than_the_quota(demo_tree, make_user, settings, tmp_path):
    """8 zips sent at once kept 1.3 GB for one field worker against a quota of 1 GB (P2):
    each request read the same stored total before any had written."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from hazards import storage_quota, uploads

    settings.IMPORT_UPLOAD_ROOT = tmp_path
    settings.IMPORT_QUOTA_BYTES = 3 * 1_000_000
    settings.IMPORT_MIN_FREE_BYTES = 0
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)

    def store(_i):
        upload = SimpleUploadedFile("ds.csv", b"ten,lat,lon\n" + b"x" * 999_000)

        def send():
            try:
                uploads._store(upload, worker)
                return "kept"
            except uploads.ImportFileError:
                return "refused"
            finally:
                connection.close()  # each thread's own connection

        return send

    answers = at_once(store, 8)
    assert sorted(answers) == ["kept"] * 3 + ["refused"] * 5
    assert storage_quota.stored_bytes(worker) <= settings.IMPORT_QUOTA_BYTES

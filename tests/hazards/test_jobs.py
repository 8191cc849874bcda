"""Long work asked for in a request runs as a job (hazards/tasks.py): national and GIS
exports, the national report PDF. A browser is sent to the job's page, which follows it
and then offers the file; a script follows /api/v1/jobs/<id>/. Only the person who asked
sees the run; files expire; a job's log lines name the run and the request that asked."""

import datetime as dt
import json
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from areas.models import Area
from hazards import exports, tasks
from hazards.models import JobRun
from tests.conftest import DEMO_FILES, communes_covering, run_queued_jobs

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml"}


@pytest.fixture(autouse=True)
def results_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def national(client, superuser, demo_tree, make_site, inspect):
    """The whole registry's administrator, signed in, with sites in two districts."""
    inspect(make_site(demo_tree["99101"], name="Ao rào xong"), "2026-03-01T09:00", "in_place", "complete")
    make_site(demo_tree["99201"], name="Giếng huyện khác", kind="well")
    client.force_login(superuser)
    return client


def test_a_national_export_is_a_job_whose_page_follows_it_to_the_file(national, caplog):
    caplog.set_level(logging.INFO, logger="hazards.jobs")
    asked = national.get(reverse("site-export", args=["geojson"]), HTTP_X_REQUEST_ID="req-export-0001", **BROWSER)
    assert asked.status_code == 303
    run = JobRun.objects.get()
    assert asked["Location"] == reverse("job-page", args=[run.pk]) and run.request_id == "req-export-0001"
    waiting = national.get(asked["Location"]).content.decode()
    assert 'http-equiv="refresh"' in waiting and "Waiting for a worker" in waiting

    assert run_queued_jobs() == 1
    page = national.get(asked["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in page and "Download" in page
    run.refresh_from_db()
    assert run.status == JobRun.Status.DONE and run.done == run.total == 2 and run.attempts == 1
    download = national.get(reverse("job-file", args=[run.pk]))
    assert download["Content-Disposition"].endswith(f"{timezone.localdate():%Y%m%d}.geojson")
    assert download["Cache-Control"].startswith("private")
    features = json.loads(b"".join(download.streaming_content))["features"]
    assert sorted(f["properties"]["name"] for f in features) == ["Ao rào xong", "Giếng huyện khác"]

    # Each line the job wrote names its run and the request that asked for it, in the
    # log's JSON form.
    formatter = logging.getLogger().handlers[0].formatter
    lines = [json.loads(formatter.format(r)) for r in caplog.records if r.name == "hazards.jobs"]
    assert [line["message"] for line in lines] == [
        f"job run {run.pk} (hazards.export_sites) started",
        f"job run {run.pk} (hazards.export_sites): done",
    ]
    assert all(line["job_id"] == str(run.pk) and line["request_id"] == "req-export-0001" for line in lines)
    assert lines[-1]["outcome"] == "done" and lines[-1]["result_bytes"] == run.result_bytes


def test_a_script_follows_the_job_and_only_its_owner_sees_it(national, make_user, demo_tree):
    asked = national.get(reverse("site-export", args=["gpkg"]), {"area": "991"})
    assert asked.status_code == 202
    state = asked.json()
    assert state["status"] == "queued" and state["file"] is None and asked["Location"].endswith(f"/{state['id']}/")
    run_queued_jobs()
    state = national.get(asked["Location"]).json()
    assert state["status"] == "done" and state["file"].endswith("/file") and state["file_bytes"] > 0

    other = make_user("lan", demo_tree["99"], Role.AREA_MANAGER)
    client = Client()
    client.force_login(other)
    assert client.get(asked["Location"]).status_code == 404
    assert client.get(reverse("job-file", args=[state["id"]])).status_code == 404
    assert client.get(reverse("job-page", args=[state["id"]])).status_code == 404


def test_asking_again_while_it_waits_gives_the_same_run(national):
    first = national.get(reverse("site-export", args=["kml"]), {"area": "991"}).json()
    again = national.get(reverse("site-export", args=["kml"]), {"area": "991"}).json()
    other = national.get(reverse("site-export", args=["kml"]), {"area": "992"}).json()
    assert first["id"] == again["id"] != other["id"]
    assert run_queued_jobs() == 2


def test_one_person_has_only_so_many_jobs_waiting_at_once(national, settings):
    """Each different address was new work (an unused parameter made it so): a viewer queued
    100 exports in 2.7 s, each leaving a file for a day (pentest N3)."""
    settings.JOBS_MAX_WAITING_PER_PERSON = 3
    asked = [national.get(reverse("site-export", args=["gpkg"]), {"area": "991", "x": n}) for n in range(4)]
    assert [a.status_code for a in asked] == [202, 202, 202, 400]
    assert "You already have 3 jobs waiting or running" in asked[3].json()["detail"]
    assert JobRun.objects.count() == 3
    assert run_queued_jobs() == 3
    assert national.get(reverse("site-export", args=["gpkg"]), {"area": "991", "x": 9}).status_code == 202


def test_job_files_count_against_what_a_person_may_keep(national, settings):
    national.get(reverse("site-export", args=["gpkg"]), {"area": "991"})
    assert run_queued_jobs() == 1
    settings.IMPORT_QUOTA_BYTES = JobRun.objects.get().result_bytes
    refused = national.get(reverse("site-export", args=["gpkg"]), {"area": "992"})
    assert refused.status_code == 400 and "job files" in refused.json()["detail"]
    assert JobRun.objects.count() == 1


def test_bad_filters_are_refused_before_anything_is_queued(national):
    response = national.get(reverse("site-export", args=["gpkg"]), {"kind": "volcano"})
    assert response.status_code == 400 and not JobRun.objects.exists()


def test_the_file_expires(national, settings):
    national.get(reverse("site-export", args=["csv"]), **BROWSER)
    run_queued_jobs()
    run = JobRun.objects.get()
    folder = tasks.results_folder(run)
    assert folder.is_dir()
    kept = dt.timedelta(hours=settings.JOBS_RESULT_HOURS)
    assert abs(run.expires_at - run.finished_at - kept) < dt.timedelta(seconds=5)
    # The run as it is a day later (its times moved back instead of the clock forward:
    # the database's own now() takes part).
    day = kept + dt.timedelta(minutes=1)
    JobRun.objects.update(
        created_at=run.created_at - day, finished_at=run.finished_at - day, expires_at=run.expires_at - day
    )
    expired = national.get(reverse("job-file", args=[run.pk]))
    # The API's one error shape (common/errors.py): a script reads `code`, a person `detail`.
    assert (expired.status_code, expired.json()["code"]) == (410, "expired")
    assert "This file has expired" in expired.json()["detail"]
    assert "This file has expired" in national.get(reverse("job-page", args=[run.pk])).content.decode()
    tasks.expire_job_results(timestamp=0)
    run.refresh_from_db()
    assert run.result == "" and not folder.exists()
    JobRun.objects.update(created_at=run.created_at - dt.timedelta(days=settings.JOBS_KEPT_DAYS))
    tasks.expire_job_results(timestamp=0)
    assert not JobRun.objects.exists()


def test_a_job_that_fails_says_so_and_leaves_no_file(national, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(exports, "write_export", broken)
    national.get(reverse("site-export", args=["csv"]), **BROWSER)
    with pytest.raises(RuntimeError):  # the worker logs it with its traceback
        run_queued_jobs()
    run = JobRun.objects.get()
    assert run.status == JobRun.Status.FAILED and run.result == ""
    assert not tasks.results_folder(run).exists()
    page = national.get(reverse("job-page", args=[run.pk])).content.decode()
    assert "The work stopped on an unexpected error" in page
    assert national.get(reverse("job-file", args=[run.pk])).status_code == 404


def test_the_national_report_documents_are_jobs_and_smaller_ones_are_not(national):
    period = {"kind": "year", "year": "2026"}
    for fmt, start in [("pdf", b"%PDF"), ("docx", b"PK")]:
        asked = national.get(reverse("report-file", args=[fmt]), period, **BROWSER)
        assert asked.status_code == 303
        run_queued_jobs()
        run = JobRun.objects.get(params__fmt=fmt)
        assert run.kind == "reports.report_document" and run.file_name == f"report-20260101-20261231.{fmt}"
        body = b"".join(national.get(reverse("job-file", args=[run.pk])).streaming_content)
        assert body.startswith(start)
    province = national.get(reverse("report-file", args=["pdf"]), {**period, "area": "99"}, **BROWSER)
    assert province.status_code == 200 and province.content.startswith(b"%PDF")


def test_an_administrator_reloads_boundaries_through_the_worker(national, demo_tree, make_site, tmp_path):
    site = make_site(demo_tree["99102"], name="Ao ranh giới")
    communes = communes_covering("99101", site.location)  # a corrected commune file
    upload = SimpleUploadedFile("xa.geojson", json.dumps(communes).encode(), content_type="application/geo+json")
    asked = national.post(reverse("load-boundaries"), {"file": upload})
    assert asked.status_code == 302
    run = JobRun.objects.get()
    assert asked["Location"] == reverse("job-page", args=[run.pk]) and run.kind == "areas.load_boundaries"
    site.refresh_from_db()
    assert site.area.code == "99102"  # nothing happens in the request
    assert "Waiting for a worker" in national.get(asked["Location"]).content.decode()

    run_queued_jobs()
    run.refresh_from_db()
    assert run.status == JobRun.Status.DONE and not run.inputs.exists()
    page = national.get(asked["Location"]).content.decode()
    assert "Loaded 1 file(s): 0 areas created, 10 updated; 1 sites re-assigned." in page
    assert national.get(reverse("job-file", args=[run.pk])).status_code == 404  # nothing to download
    site.refresh_from_db()
    assert site.area.code == "99101"


def test_a_bad_boundary_file_loads_nothing_and_the_page_says_why(national, demo_tree):
    communes = json.loads(DEMO_FILES[2].read_text())
    communes["features"][3]["properties"]["ma_xa"] = ""
    communes["features"][0]["properties"]["ten_xa"] = "Xã đổi tên"
    upload = SimpleUploadedFile("xa.geojson", json.dumps(communes).encode())
    national.post(reverse("load-boundaries"), {"file": upload})
    run_queued_jobs()
    run = JobRun.objects.get()
    assert run.status == JobRun.Status.FAILED and "Nothing was loaded" in run.problem and "empty" in run.problem
    assert "Nothing was loaded" in national.get(reverse("job-page", args=[run.pk])).content.decode()
    assert not Area.objects.filter(name="Xã đổi tên").exists()


def test_only_administrators_load_boundaries_and_field_names_go_together(national, make_user, demo_tree):
    manager = Client()
    manager.force_login(make_user("tinh", demo_tree["99"], Role.AREA_MANAGER, is_staff=True))
    assert manager.get(reverse("load-boundaries")).status_code == 403
    # Nor an area's administrator: a reload re-assigns sites wherever its file reaches.
    manager.force_login(make_user("quantri_tinh", demo_tree["99"], Role.ADMINISTRATOR, is_staff=True))
    assert manager.get(reverse("load-boundaries")).status_code == 403
    upload = SimpleUploadedFile("xa.geojson", DEMO_FILES[2].read_bytes())
    refused = national.post(reverse("load-boundaries"), {"file": upload, "code": "MA"})
    assert refused.status_code == 400 and "go together" in refused.content.decode()
    assert not JobRun.objects.exists()


def test_a_file_is_no_longer_given_once_its_asker_loses_an_area_it_was_made_from(demo_tree, make_user, make_site):
    """Pentest F8: a province manager's export stayed downloadable for a day after they
    became a ward's viewer. A change of roles that takes away any area the file was made
    from ends it at once; one that keeps them all (or adds some) does not."""
    make_site(demo_tree["99101"], name="Ao xã")
    make_site(demo_tree["99201"], name="Giếng huyện khác", kind="well")
    manager = make_user("tinh", demo_tree["99"], Role.AREA_MANAGER, is_staff=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)
    state = client.get(reverse("site-export", args=["gpkg"]), {"area": "991"}).json()  # a job in any area
    run_queued_jobs()
    membership = manager.memberships.get()
    membership.area = demo_tree["99101"]
    membership.role = Role.VIEWER
    membership.save()

    refused = client.get(reverse("job-file", args=[state["id"]]))
    assert (refused.status_code, refused.json()["code"]) == (403, "scope_changed")
    assert "Your areas or roles changed" in refused.json()["detail"]
    assert client.get(reverse("api-job", args=[state["id"]])).json()["file"] is None
    page = client.get(reverse("job-page", args=[state["id"]])).content.decode()
    assert "Your areas or roles changed" in page and "Download" not in page

    # The province back, and a district more: every area the file came from is readable again.
    membership.area, membership.role = demo_tree["99"], Role.AREA_MANAGER
    membership.save()
    manager.memberships.create(area=demo_tree["992"], role=Role.VIEWER)
    assert client.get(reverse("job-file", args=[state["id"]])).status_code == 200


def test_a_superuser_s_national_file_ends_with_the_superuser_flag(national, superuser):
    national.get(reverse("site-export", args=["csv"]), **BROWSER)
    run_queued_jobs()
    run = JobRun.objects.get()
    assert run.made_within == ["/"]
    superuser.is_superuser = False
    superuser.save()
    superuser.memberships.create(area=Area.objects.get(code="991"), role=Role.VIEWER)
    assert national.get(reverse("job-file", args=[run.pk])).status_code == 403


def test_an_export_whose_area_left_the_askers_areas_before_it_ran_says_why(client, demo_tree, make_user, make_site):
    """The job reads the asker's areas as they are when it runs: an area taken from them
    meanwhile stops it with the refusal the API would give now, not with an empty file or
    an "unexpected error"."""
    from accounts.models import Membership

    make_site(demo_tree["99101"], name="Ao làng")
    manager = make_user("quanly", demo_tree["991"], Role.AREA_MANAGER)
    client.force_login(manager)
    asked = client.get(reverse("site-export", args=["gpkg"]), {"area": "99101"})
    assert asked.status_code == 202
    Membership.objects.filter(user=manager).update(area=demo_tree["992"])
    run_queued_jobs()
    run = JobRun.objects.get()
    assert run.status == JobRun.Status.FAILED and run.result == ""
    assert "No area of yours has this code" in run.problem

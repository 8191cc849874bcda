"""Shared fixtures: the demo boundary tree, users with memberships, and sites made
through the services (never inserted behind their back)."""

import datetime as dt
import json
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client
from django.utils import timezone, translation
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from accounts.models import Membership, Role, User
from areas.loader import load_boundaries
from areas.models import Area
from hazards import services
from tests.stack import make_certificate, running_stack

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
BOUNDARIES = Path(settings.BASE_DIR).parent / "shared" / "data" / "vn-boundaries"
DEMO_FILES = [FIXTURES / f"demo_{n}.geojson" for n in ("province", "districts", "communes")]


@pytest.fixture
def demo_tree(db):
    """Tỉnh Sông Xanh (99) > 3 districts (991-993) > 10 communes (99101...)."""
    load_boundaries(DEMO_FILES)
    return {a.code: a for a in Area.objects.all()}


def tracked(*paths: str) -> list[str]:
    """The repository's files under `paths` (all without), committed or not, as git lists
    them: what the tests that read the code read, never a stray file of the machine."""
    return subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *paths],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()


def inside(area: Area) -> Point:
    """A point well inside an area (not on any border)."""
    point = area.geom.point_on_surface
    point.srid = 4326
    return point


def communes_covering(code: str, point: Point) -> dict:
    """The demo commune file with commune `code` also covering a small square around
    `point`: a corrected boundary set to reload."""
    communes = json.loads(DEMO_FILES[2].read_text())
    lon, lat = point.coords
    d = 0.001
    square = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]
    for feature in communes["features"]:
        if feature["properties"]["ma_xa"] == code:
            feature["geometry"] = {
                "type": "MultiPolygon",
                "coordinates": [feature["geometry"]["coordinates"], [square]],
            }
    return communes


@pytest.fixture
def make_user(db):
    def make(username: str, area: Area | None = None, role: str = Role.FIELD_WORKER, **extra) -> User:
        user = User.objects.create_user(username=username, password="pw-Secret-123", **extra)
        if area is not None:
            Membership.objects.create(user=user, area=area, role=role)
        return user

    return make


@pytest.fixture
def superuser(make_user):
    return make_user("root", is_superuser=True, is_staff=True)


@pytest.fixture
def make_site(superuser):
    def make(area: Area, actor=None, **fields):
        fields.setdefault("kind", "pond")
        fields.setdefault("name", "Ao thử")
        fields.setdefault("location", inside(area))
        return services.site_register(actor=actor or superuser, **fields)

    return make


@pytest.fixture
def inspect(superuser):
    def record(site, when: dt.datetime | str, signage="in_place", barrier="complete", actor=None, **fields):
        if isinstance(when, str):
            when = timezone.make_aware(dt.datetime.fromisoformat(when))
        return services.inspection_record(
            actor=actor or superuser, site=site, inspected_at=when, signage=signage, barrier=barrier, **fields
        )

    return record


# "Now" for every test but the browser's, whose pages run on the browser's own clock:
# a fixed day, so the dates a test writes (inspections in 2026, a half-year) mean the
# same whenever the suite runs. The clock ticks on from there.
NOW = dt.datetime(2026, 11, 20, 9, 30)


# `@pytest.mark.frozen("2026-03-15T10:00")`: the clock stands still at that moment,
# Vietnam time, for the test (the database's own clock runs on).
@pytest.fixture(autouse=True)
def frozen_now(request):
    if request.node.get_closest_marker("browser"):
        yield None
        return
    marker = request.node.get_closest_marker("frozen")
    if marker is not None:
        moment, tick = dt.datetime.fromisoformat(marker.args[0]).replace(tzinfo=ZoneInfo(settings.TIME_ZONE)), False
    else:
        moment, tick = timezone.make_aware(NOW), True
    with time_machine.travel(moment, tick=tick) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def english_messages():
    """Tests read messages in English; the Vietnamese default is tested on its own."""
    with translation.override("en"):
        yield


@pytest.fixture
def client():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """The TLS certificate of the test stacks, and its key's hash for Chromium to trust."""
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def stack(django_db_setup, django_db_blocker, certificate, tmp_path_factory):
    """The production stack (`make prod`) on the test database for the whole session.
    Jobs' heartbeats are quick, so a killed worker's job is retried within seconds."""
    cert, key, _spki = certificate
    with running_stack(
        tmp_path_factory.mktemp("stack"), cert, key, JOBS_HEARTBEAT_SECONDS="1", JOBS_STALLED_SECONDS="4"
    ) as running:
        yield running


def run_queued_jobs() -> int:
    """What the worker does: each queued job's task, called with its arguments."""
    jobs = list(ProcrastinateJob.objects.filter(status="todo").order_by("id"))
    for job in jobs:
        app.tasks[job.task_name](**job.args)
        with connection.cursor() as cursor:  # done: out of the queue
            cursor.execute("DELETE FROM procrastinate_jobs WHERE id = %s", [job.id])
    return len(jobs)


def job_file(client, response) -> tuple[dict, bytes]:
    """Follows a job a script was answered with (202): the worker runs it, then its state
    and its file are fetched as a script would."""
    assert response.status_code == 202, response.content[:300]
    assert run_queued_jobs() == 1
    state = client.get(response["Location"]).json()
    assert state["status"] == "done", state
    download = client.get(state["file"])
    assert download.status_code == 200
    return state, b"".join(download.streaming_content) if download.streaming else download.content

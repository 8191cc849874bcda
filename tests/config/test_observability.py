"""What operators rely on: one JSON line per request with its id, user, route, status,
timings and queries; /healthz and /readyz answering without a session."""

import io
import json
import logging

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from config import observability
from tests.hazards.test_import_jobs import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_lines(caplog):
    caplog.set_level(logging.INFO, logger="hazards.request")

    def lines():
        return [r for r in caplog.records if r.name == "hazards.request"]

    return lines


def test_one_line_per_request_with_id_user_route_and_database_work(client, superuser, request_lines, demo_tree):
    client.force_login(superuser)
    response = client.get("/api/v1/areas/?level=commune", HTTP_X_REQUEST_ID="edge-1234abcd")
    assert response.status_code == 200
    (line,) = request_lines()
    assert line.request_id == "edge-1234abcd" and response["X-Request-ID"] == "edge-1234abcd"
    assert line.user_id == superuser.pk
    assert line.route == "api/v1/areas/$" and line.status == 200 and line.method == "GET"
    assert line.db_queries >= 1 and line.db_ms > 0 and line.duration_ms >= line.db_ms


def test_a_request_id_that_is_not_plainly_an_id_is_replaced(client, request_lines):
    response = client.get("/healthz", HTTP_X_REQUEST_ID='bad"id\nforged line')
    (line,) = request_lines()
    assert response["X-Request-ID"] == line.request_id and len(line.request_id) == 32
    assert line.user_id is None and line.db_queries == 0


def test_log_lines_are_json_with_the_request_id(client, capsys, settings):
    formatter = logging.getLogger().handlers[0].formatter
    record = logging.LogRecord("hazards", logging.ERROR, __file__, 1, "boom %s", ("x",), None)
    record.request_id = "abc12345"
    line = json.loads(formatter.format(record))
    assert line["message"] == "boom x" and line["level"] == "ERROR" and line["request_id"] == "abc12345"
    assert line["time"].endswith("+00:00")


def test_errors_are_logged_with_their_traceback(request_lines, caplog, settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    client = Client(raise_request_exception=False)
    observability.READINESS_CHECKS["boom"] = lambda: 1 / 0
    try:
        assert client.get("/readyz").status_code == 500
    finally:
        del observability.READINESS_CHECKS["boom"]
    errors = [r for r in caplog.records if r.name == "django.request" and r.levelno == logging.ERROR]
    assert errors and errors[0].exc_info[0] is ZeroDivisionError
    assert request_lines()[-1].status == 500


def heartbeat(seconds_ago: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - make_interval(secs => %s))",
            [seconds_ago],
        )


def test_health_and_readiness(client, settings):
    assert client.get("/healthz").json() == {"status": "ok"}
    heartbeat(seconds_ago=5)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "migrations": True, "worker": True, "media_space": True}
    assert "sessionid" not in ready.cookies and "Cookie" not in ready.get("Vary", "")


def test_readiness_fails_without_a_recent_worker_heartbeat(client, settings):
    heartbeat(seconds_ago=settings.JOBS_STALLED_SECONDS + 5)  # a worker that died
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["worker"] is False


def test_readiness_fails_when_the_photo_disk_is_nearly_full(client, settings):
    heartbeat(seconds_ago=0)
    settings.READY_MIN_FREE_BYTES = 10**18
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "failing",
        "checks": {"database": True, "migrations": True, "worker": True, "media_space": False},
        "replicas_set_aside": [],
    }


def plain(line: str) -> bool:
    try:
        return not isinstance(json.loads(line), dict)
    except ValueError:
        return True


@pytest.mark.django_db(transaction=True)
def test_every_line_the_production_processes_log_is_json(stack):
    wait_for(lambda: stack.get("/readyz")[0] == 200, 60, "the worker's first heartbeat")
    for name in ("supervisor", "gunicorn", "worker", "nginx-access"):
        lines = stack.log(name).splitlines()
        assert lines, name
        assert [line for line in lines if plain(line)] == [], name


def test_a_tile_asked_with_the_maps_token_is_logged_with_its_route(client, superuser, request_lines, demo_tree):
    """The map's tiles skip most middleware (mapping/middleware.py); their lines still
    group by view like every other request's."""
    client.force_login(superuser)
    token = client.get(reverse("map-tile-token")).json()["token"]
    response = Client().get(reverse("site-tile", args=(14, 13099, 7463)), HTTP_AUTHORIZATION=f"Tile {token}")
    assert response.status_code == 200
    line = request_lines()[-1]
    assert (line.view, line.route, line.status) == ("site-tile", "tiles/sites/<int:z>/<int:x>/<int:y>.pbf", 200)
    assert line.user_id == superuser.pk


def test_a_line_is_written_once_the_answer_has_left(request_lines):
    """As a WSGI server serves: the body is sent, then the response closed. The line comes
    at the close, so that no client waits for it, and a streamed answer's time covers its
    last byte, not only the view's return (below)."""
    environ = RequestFactory().get("/healthz").environ
    environ["wsgi.input"] = io.BytesIO()
    response = WSGIHandler()(environ, lambda status, headers, exc_info=None: None)
    assert b"".join(response) == b'{"status": "ok"}' and request_lines() == []
    response.close()
    (line,) = request_lines()
    assert (line.path, line.status) == ("/healthz", 200)


def test_a_streamed_answers_line_times_it_to_its_last_byte(client, superuser, request_lines, demo_tree, monkeypatch):
    client.force_login(superuser)
    now = [0.0]
    monkeypatch.setattr(observability.time, "perf_counter", lambda: now[0])
    response = client.get(reverse("map-priority-file"))
    assert response.streaming and request_lines() == []
    now[0] = 2.5  # the file takes its time to reach the browser
    b"".join(response.streaming_content)
    (line,) = request_lines()
    assert line.duration_ms == 2500.0


def request_line(log: str, request_id: str) -> dict | None:
    for text in log.splitlines():
        line = json.loads(text)
        if line.get("logger") == "hazards.request" and line.get("request_id") == request_id:
            return line
    return None


@pytest.mark.django_db(transaction=True)
def test_gunicorn_behind_nginx_logs_each_request_with_the_id_it_answered(stack):
    """The line is written when gunicorn closes the response (after sending it): it must
    come all the same, with the id nginx and the answer carry."""
    status, headers, _body = stack.get("/healthz")
    assert status == 200
    request_id = headers["X-Request-ID"]
    wait_for(lambda: request_line(stack.log("gunicorn"), request_id) is not None, 30, "the request's log line")
    line = request_line(stack.log("gunicorn"), request_id)
    assert (line["path"], line["status"], line["view"]) == ("/healthz", 200, "healthz")

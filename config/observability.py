"""What the registry tells its operators: one JSON line per request (and per job, see
config/jobs.py), each carrying the request id that nginx sent or that was made here, and
the health endpoints the proxy and monitoring ask."""

import logging
import re
import shutil
import time
import uuid
from functools import partial

from django.conf import settings
from django.db import DatabaseError, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from common.log_context import current_request_id
from config.jobs import worker_alive
from config.replicas import set_aside

request_log = logging.getLogger("hazards.request")
# An id from outside is kept only when it is plainly an id: it goes into every log line.
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


class QueryTimer:
    """Counts the queries of one request and adds up their time (a Django execute wrapper)."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.seconds += time.perf_counter() - start


class RequestLogMiddleware:
    """First in the chain: times the whole request, names it, and logs it when the server
    closes the response, as a WSGI server does once the body has been sent: no client
    waits for its line (a tenth of a map tile's time, bench/NOTES.md), and a streamed
    answer is timed to its last byte."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = given if SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = current_request_id.set(request_id)
        timer = QueryTimer()
        start = time.perf_counter()
        try:
            with connection.execute_wrapper(timer):
                response = self.get_response(request)
            response["X-Request-ID"] = request_id
            # Django's own hook for what a response's close() must do (it closes files so).
            response._resource_closers.append(partial(self._log, request, response.status_code, start, timer))
            return response
        finally:
            current_request_id.reset(token)

    @staticmethod
    def _user_id(request) -> int | None:
        """The signed-in person, if their session can still be read: a line in the log
        never turns an answer (a 503 while the database restarts) into a crash."""
        user = getattr(request, "user", None)
        try:
            return user.pk if user is not None and user.is_authenticated else None
        except DatabaseError:
            return None

    @classmethod
    def _log(cls, request, status: int, start: float, timer: QueryTimer) -> None:
        match = getattr(request, "resolver_match", None)
        request_log.info(
            "%s %s %s",
            request.method,
            request.path,
            status,
            extra={
                "method": request.method,
                "path": request.path,
                # The URL pattern, so that one view's requests group together.
                "route": match.route if match else None,
                "view": match.view_name if match else None,
                "status": status,
                "duration_ms": round((time.perf_counter() - start) * 1000, 1),
                "db_ms": round(timer.seconds * 1000, 1),
                "db_queries": timer.count,
                "user_id": cls._user_id(request),
                "request_id": request.request_id,  # the request's context has ended by now
            },
        )


def healthz(request):
    """Alive: the process answers. Touches nothing else."""
    return JsonResponse({"status": "ok"})


_migrations_applied = False


def _migrations_check() -> bool:
    """Every migration on disk is applied. Once true it stays true for this process (new
    code comes with a restart), so the migration graph is read only until then."""
    global _migrations_applied
    if not _migrations_applied:
        executor = MigrationExecutor(connections["default"])
        _migrations_applied = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return _migrations_applied


def _database_check() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return True


def _media_check() -> bool:
    return shutil.disk_usage(settings.MEDIA_ROOT).free >= settings.READY_MIN_FREE_BYTES


READINESS_CHECKS = {
    "database": _database_check,
    "migrations": _migrations_check,
    "worker": worker_alive,
    "media_space": _media_check,
}


@never_cache
def readyz(request):
    """Ready for traffic: database reachable, migrations applied, a job worker's heartbeat
    recent, room left for photos. 503 names what is wrong. Replicas this process has set
    aside are named but cost no readiness: their reads go to the primary."""
    checks = {}
    for name, check in READINESS_CHECKS.items():
        try:
            checks[name] = check()
        except (DatabaseError, OSError):
            request_log.warning("readiness check %s failed", name, exc_info=True)
            checks[name] = False
    ok = all(checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "failing", "checks": checks, "replicas_set_aside": set_aside()},
        status=200 if ok else 503,
    )

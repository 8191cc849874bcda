"""Reads that may lag a few seconds go to a read replica; everything else to the primary.

With DATABASE_REPLICA_URL set (one or more URLs), settings add the aliases `replica1`,
`replica2`, … Reads that may be a few seconds old go to a healthy replica: those of the routes named in
settings.LAGGING_READ_VIEWS (tiles, exports, OGC, the map lists), ORM reads through the
router and raw SQL through `connections[router.db_for_read(Model)]`, and those whose code
says so with the router's hint `lag_ok` (past-period reports).
Everything else, reads inside a transaction, writes, and the reads of a client that wrote
in the last REPLICA_PIN_SECONDS (a cookie set by `ReplicaReadsMiddleware`) uses the
primary. A replica that cannot be reached or lags more than REPLICA_MAX_LAG_SECONDS is
left alone for REPLICA_RETRY_SECONDS and its reads go to the primary: the registry keeps
working."""

import contextlib
import contextvars
import itertools
import logging
import re
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.urls import Resolver404, resolve

logger = logging.getLogger(__name__)

_lagging = contextvars.ContextVar("lagging_reads", default=False)
_pinned = contextvars.ContextVar("primary_pinned", default=False)
_chosen = contextvars.ContextVar("replica_chosen", default=None)
_down_until: dict[str, float] = {}
_turns = itertools.count()
PIN_COOKIE = "primary_reads"
# How far behind the primary a replica is, in seconds (0 while it has replayed all it received).
LAG_SQL = (
    "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END"
)


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica")]


def _healthy(alias: str) -> bool:
    if _down_until.get(alias, 0) > time.monotonic():
        return False
    connection = connections[alias]
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute(LAG_SQL)
            lag = cursor.fetchone()[0] or 0
    except DatabaseError as exc:
        logger.warning("replica %s unreachable, reading from the primary: %s", alias, exc)
        connection.close_if_unusable_or_obsolete()
        with contextlib.suppress(DatabaseError):
            connection.close()
        _down_until[alias] = time.monotonic() + settings.REPLICA_RETRY_SECONDS
        return False
    if lag > settings.REPLICA_MAX_LAG_SECONDS:
        logger.warning("replica %s lags %.0f s, reading from the primary", alias, lag)
        _down_until[alias] = time.monotonic() + settings.REPLICA_RETRY_SECONDS
        return False
    return True


def set_aside() -> list[str]:
    """The replicas this process leaves alone now (unreachable or too far behind)."""
    now = time.monotonic()
    return sorted(alias for alias, until in _down_until.items() if until > now)


def _replayed_all(alias: str) -> bool:
    """Whether the replica holds every write the primary has committed so far."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        position = cursor.fetchone()[0]
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [position])
        return cursor.fetchone()[0]


def _replica(fresh: bool) -> str:
    aliases = replica_aliases()
    start = next(_turns)
    in_turn = (aliases[(start + i) % len(aliases)] for i in range(len(aliases)))
    return next((a for a in in_turn if _healthy(a) and (not fresh or _replayed_all(a))), DEFAULT_DB_ALIAS)


def read_alias(lag_ok: bool = False, fresh: bool = False) -> str:
    """The database to read from here and now: a replica on a route of LAGGING_READ_VIEWS
    or when the caller says its read may lag (`lag_ok`), one that has replayed all the
    primary holds if the result is kept (`fresh`); otherwise the primary."""
    if not (_lagging.get() or lag_ok) or _pinned.get() or not replica_aliases():
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    if fresh:
        return _replica(fresh=True)
    chosen = _chosen.get()
    if chosen is None:
        chosen = _replica(fresh=False)
        if _lagging.get():  # one replica per request, its streamed body included
            _chosen.set(chosen)
    return chosen


# Who may do what is read where it is written: a revoked role, a deactivated account, a
# signed-out session or a withdrawn tile grant must not live on in a replica for a few
# seconds. Apps by label, single models by "app.model".
PRIMARY_ONLY = {"accounts", "auth", "sessions", "contenttypes", "admin", "procrastinate", "mapping.tilegrant"}


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        """Apps ask `router.db_for_read(Model, lag_ok=True[, fresh=True])` for raw SQL."""
        if model._meta.app_label in PRIMARY_ONLY or model._meta.label_lower in PRIMARY_ONLY:
            return DEFAULT_DB_ALIAS
        return read_alias(lag_ok=hints.get("lag_ok", False), fresh=hints.get("fresh", False))

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def _may_lag(request) -> bool:
    """Whether the route's reads may be a few seconds old (settings.LAGGING_READ_VIEWS)."""
    if request.method not in ("GET", "HEAD"):
        return False
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return match.view_name in settings.LAGGING_READ_VIEWS


def _in_context(context: contextvars.Context, iterable):
    """A streamed body read in the view's context: its rows come from the same database."""
    iterator = iter(iterable)
    while True:
        try:
            yield context.run(next, iterator)
        except StopIteration:
            return


class ReplicaReadsMiddleware:
    """Sends the reads of the routes named in LAGGING_READ_VIEWS to a replica, a streamed
    body included, and keeps a client that has just written on the primary: for
    REPLICA_PIN_SECONDS after any unsafe request its reads stay there, so it reads its own
    write. The cookie only ever sends reads to the primary, so a forged one costs others
    nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_aliases():
            return self.get_response(request)
        pinned_until = request.COOKIES.get(PIN_COOKIE, "")
        # A time this middleware wrote: ten or so ASCII digits (a forged "²" or 5,000 digits
        # passes isdigit() and then fails int()).
        pinned = bool(re.fullmatch(r"[0-9]{1,12}", pinned_until)) and int(pinned_until) > time.time()
        context = contextvars.copy_context()
        response = context.run(self._respond, request, pinned, not pinned and _may_lag(request))
        if response.streaming:
            response.streaming_content = _in_context(context, response.streaming_content)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            seconds = settings.REPLICA_PIN_SECONDS
            response.set_cookie(
                PIN_COOKIE,
                str(int(time.time()) + seconds),
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response

    def _respond(self, request, pinned: bool, lagging: bool):
        # Set inside the request's own context, which the streamed body reuses.
        _pinned.set(pinned)
        _lagging.set(lagging)
        _chosen.set(None)
        return self.get_response(request)

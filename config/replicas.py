"""Reads that may lag a few seconds go to a read replica; everything else to the primary.

With DATABASE_REPLICA_URL set (one or more URLs), settings add the aliases `replica1`,
`replica2`, … Reads that may be a few seconds old go to a healthy replica: those of the routes named in
settings.LAGGING_READ_VIEWS (tiles, exports, OGC, the map lists), ORM reads through the
router and raw SQL through `connections[router.db_for_read(Model)]`, and those whose code
says so with the router's hint `lag_ok` (past-period reports).
Everything else, reads inside a transaction, writes, and the reads of a client that wrote
in the last REPLICA_PIN_SECONDS (a cookie set by `ReplicaReadsMiddleware`) uses the
primary. A replica that cannot be reached, or cannot show that it follows the primary, is
left alone for REPLICA_RETRY_SECONDS and its reads go to the primary: the registry keeps
working. Following means: its WAL receiver streams, the primary's last message came less
than REPLICA_MAX_LAG_SECONDS ago, and it has replayed the position the primary had
REPLICA_MAX_LAG_SECONDS ago. A replica cut off from the primary has replayed all it
received, so its own replay lag says nothing: it is measured against the primary."""

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
# What a replica shows of its following the primary, in the one statement a lagging request
# costs it: whether a WAL receiver is connected (none on a promoted one), whether it streams
# and the seconds since the primary's last message (both hidden, NULL, from a role without
# pg_read_all_stats), and the position it has replayed.
FOLLOWING_SQL = (
    "SELECT receiver.pid IS NOT NULL, receiver.status = 'streaming', "
    "extract(epoch FROM now() - receiver.last_msg_receipt_time), pg_last_wal_replay_lsn()::text "
    "FROM (VALUES (1)) AS one LEFT JOIN pg_stat_wal_receiver AS receiver ON true"
)
# The primary's position is asked at most this often, so a lagging request costs the
# primary nothing more (a replica's lag is counted from when it was asked).
PRIMARY_POSITION_SECONDS = 2
_primary_position: tuple[float, int] = (float("-inf"), 0)  # when it was asked (monotonic), where
# Per replica, the oldest position the primary was seen at that the replica has not replayed
# yet, and when: how long it has lacked what the primary holds.
_lacking_since: dict[str, tuple[float, int]] = {}


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica")]


def _lsn(text: str) -> int:
    high, low = text.split("/")
    return int(high, 16) << 32 | int(low, 16)


def _primary_now() -> tuple[float, int]:
    """When the primary was last asked its WAL position (monotonic) and the position."""
    global _primary_position
    if _primary_position[0] + PRIMARY_POSITION_SECONDS <= time.monotonic():
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            _primary_position = (time.monotonic(), _lsn(cursor.fetchone()[0]))
    return _primary_position


def _not_following(alias: str, running: bool, streaming, silent, replayed) -> str | None:
    """Why the replica cannot show that it follows the primary; None if it can."""
    if not running:
        return "has no WAL receiver connected to the primary"
    if streaming is None:
        return "hides its WAL receiver's state from its role (grant it pg_read_all_stats)"
    if not streaming:
        return "has a WAL receiver that is not streaming"
    if silent is None:
        return "has had no message from the primary yet"
    if silent > settings.REPLICA_MAX_LAG_SECONDS:
        return f"has had no message from the primary for {silent:.0f} s"
    asked, position = _primary_now()
    replayed = _lsn(replayed)
    lacking = _lacking_since.get(alias)
    if lacking is None or replayed >= lacking[1]:
        lacking = (asked, position) if replayed < position else None
        _lacking_since[alias] = lacking
    if lacking and time.monotonic() - lacking[0] > settings.REPLICA_MAX_LAG_SECONDS:
        return f"lacks what the primary held {time.monotonic() - lacking[0]:.0f} s ago"
    return None


def _healthy(alias: str) -> bool:
    if _down_until.get(alias, 0) > time.monotonic():
        return False
    connection = connections[alias]
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute(FOLLOWING_SQL)
            shown = cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("replica %s unreachable, reading from the primary: %s", alias, exc)
        connection.close_if_unusable_or_obsolete()
        with contextlib.suppress(DatabaseError):
            connection.close()
        _down_until[alias] = time.monotonic() + settings.REPLICA_RETRY_SECONDS
        return False
    if why := _not_following(alias, *shown):
        logger.warning("replica %s %s, reading from the primary", alias, why)
        _down_until[alias] = time.monotonic() + settings.REPLICA_RETRY_SECONDS
        return False
    return True


def set_aside() -> list[str]:
    """The replicas this process leaves alone now (unreachable or not following the primary)."""
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

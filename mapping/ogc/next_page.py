"""The next page of items, made while the client reads this one.

GDAL (ogr2ogr, QGIS) asks for a page, reads all of it and only then asks for the next:
the server sat idle while GDAL read a page, and GDAL sat idle while the server built the
next (bench/NOTES.md). A client that has followed a next link is reading the whole
collection, so the page its next link names is built in the background as soon as its
page is sent, and handed over when it asks: on two cores the two overlap.

Kept in this process only (gunicorn's worker that answered; nginx reuses its kept-alive
connection, so a client paging alone mostly comes back to it): a page asked of another
worker is built there as before. A page is handed only to the same user with the same
scope asking for the same address within KEPT_SECONDS, once; the rows are those of the
moment it was built, as keyset paging gives them anyway (no snapshot between pages)."""

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import DatabaseError, connections
from django.http import QueryDict

KEPT_SECONDS = 30
# Pages of up to 10,000 features (about 7 MB of text each) a process holds at most.
MAX_KEPT = 4

# Two pages built at a time, one a core; a page queued behind others is waited for.
_builder = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ogc-next-page")
_lock = threading.Lock()
_kept: dict[tuple, tuple[float, Future]] = {}


def page_key(user, scope, collection_id: str, crs_uri: str, query: QueryDict) -> tuple:
    """What a page depends on besides the data: who asks, what they may see, and every
    parameter of its address (filters, limit, after)."""
    return (user.pk, scope, collection_id, crs_uri, tuple(sorted((k, tuple(v)) for k, v in query.lists())))


def _forget_old(now: float) -> None:
    for key in [key for key, (made, _page) in _kept.items() if now - made > KEPT_SECONDS]:
        _kept.pop(key)[1].cancel()


def build_ahead(key: tuple, build: Callable[[], list], alias: str) -> None:
    """Starts building a page in the background; `build` runs on a connection of its own
    to database `alias`, which sees only committed rows: callers start it only when their
    own connection is outside a transaction, so the page is the one they would build."""

    def run():
        try:
            return build()
        finally:
            connections[alias].close()

    with _lock:
        now = time.monotonic()
        _forget_old(now)
        if key not in _kept and len(_kept) < MAX_KEPT:
            _kept[key] = (now, _builder.submit(run))


def built(key: tuple) -> list | None:
    """The page built ahead for `key` (waiting for it if under way), or None: never built,
    too old, or its query failed (the caller's own query then says how)."""
    with _lock:
        _forget_old(time.monotonic())
        entry = _kept.pop(key, None)
    if entry is None:
        return None
    try:
        return entry[1].result()
    except DatabaseError:
        return None

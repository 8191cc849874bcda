"""Running an iterator a few items ahead in a thread of its own, so that producing the
next item (reading and checking rows: Python) overlaps using this one (writing to the
database: psycopg lets go of the GIL while PostgreSQL works)."""

import threading
from collections.abc import Iterator
from queue import Full, Queue

from django.utils import translation

_DONE = object()


def read_ahead(items: Iterator, depth: int = 2) -> Iterator:
    """The items of `items`, produced in a thread at most `depth` ahead. An exception in
    the thread is raised here; stopping early stops the thread and closes `items`. The
    thread speaks the caller's language (messages made there are read by a person)."""
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()
    language = translation.get_language()

    def offer(item) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce():
        with translation.override(language):
            try:
                for item in items:
                    if not offer(item):
                        return
                offer(_DONE)
            except BaseException as exc:
                offer(exc)
            finally:
                items.close()

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = queue.get()  # the thread always ends with _DONE or its exception
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()

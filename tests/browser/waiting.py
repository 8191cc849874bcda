"""Waiting on what the page does, never on the clock alone."""

import contextlib
import time

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

# How long one wait for the page's next event may last before the condition is checked
# again: a route handler that records a request or a tile runs just after the event that
# woke the wait, so the check after it must not need yet another event.
RECHECK_MS = 250


def wait_until(
    page, condition, what: str, *, event="response", predicate=None, recheck_ms=RECHECK_MS, timeout_ms=20000
):
    """Returns `condition()` once it is true, checking it again after each `event` of the
    page (those `predicate` accepts), or after `recheck_ms` without one; fails naming
    `what` after `timeout_ms`."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not (found := condition()):
        left_ms = (deadline - time.monotonic()) * 1000
        assert left_ms > 0, f"waited {timeout_ms / 1000:.0f} s for {what}"
        with contextlib.suppress(PlaywrightTimeoutError):
            page.wait_for_event(event, predicate=predicate, timeout=min(left_ms, recheck_ms or left_ms))
    return found

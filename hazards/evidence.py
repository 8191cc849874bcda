"""Evidence decays: a state not re-checked within the interval is unverified and the
site is due for inspection. Temporary sites (works under construction) decay faster."""

import datetime as dt

from django.conf import settings
from django.db.models import Q


def max_age(is_temporary: bool) -> dt.timedelta:
    days = settings.TEMPORARY_EVIDENCE_MAX_AGE_DAYS if is_temporary else settings.EVIDENCE_MAX_AGE_DAYS
    return dt.timedelta(days=days)


def due_q(now: dt.datetime) -> Q:
    """Sites whose state is unverified at `now` (never checked, or checked too long ago)."""
    return (
        Q(last_checked_at__isnull=True)
        | Q(is_temporary=False, last_checked_at__lt=now - max_age(False))
        | Q(is_temporary=True, last_checked_at__lt=now - max_age(True))
    )


def is_due(last_checked_at: dt.datetime | None, is_temporary: bool, now: dt.datetime) -> bool:
    return last_checked_at is None or last_checked_at < now - max_age(is_temporary)

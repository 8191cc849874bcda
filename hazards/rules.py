"""The registry's rules that Python, SQL and the browser share, defined once.

A site's state, the registry's day of an instant, and when evidence decays (a state
unverified, a site due for inspection) are SQL functions (`sql/rules.sql`); the time
zone and the evidence intervals they use are settings (TIME_ZONE, EVIDENCE_MAX_AGE_DAYS,
TEMPORARY_EVIDENCE_MAX_AGE_DAYS), written into `registry_time_zone()` and
`registry_evidence_days()`; which states count as signed and as fenced are SIGNED_STATES
and FENCED_STATES here, written into `registry_state_signed()` and
`registry_state_fenced()`. `install` writes them at every `migrate` (a migration, then
the post_migrate signal, so a changed setting reaches the database). Python queries read
them through the expressions below, the API hands `state` and `due` to the browser, and
`tests/test_one_definition.py` fails when a copy of a rule appears anywhere else. The
instant a registry day begins (day_start) and whether a check fell on a registry day or
after (checked_since) are defined here too.
"""

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import BooleanField, CharField, DateField, ExpressionWrapper, F, Func, Q, TextChoices, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual
from django.utils.translation import gettext_lazy as _

RULES_SQL = Path(__file__).parent / "sql" / "rules.sql"


class SiteState(TextChoices):
    """The five states, in legend order (registry_site_state returns the values)."""

    UNPROTECTED = "unprotected", _("Unprotected")
    SIGNED_ONLY = "signed_only", _("Signed only")
    FENCED_ONLY = "fenced_only", _("Fenced only")
    PROTECTED = "protected", _("Protected")
    CLOSED = "closed", _("Closed")


# The states a count of signed (sign in place) or fenced (barrier complete) sites takes in.
SIGNED_STATES = (SiteState.SIGNED_ONLY, SiteState.PROTECTED)
FENCED_STATES = (SiteState.FENCED_ONLY, SiteState.PROTECTED)


class StateOf(Func):
    """registry_site_state(signage, barrier, closed) of any row that carries the three."""

    function = "registry_site_state"
    output_field = CharField()

    def __init__(self, signage="signage", barrier="barrier", closed=None, **extra):
        closed = closed if closed is not None else ExpressionWrapper(Q(closed_at__isnull=False), BooleanField())
        super().__init__(F(signage), F(barrier), closed, **extra)


class Due(Func):
    """registry_site_due: whether a site is due for inspection at `at`, an instant or a
    registry day (open, its state unverified on that day)."""

    function = "registry_site_due"
    output_field = BooleanField()

    def __init__(self, at, **extra):
        super().__init__(F("state"), F("last_checked_at"), F("is_temporary"), at, **extra)


class Counting(Func):
    """registry_counts: whether a site counts toward the target on `day` (a date or an
    expression of one), by its current details."""

    function = "registry_counts"
    output_field = BooleanField()

    def __init__(self, day, **extra):
        deleted = ExpressionWrapper(Q(deleted_at__isnull=False), BooleanField())
        super().__init__(deleted, F("close_reason"), F("deep_water"), F("active_from"), F("closed_at"), day, **extra)


class Unverified(Func):
    """registry_unverified: whether a state checked on the day `checked_on` (a date column
    or expression; NULL for never) of a site `is_temporary` or not is unverified on `day`."""

    function = "registry_unverified"
    output_field = BooleanField()


class LocalDate(Func):
    """registry_local_date(instant): the registry's day of an instant."""

    function = "registry_local_date"
    output_field = DateField()


def registry_zone() -> ZoneInfo:
    """The registry's time zone (settings.TIME_ZONE), whatever zone Django has active."""
    return ZoneInfo(settings.TIME_ZONE)


def day_start(day: dt.date) -> dt.datetime:
    """The instant the registry's day `day` begins: its midnight in the registry's time
    zone, whatever zone Django has active. An instant before it falls on an earlier day
    (registry_local_date), so `at < day_start(D + 1)` is "on D or before"."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=registry_zone())


def checked_since(day, checked="last_checked_at"):
    """Whether a site's state was checked on the registry's day `day` (a date or an
    expression of one) or after, false for a site never checked: the campaign's "checked
    since it opened", on its board and on the tablet. `checked`: the column of the latest
    check (or an OuterRef to it)."""
    return Coalesce(GreaterThanOrEqual(LocalDate(checked), day), Value(False), output_field=BooleanField())


def state_table(connection, signage_values, barrier_values) -> dict[str, str]:
    """The state of every sign and barrier pair of an open site, keyed "signage|barrier",
    as registry_site_state gives it: the survey app looks up an inspection queued offline
    there, so its site takes the colour the server will give it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s, b, registry_site_state(s, b, false) FROM unnest(%s::text[]) s CROSS JOIN unnest(%s::text[]) b",
            [list(signage_values), list(barrier_values)],
        )
        return {f"{signage}|{barrier}": state for signage, barrier, state in cursor.fetchall()}


def sql_list(states) -> str:
    """States as an SQL list, for statements written as text: ('signed_only', 'protected')."""
    return "(" + ", ".join(f"'{state.value}'" for state in states) + ")"


def evidence_days() -> dict[str, int]:
    """The days a check verifies a state, of a site and of a temporary one: for the
    database's registry_evidence_days and for the text a person reads (the report says
    how long a state stays verified)."""
    return {"days": settings.EVIDENCE_MAX_AGE_DAYS, "temporary_days": settings.TEMPORARY_EVIDENCE_MAX_AGE_DAYS}


# A new site within this many metres of a site of the same kind may be that site: the
# survey warns before it is saved, the import reports it on its row.
DUPLICATE_RADIUS_M = 30


def time_zone_offset() -> str:
    """The registry's time zone as the UTC offset its times are written with, for the text
    that tells a person which time a file holds."""
    return dt.datetime.now(registry_zone()).isoformat()[-6:]


# The rule functions as the database holds them: their bodies, by name and arguments.
RULE_BODIES = """
SELECT coalesce(jsonb_object_agg(p.oid::regprocedure::text, p.prosrc), '{}')::text
FROM pg_proc p WHERE p.proname LIKE 'registry%%' AND p.pronamespace = current_schema()::regnamespace
"""


def install(connection) -> bool:
    """Writes the settings the rules read (time zone, evidence intervals) and the states
    that count as signed and fenced as functions, then rules.sql, into the database.
    Whether a rule the database already held changed (a setting, or rules.sql)."""
    with connection.cursor() as cursor:
        cursor.execute(RULE_BODIES)
        before = json.loads(cursor.fetchone()[0])
        cursor.execute(
            "CREATE OR REPLACE FUNCTION registry_time_zone() RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE "
            "AS $$ SELECT %s::text $$",
            [settings.TIME_ZONE],
        )
        # Days a check verifies a state: fewer for temporary sites.
        cursor.execute(
            "CREATE OR REPLACE FUNCTION registry_evidence_days(is_temporary boolean) RETURNS integer "
            "LANGUAGE sql IMMUTABLE PARALLEL SAFE "
            "AS $$ SELECT CASE WHEN is_temporary THEN %s::integer ELSE %s::integer END $$",
            [evidence_days()["temporary_days"], evidence_days()["days"]],
        )
        # Which states count as signed and as fenced: the reports' summary triggers read these.
        for function, states in (("registry_state_signed", SIGNED_STATES), ("registry_state_fenced", FENCED_STATES)):
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {function}(state text) RETURNS boolean LANGUAGE sql IMMUTABLE "
                f"PARALLEL SAFE AS $$ SELECT state IN {sql_list(states)} $$"
            )
        cursor.execute(RULES_SQL.read_text())
        cursor.execute(RULE_BODIES)
        after = json.loads(cursor.fetchone()[0])
    return any(after.get(name) != body for name, body in before.items())

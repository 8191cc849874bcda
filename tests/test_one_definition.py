"""One home for each rule: a site's state, the time zone, when evidence decays (a
state unverified, a site due) and which sites count toward the target are defined once (hazards/sql/rules.sql, read through
hazards/rules.py; settings.TIME_ZONE and the evidence intervals) and every other place
reads them. These tests fail when a copy appears in the code or in the
database's functions."""

import datetime as dt
import re
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)
RULES_SQL = "hazards/sql/rules.sql"
# Migrations are history (what ran once); the database test below checks what runs now.
# The benchmarks' references (bench/) write the rules out on purpose: each is an
# independent formulation, in psql, that the registry's answer is also compared with, so a
# wrong rule function would show there as a disagreement rather than agree with itself.
SKIPPED = ("/migrations/", "tests/", "bench/", "static/vendor/", "locale/")

# Deciding a state from the sign and the barrier: comparing with their "in place" and
# "complete" values, in any language.
STATE_RULE = re.compile(
    r"""(["']in_place["']|["']complete["'])"""  # the values written out
    r"""|(==|!=|<>|\bsignage=|\bbarrier=)\s*(Signage\.IN_PLACE|Barrier\.COMPLETE)"""  # or named
)
# Which states count as signed or as fenced: a set of "signed only" (or "fenced only") and
# "protected", as values or as names (a list of all states, the legend's, is no such set).
STATE_SETS = re.compile(
    r"""[(\[{]\s*["']?(signed|fenced)_only["']?\s*,\s*["']?protected["']?\s*[)\]}]"""
    r"""|[(\[{]\s*(SiteState\.)?(SIGNED|FENCED)_ONLY\s*,\s*(SiteState\.)?PROTECTED\s*[)\]}]"""
)
# The zone by name, the database's conversion, or its offset written as a fact ("Vietnam
# time (+07:00)"); an offset ending an example time (2026-05-01T08:30:00+07:00) only
# shows a format.
_OFFSET = dt.datetime(2026, 1, 1, tzinfo=ZoneInfo(settings.TIME_ZONE)).isoformat()[-6:]
TIME_ZONE = re.compile(
    re.escape(settings.TIME_ZONE) + r"|AT TIME ZONE|(?<!\d\d:\d\d:\d\d)" + re.escape(_OFFSET), re.IGNORECASE
)
# Deciding that evidence has decayed: reading the intervals' settings, or the database's
# function of them.
EVIDENCE_RULE = re.compile(r"settings\.(TEMPORARY_)?EVIDENCE_MAX_AGE_DAYS|registry_evidence_days")
# Writing the intervals out for a person to read ("365 days", "90 ngày") or in code
# (timedelta(days=365)): text takes them from hazards.rules.evidence_days, so a changed
# setting changes what the report says.
_DAYS = "|".join(str(d) for d in {settings.EVIDENCE_MAX_AGE_DAYS, settings.TEMPORARY_EVIDENCE_MAX_AGE_DAYS})
EVIDENCE_INTERVALS = re.compile(rf"\b({_DAYS})\s*(days|ngày)\b|\bdays\s*=\s*({_DAYS})\b", re.IGNORECASE)
# Deciding which sites count toward the target: asking for deep water, or leaving out the
# duplicates, as a condition (a site's deep water shown or edited is no such decision).
COUNTING_RULE = re.compile(r"""close_reason\s*(<>|!=)\s*'duplicate'|\bdeep_water\s*(=\s*True\b|AND\b)""", re.IGNORECASE)
# Where each may stand: the state rule in rules.sql (and the choices that name the
# values); the time zone in the settings and in rules.sql's registry_local_date.
ALLOWED = {
    STATE_RULE: {RULES_SQL, "hazards/models.py"},
    STATE_SETS: {"hazards/rules.py"},
    TIME_ZONE: {RULES_SQL, "config/settings/base.py"},
    EVIDENCE_RULE: {RULES_SQL, "hazards/rules.py"},
    EVIDENCE_INTERVALS: set(),
    COUNTING_RULE: {RULES_SQL},
}


def source_files(suffixes=(".py", ".js", ".sql", ".html"), skipped=SKIPPED):
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    for name in tracked:
        if name.endswith(suffixes) and not any(part in f"/{name}" for part in skipped):
            yield name


def lines_of(name):
    text = (ROOT / name).read_text()
    if name.endswith(".po"):
        text = text.replace('"\n"', "")  # a message wraps over lines: "365 " on one, "days" on the next
    return enumerate(text.splitlines(), start=1)


def copies_of(rule, names):
    return [
        f"{name}:{number}: {line.strip()}"
        for name in names
        if name not in ALLOWED[rule]
        for number, line in lines_of(name)
        if rule.search(line)
    ]


@pytest.mark.parametrize(
    "rule",
    [STATE_RULE, STATE_SETS, TIME_ZONE, EVIDENCE_RULE, EVIDENCE_INTERVALS, COUNTING_RULE],
    ids=["state", "signed and fenced", "time zone", "evidence", "evidence intervals", "counting"],
)
def test_no_copy_of_the_rule_in_the_code(rule):
    assert copies_of(rule, source_files()) == []


def test_no_copy_of_the_evidence_intervals_in_what_a_person_reads():
    """Templates, e-mails and the translations (a Vietnamese msgstr may write out what its
    English msgid takes from the settings)."""
    texts = source_files((".html", ".txt", ".po"), skipped=("tests/", "static/vendor/"))
    assert copies_of(EVIDENCE_INTERVALS, texts) == []


def test_the_patterns_find_copies():
    """The test above would see the copies this project once had."""
    assert STATE_RULE.search('if (p.signage === "in_place" && p.barrier === "complete")')
    assert STATE_RULE.search("SIGNED = Q(signage=Signage.IN_PLACE)")
    assert STATE_RULE.search("count(*) FILTER (WHERE signage = 'in_place')")
    assert STATE_SETS.search("SELECT state IN ('signed_only', 'protected')")
    assert STATE_SETS.search("FENCED_STATES = (SiteState.FENCED_ONLY, SiteState.PROTECTED)")
    assert STATE_SETS.search('const SIGNED = new Set(["signed_only", "protected"]);')
    assert not STATE_SETS.search('const STATE_ORDER = ["unprotected", "signed_only", "fenced_only", "protected"];')
    assert TIME_ZONE.search("(s.last_checked_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date")
    assert TIME_ZONE.search('gettext_lazy("Latest inspection, Vietnam time (+07:00)")')
    assert not TIME_ZONE.search('"e.g. 2026-05-01T08:30:00+07:00"')
    assert EVIDENCE_RULE.search("last_checked_at < now - dt.timedelta(days=settings.EVIDENCE_MAX_AGE_DAYS)")
    assert EVIDENCE_RULE.search("checked_on + registry_evidence_days(s.is_temporary) <= day")
    assert COUNTING_RULE.search("return Q(deep_water=True, active_from__lte=day) & (Q(closed_at__isnull=True)")
    assert COUNTING_RULE.search("WHERE s.deleted_at IS NULL AND s.close_reason <> 'duplicate' AND s.deep_water")
    assert COUNTING_RULE.search("SELECT CASE WHEN s.deep_water AND s.closed_at IS NULL AND s.deleted_at IS NULL THEN")
    assert not COUNTING_RULE.search('Field("deep_water", "deep_water", "true/false", gettext_lazy("Deep water"))')
    assert EVIDENCE_INTERVALS.search("a state not re-checked within 365 days (90 for works under construction)")
    assert EVIDENCE_INTERVALS.search("trong vòng 365 ngày (90 ngày với công trình đang thi công)")
    assert EVIDENCE_INTERVALS.search("last_checked_at < now - dt.timedelta(days=365)")


@pytest.mark.django_db
def test_no_copy_of_the_rule_in_the_database_functions():
    """What runs in PostgreSQL (triggers, rebuilds) reads the rule functions too. Of
    the project's own functions, not those of extensions (PostGIS)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = current_schema() "
            "AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"  # not PostGIS's
        )
        functions = dict(cursor.fetchall())
    homes = {
        "registry_site_state",
        "registry_local_date",
        "registry_time_zone",
        "registry_unverified",
        "registry_counts",
    }
    assert homes <= set(functions)
    copies = [
        name
        for name, body in functions.items()
        if name not in homes
        and any(rule.search(body) for rule in (STATE_RULE, TIME_ZONE, EVIDENCE_RULE, COUNTING_RULE))
    ]
    assert copies == []


@pytest.mark.django_db
def test_sql_counts_as_signed_and_fenced_the_states_python_does():
    from hazards.rules import FENCED_STATES, SIGNED_STATES, SiteState

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s, registry_state_signed(s), registry_state_fenced(s) FROM unnest(%s::text[]) s",
            [list(SiteState.values)],
        )
        answers = {state: (signed, fenced) for state, signed, fenced in cursor.fetchall()}
    assert answers == {state: (state in SIGNED_STATES, state in FENCED_STATES) for state in SiteState.values}
    assert sum(signed for signed, _fenced in answers.values()) == 2


@pytest.mark.django_db
def test_the_time_zone_comes_from_the_settings(settings):
    from hazards import rules

    with connection.cursor() as cursor:
        cursor.execute("SELECT registry_time_zone(), registry_local_date('2026-06-30 17:30:00+00')")
        assert cursor.fetchone() == (settings.TIME_ZONE, dt.date(2026, 7, 1))
        settings.TIME_ZONE = "UTC"
        rules.install(connection)
        cursor.execute("SELECT registry_local_date('2026-06-30 17:30:00+00')")
        assert cursor.fetchone()[0] == dt.date(2026, 6, 30)


@pytest.mark.django_db
def test_the_evidence_intervals_come_from_the_settings(settings):
    from hazards import rules

    check = "SELECT registry_unverified(DATE '2026-01-01', false, DATE '2026-01-01' + %s)"
    with connection.cursor() as cursor:
        cursor.execute(check, [settings.EVIDENCE_MAX_AGE_DAYS - 1])
        assert cursor.fetchone()[0] is False
        settings.EVIDENCE_MAX_AGE_DAYS = 30
        rules.install(connection)
        cursor.execute(check, [30])
        assert cursor.fetchone()[0] is True

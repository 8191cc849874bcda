"""One home for each rule: a site's state, the time zone, the instant a registry day
begins, when evidence decays (a state unverified, a site due) and which sites count
toward the target are defined once (hazards/sql/rules.sql, read through hazards/rules.py;
settings.TIME_ZONE and the evidence intervals), and the values a field may hold once (its
model's choices); every other place reads them. These tests fail when a copy appears in
the code or in the database's functions."""

import datetime as dt
import re
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
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
# Writing the intervals out for a person to read ("365 days", "90 ngày"), in code
# (timedelta(days=365)) or as a day's arithmetic ("C + 364"), a day more or less too:
# text takes them from hazards.rules.evidence_days, so a changed setting changes what the
# report says.
_DAYS = "|".join(
    str(days + shift)
    for days in {settings.EVIDENCE_MAX_AGE_DAYS, settings.TEMPORARY_EVIDENCE_MAX_AGE_DAYS}
    for shift in (-1, 0, 1)
)
EVIDENCE_INTERVALS = re.compile(
    rf"\b({_DAYS})\s*(days|ngày)\b|\bdays\s*=\s*({_DAYS})\b|[\w)](\s+[+-]\s+|[+-])({_DAYS})\b", re.IGNORECASE
)
# Deciding which sites count toward the target: asking for deep water, or leaving out the
# duplicates, as a condition (a site's deep water shown or edited is no such decision).
COUNTING_RULE = re.compile(
    r"""close_reason\s*(=|<>|!=)\s*'duplicate'|\bdeep_water\s*(=\s*True\b|AND\b)""", re.IGNORECASE
)
# The instant a registry day begins: midnight made by hand (hazards.rules.day_start is it).
MIDNIGHT = re.compile(r"\bcombine\(.*\btime(\.min\b|\(\s*(0\s*(,\s*0\s*)*)?\))|\.replace\(\s*hour\s*=\s*0\b")


def _choices_listed(values) -> str:
    """Three values of one choice written one after another, quoted or not."""
    one = "|".join(re.escape(value) for value in sorted(values, key=len, reverse=True))
    value = rf"""["']?({one})["']?"""
    return rf"(?<![\w-]){value}\s*,\s*{value}\s*,\s*{value}(?![\w-])"


# The values a field of the registry's records may hold, listed by hand ("Why it was
# closed: filled_in, works_finished, duplicate", a list of the reasons a tablet offers):
# a list that misses a value added to the choices. Descriptions and lists are built from
# the model's choices (hazards.exports.values_of).
_CHOICES = {
    tuple(value for value, _label in choices)
    for model in apps.get_app_config("hazards").get_models()
    for field in model._meta.get_fields()
    if (choices := getattr(getattr(field, "output_field", field), "choices", None))
}
CHOICE_LISTS = re.compile("|".join(_choices_listed(values) for values in sorted(_CHOICES)))
# Switching Django's active time zone: nothing does, so that timezone.localdate() and
# localtime(), which the pages, forms and services read, give the registry's day and hour
# (hazards.rules.registry_zone, rules.sql's registry_local_date) and not a request's own.
ZONE_SWITCH = re.compile(r"\btimezone\.(activate|override)\b|django\.utils\.timezone import .*\b(activate|override)\b")
# Where each may stand: the state rule in rules.sql (and the choices that name the
# values); the time zone in the settings and in rules.sql's registry_local_date.
ALLOWED = {
    STATE_RULE: {RULES_SQL, "hazards/models.py"},
    STATE_SETS: {"hazards/rules.py"},
    TIME_ZONE: {RULES_SQL, "config/settings/base.py"},
    EVIDENCE_RULE: {RULES_SQL, "hazards/rules.py"},
    EVIDENCE_INTERVALS: set(),
    COUNTING_RULE: {RULES_SQL},
    MIDNIGHT: {"hazards/rules.py"},
    CHOICE_LISTS: {"hazards/models.py", "hazards/models_remediation.py", "hazards/rules.py"},
    ZONE_SWITCH: set(),
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
    [
        STATE_RULE,
        STATE_SETS,
        TIME_ZONE,
        EVIDENCE_RULE,
        EVIDENCE_INTERVALS,
        COUNTING_RULE,
        MIDNIGHT,
        CHOICE_LISTS,
        ZONE_SWITCH,
    ],
    ids=[
        "state",
        "signed and fenced",
        "time zone",
        "evidence",
        "evidence intervals",
        "counting",
        "midnight",
        "choices",
        "active time zone",
    ],
)
def test_no_copy_of_the_rule_in_the_code(rule):
    assert copies_of(rule, source_files()) == []


def test_no_copy_of_the_evidence_intervals_in_what_a_person_reads():
    """Templates, e-mails and the translations (a Vietnamese msgstr may write out what its
    English msgid takes from the settings)."""
    texts = source_files((".html", ".txt", ".po"), skipped=("tests/", "static/vendor/"))
    assert copies_of(EVIDENCE_INTERVALS, texts) == []


# Copies this project once had, which the tests above would see.
COPIES = [
    (STATE_RULE, 'if (p.signage === "in_place" && p.barrier === "complete")'),
    (STATE_RULE, "SIGNED = Q(signage=Signage.IN_PLACE)"),
    (STATE_RULE, "count(*) FILTER (WHERE signage = 'in_place')"),
    (STATE_SETS, "SELECT state IN ('signed_only', 'protected')"),
    (STATE_SETS, "FENCED_STATES = (SiteState.FENCED_ONLY, SiteState.PROTECTED)"),
    (STATE_SETS, 'const SIGNED = new Set(["signed_only", "protected"]);'),
    (TIME_ZONE, "(s.last_checked_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"),
    (TIME_ZONE, 'gettext_lazy("Latest inspection, Vietnam time (+07:00)")'),
    (EVIDENCE_RULE, "last_checked_at < now - dt.timedelta(days=settings.EVIDENCE_MAX_AGE_DAYS)"),
    (EVIDENCE_RULE, "checked_on + registry_evidence_days(s.is_temporary) <= day"),
    (COUNTING_RULE, "return Q(deep_water=True, active_from__lte=day) & (Q(closed_at__isnull=True)"),
    (COUNTING_RULE, "WHERE s.deleted_at IS NULL AND s.close_reason <> 'duplicate' AND s.deep_water"),
    (COUNTING_RULE, "SELECT CASE WHEN s.deep_water AND s.closed_at IS NULL AND s.deleted_at IS NULL THEN"),
    (COUNTING_RULE, "CASE WHEN (o.deleted_at, o.active_from, o.close_reason = 'duplicate')"),
    (EVIDENCE_INTERVALS, "a state not re-checked within 365 days (90 for works under construction)"),
    (EVIDENCE_INTERVALS, "trong vòng 365 ngày (90 ngày với công trình đang thi công)"),
    (EVIDENCE_INTERVALS, "last_checked_at < now - dt.timedelta(days=365)"),
    (EVIDENCE_INTERVALS, "a check on day C verifies the state until C + 364, for temporary sites C + 89"),
    (EVIDENCE_INTERVALS, "checked_on + 365 <= day"),
    (EVIDENCE_INTERVALS, "within 364 days"),
    (MIDNIGHT, "return timezone.make_aware(dt.datetime.combine(campaign.starts_on, dt.time.min))"),
    (MIDNIGHT, "end = make_aware(datetime.combine(day, time(0, 0)))"),
    (MIDNIGHT, "start = now.replace(hour=0, minute=0, second=0, microsecond=0)"),
    (CHOICE_LISTS, 'gettext_lazy("Why it was closed: filled_in, works_finished, duplicate")'),
    (CHOICE_LISTS, 'gettext_lazy("State: protected, signed_only, fenced_only, unprotected, closed")'),
    (CHOICE_LISTS, 'TABLET_CLOSE_REASONS = ["filled_in", "drained", "fenced_off", "duplicate"]'),
    (ZONE_SWITCH, "timezone.activate(ZoneInfo(request.user.time_zone))"),
    (ZONE_SWITCH, 'with timezone.override("Asia/Tokyo"):'),
    (ZONE_SWITCH, "from django.utils.timezone import activate, now"),
]
# Lines that only look like copies: a format's example, a list of all states (the legend's),
# a field shown, coordinates, noon, a value written twice.
NOT_COPIES = [
    (STATE_SETS, 'const STATE_ORDER = ["unprotected", "signed_only", "fenced_only", "protected"];'),
    (TIME_ZONE, '"e.g. 2026-05-01T08:30:00+07:00"'),
    (COUNTING_RULE, 'Field("deep_water", "deep_water", "true/false", gettext_lazy("Deep water"))'),
    (EVIDENCE_INTERVALS, "if lon_min < -180 or lon_max > 180 or lat_min < -90 or lat_max > 90:"),
    (EVIDENCE_INTERVALS, 'transform="rotate(-90 ${c} ${c})"'),
    (EVIDENCE_INTERVALS, "if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):"),
    (MIDNIGHT, "return dt.datetime.combine(day, dt.time(12)) if day else parse_datetime(value)"),
    (CHOICE_LISTS, "# counts at, then by arrival; none, none and never checked without one."),
    (ZONE_SWITCH, "with translation.override(translation.get_language_from_request(request)):"),
]


def test_the_patterns_find_copies():
    assert [text for rule, text in COPIES if not rule.search(text)] == []
    assert [text for rule, text in NOT_COPIES if rule.search(text)] == []


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
        "registry_never_counted",
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

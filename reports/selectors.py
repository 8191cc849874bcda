"""The numbers of the periodic report, computed in PostgreSQL.

Rules (README "Progress reports"; ../shared/DESIGN.md): a site counts toward the target on day D
while it is active on D (from its first observation, not closed on or before D, not in a
closed stretch between a closure and a reopening), has deep water on D and is not
deleted; its area on D is the one it had that day (hazards/lifecycle.py: dated changes).
A site closed as a duplicate, or merged into another, never counted. Its state on D is
that of its latest inspection counted before the end of D (Vietnam time). Signed = sign
in place; fenced = barrier complete; protected = both (hazards/sql/rules.sql).
Unverified = never checked, or last checked too long before D (registry_unverified in
hazards/sql/rules.sql: a check on day C verifies the state on C and the days after, as
many days in all as hazards.rules.evidence_days() gives, fewer for temporary sites; the
settings set them). Inspected = checked during the period. Photo evidence = the latest
inspection on D has a photo. Shares are rounded half up to one decimal
(common/numbers.py); the gap to a target is the number of sites still to bring up:
ceil(counting × target / 100) − done, never below 0. The target of a period is the one
in force on the day its numbers describe (reports.Target).

A period ending today or later is read from the current-state summary kept by triggers;
a past period is computed as of its end with one statement and kept until data it
depends on change."""

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Case, F, IntegerField, Q, Sum, Value, When
from django.utils.translation import gettext

from areas.models import Area
from common.numbers import share
from hazards.rules import FENCED_STATES, SIGNED_STATES, SiteState, Unverified, day_start, sql_list

from .models import AreaDay, AsOfResult, Indicator, Target
from .numbers import exact_share, points
from .periods import Period

COUNTS = ["counting", "signed", "fenced", "protected", "inspected", "with_photo", "unverified"]
INDICATORS = ["signed", "fenced", "protected"]
DEFAULT_TARGET = Decimal("100")


class Country:
    """The whole registry as one report area, for users whose scope is everything: its
    children are the top-level areas (provinces)."""

    pk = None
    code = ""
    path = "/"
    parent = None

    @property
    def name(self) -> str:
        return gettext("Whole country")

    @property
    def children(self):
        return Area.objects.filter(parent__isnull=True)


@dataclass
class Row:
    area: Area | None  # None: sites lying directly in the parent area, in no child
    counts: dict[str, int]
    targets: dict[str, Decimal] = field(default_factory=dict)
    previous: dict[str, int] | None = None

    def exact_share(self, indicator: str) -> Fraction | None:
        return exact_share(self.counts[indicator], self.counts["counting"])

    def share(self, indicator: str) -> Decimal | None:
        """The indicator's share of the counting sites, in %, rounded half up."""
        return share(self.counts[indicator], self.counts["counting"])

    def missing(self, indicator: str) -> int:
        """Counting sites without the indicator (the list "not signed" and the like)."""
        return self.counts["counting"] - self.counts[indicator]

    def gap(self, indicator: str) -> int:
        """Sites still to be brought up to reach the target."""
        needed = math.ceil(Fraction(self.counts["counting"]) * Fraction(self.targets[indicator]) / 100)
        return max(0, needed - self.counts[indicator])

    @property
    def pct_protected(self) -> float:
        return float(self.share("protected") or 0)

    def change(self, indicator: str) -> Decimal | None:
        """Change of the indicator's share since the previous period, in percentage points."""
        if not self.previous:
            return None
        before = exact_share(self.previous[indicator], self.previous["counting"])
        return points(self.exact_share(indicator), before)


@dataclass
class Report:
    area: Area
    period: Period
    total: Row
    rows: list[Row]


# The counts by a site's state (hazards/rules.py), over the rows' `state` column.
SIGNED = f"state IN {sql_list(SIGNED_STATES)}"
FENCED = f"state IN {sql_list(FENCED_STATES)}"
PROTECTED = f"state = '{SiteState.PROTECTED.value}'"

# One row per counting site of the subtree, with its state as of the end of `day`. The
# site's area, deep water and temporary flag on `day`: its current ones from the day they
# took effect, earlier ones from its versions (hazards/lifecycle.py). A site closed as a
# duplicate never counted. `{only}`: nothing, or a condition narrowing it to some sites.
SITES_AS_OF = """
SELECT s.id, s.code, s.name, s.kind,
       split_part(substr(a.path, length(%(root)s) + 1), '/', 1) AS child_code,
       last.observed_at, last.signage, last.barrier, registry_site_state(last.signage, last.barrier, false) AS state,
       coalesce(last.observed_at >= %(since)s, false) AS inspected,
       last.id IS NOT NULL AND EXISTS (SELECT 1 FROM hazards_photo p WHERE p.inspection_id = last.id) AS with_photo,
       registry_unverified(registry_local_date(last.observed_at), s.is_temporary, %(day)s) AS unverified
FROM (
    SELECT s.id, s.code, s.name, s.kind, s.area_id, s.is_temporary
    FROM hazards_site s
    WHERE registry_counts(s.deleted_at IS NOT NULL, s.close_reason, s.deep_water,
                          coalesce(s.current_since, s.active_from), s.closed_at, %(day)s)
      {only}
    UNION ALL
    SELECT s.id, s.code, s.name, s.kind, v.area_id, v.is_temporary
    FROM hazards_siteversion v
    JOIN hazards_site s ON s.id = v.site_id
    WHERE registry_counts(s.deleted_at IS NOT NULL, s.close_reason, v.deep_water, v.valid_from, s.closed_at, %(day)s)
      AND v.valid_until > %(day)s
      {only}
) s
JOIN areas_area a ON a.id = s.area_id
LEFT JOIN LATERAL (
    SELECT i.id, i.signage, i.barrier, i.observed_at
    FROM hazards_inspection i
    WHERE i.site_id = s.id AND i.deleted_at IS NULL AND i.observed_at < %(until)s
    ORDER BY i.observed_at DESC, i.received_at DESC
    LIMIT 1
) last ON true
WHERE a.path LIKE %(root)s || '%%'
"""


def sites_as_of_sql(only_ids: bool = False) -> str:
    """The per-site statement; with only_ids, for the sites in %(ids)s alone."""
    return SITES_AS_OF.replace("{only}", "AND s.id = ANY(%(ids)s)" if only_ids else "")


# The report's counts over rows of per-site states: the as-of statement's, or the rows a
# submission froze (reports/services.py).
COUNT_COLUMNS = f"""
       count(*) AS counting,
       count(*) FILTER (WHERE {SIGNED}) AS signed,
       count(*) FILTER (WHERE {FENCED}) AS fenced,
       count(*) FILTER (WHERE {PROTECTED}) AS protected,
       count(*) FILTER (WHERE inspected) AS inspected,
       count(*) FILTER (WHERE with_photo) AS with_photo,
       count(*) FILTER (WHERE unverified) AS unverified"""

TABLE_AS_OF = f"SELECT child_code, {COUNT_COLUMNS} FROM ({sites_as_of_sql()}) site GROUP BY child_code"  # noqa: S608

# Which sites a number stands for, by the same per-site rules.
INDICATOR_FILTERS = {
    "counting": "true",
    "signed": SIGNED,
    "fenced": FENCED,
    "protected": PROTECTED,
    "not_signed": f"NOT {SIGNED}",
    "not_fenced": f"NOT {FENCED}",
    "not_protected": f"NOT {PROTECTED}",
    "inspected": "inspected",
    "with_photo": "with_photo",
    "unverified": "unverified",
}


def as_of_params(area: Area, period: Period) -> dict:
    return {
        "root": area.path,
        "day": period.as_of,
        "until": day_start(period.as_of + dt.timedelta(days=1)),
        "since": day_start(period.start),
    }


def _as_of_by_child(area: Area, period: Period) -> dict[str, dict[str, int]]:
    cached = AsOfResult.objects.filter(area_id=area.pk, day=period.end, since=period.start).first()
    if cached:
        return cached.rows
    # Kept in the cache, so read where every write is: the primary or a caught-up replica.
    rows = grouped(
        TABLE_AS_OF, as_of_params(area, period), using=router.db_for_read(AsOfResult, lag_ok=True, fresh=True)
    )
    AsOfResult.objects.update_or_create(area_id=area.pk, day=period.end, since=period.start, defaults={"rows": rows})
    return rows


def _current_by_child(area: Area, children: list[Area], period: Period) -> dict[str, dict[str, int]]:
    """From the summary: each child's rows already hold its whole subtree."""
    # Named apart from the columns: an annotation may not shadow the field it sums.
    aggregates = {
        "sum_counting": Sum("counting"),
        "sum_signed": Sum("signed"),
        "sum_fenced": Sum("fenced"),
        "sum_protected": Sum("protected"),
        "sum_with_photo": Sum("with_photo"),
        "sum_inspected": Sum(
            Case(When(Q(day__gte=period.start), then="counting"), default=0, output_field=IntegerField())
        ),
        "sum_unverified": Sum(
            Case(
                When(Unverified(F("day"), F("is_temporary"), Value(period.as_of)), then="counting"),
                default=0,
                output_field=IntegerField(),
            )
        ),
    }
    ids = {child.pk: child.code for child in children}
    own_id = [area.pk] if area.pk is not None else []
    result = {}
    for row in AreaDay.objects.filter(area_id__in=[*ids, *own_id]).values("area_id").annotate(**aggregates):
        code = ids.get(row.pop("area_id"), "__self__")
        result[code] = {k.removeprefix("sum_"): int(v or 0) for k, v in row.items()}
    if not own_id:  # the country has no row of its own: every site lies in some province
        return result
    # Sites lying in the area itself, in none of its children.
    own = result.pop("__self__", dict.fromkeys(COUNTS, 0))
    direct = {k: own[k] - sum(r[k] for r in result.values()) for k in COUNTS}
    if direct["counting"]:
        result[""] = direct
    return result


def by_child(area: Area, period: Period) -> dict[str, dict[str, int]]:
    children = list(area.children.all())
    if period.is_current:
        return _current_by_child(area, children, period)
    return _as_of_by_child(area, period)


def targets_in_force(areas: list, day: dt.date) -> dict[int | None, dict[str, Target | None]]:
    """For each area (None: the country), per indicator: the target in force on `day` set
    for it or, failing that, for its nearest ancestor; None where none is (the
    directive's 100 % applies)."""
    paths = {p for a in areas for p in _ancestor_paths(a.path)}
    targets = Target.objects.filter(area__path__in=paths, valid_from__lte=day, valid_until__gte=day)
    by_path = {(t.area.path, t.indicator): t for t in targets.select_related("area")}
    result = {}
    for area in areas:
        chain = _ancestor_paths(area.path)
        result[area.pk] = {}
        for indicator in Indicator.values:
            found = [by_path[(p, indicator)] for p in chain if (p, indicator) in by_path]
            result[area.pk][indicator] = found[-1] if found else None
    return result


def effective_targets(areas: list, day: dt.date) -> dict[int | None, dict[str, Decimal]]:
    """The target values in force on `day` (targets_in_force), 100 % where none is."""
    return {
        pk: {k: target.value if target else DEFAULT_TARGET for k, target in per_indicator.items()}
        for pk, per_indicator in targets_in_force(areas, day).items()
    }


def _ancestor_paths(path: str) -> list[str]:
    parts = [part for part in path.strip("/").split("/") if part]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def progress_report(area: Area, period: Period) -> Report:
    current = by_child(area, period)
    previous = by_child(area, period.previous())
    children = {child.code: child for child in area.children.all()}
    targets = effective_targets([area, *children.values()], period.as_of)
    empty = dict.fromkeys(COUNTS, 0)
    rows = []
    for code in sorted(set(current) | set(children)):
        child = children.get(code)
        rows.append(
            Row(
                area=child,
                counts={**empty, **current.get(code, {})},
                targets=targets[child.pk if child else area.pk],
                previous={**empty, **previous.get(code, {})},
            )
        )
    total = Row(
        area=area,
        counts={k: sum(r.counts[k] for r in rows) for k in COUNTS},
        targets=targets[area.pk],
        previous={k: sum(r.previous[k] for r in rows) for k in COUNTS},
    )
    return Report(area=area, period=period, total=total, rows=rows)


def trend(area: Area, period: Period, count: int = 4) -> list[tuple[Period, Decimal | None]]:
    """The area's protected share at the end of the last `count` periods, oldest first."""
    periods = [period]
    for _i in range(count - 1):
        periods.insert(0, periods[0].previous())
    shares = []
    for p in periods:
        rows = by_child(area, p).values()
        shares.append((p, share(sum(r["protected"] for r in rows), sum(r["counting"] for r in rows))))
    return shares


def sites_behind(area: Area, period: Period, indicator: str, child_code: str | None = None) -> list[dict]:
    """The sites a number of the report stands for (as of the period's end)."""
    condition = INDICATOR_FILTERS[indicator]
    columns = "id, code, name, kind, child_code, signage, barrier, observed_at"
    sql = f"SELECT {columns} FROM ({sites_as_of_sql()}) site WHERE {condition}"  # noqa: S608
    params = as_of_params(area, period)
    if child_code is not None:
        sql += " AND child_code = %(child)s"
        params["child"] = child_code
    sql += " ORDER BY code"
    # A past period's list may be read a few seconds late.
    with connections[router.db_for_read(AsOfResult, lag_ok=not period.is_current)].cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c.name for c in cursor.description]
        return [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]


# Counts per kind of site (the documents' breakdown), by the same per-site rules.
KINDS_AS_OF = f"SELECT kind, {COUNT_COLUMNS} FROM ({sites_as_of_sql()}) site GROUP BY kind"  # noqa: S608


def grouped(sql: str, params: dict, using: str = DEFAULT_DB_ALIAS) -> dict[str, dict[str, int]]:
    """Rows of (key, counts...) as {key: {count name: number}}, read from database `using`."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        return {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in cursor.fetchall()}


def by_kind(area: Area, period: Period) -> dict[str, dict[str, int]]:
    # As the lists: a past period's may be read a few seconds late.
    return grouped(
        KINDS_AS_OF, as_of_params(area, period), using=router.db_for_read(AsOfResult, lag_ok=not period.is_current)
    )

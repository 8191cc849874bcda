"""The numbers of the periodic report, computed in PostgreSQL.

Rules (DESIGN.md): a site counts toward the target on day D while it is active on D
(active_from <= D, not closed on or before D), has deep water and is not deleted. Its
state on D is that of its latest inspection counted before the end of D. Signed = sign in
place; fenced = barrier complete; protected = both (hazards/sql/rules.sql). Unverified =
never checked, or last checked too long before D (registry_unverified, the same file).
Inspected = checked during the
period. Photo evidence = the latest inspection on D has a photo.

A period ending today or later is read from the current-state summary kept by triggers;
a past period is computed as of its end with one statement and kept until data it
depends on change."""

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connections, router
from django.db.models import Case, F, IntegerField, Q, Sum, Value, When
from django.utils.translation import gettext

from areas.models import Area
from hazards.rules import FENCED_STATES, SIGNED_STATES, SiteState, Unverified, sql_list

from .models import AreaDay, AsOfResult, Indicator, Target
from .periods import Period, local_midnight

COUNTS = ["counting", "signed", "fenced", "protected", "inspected", "with_photo", "unverified"]
DEFAULT_TARGET = Decimal("100")


class Country:
    """The whole registry as one report area, for users whose scope is everything: its
    children are the top-level areas (provinces)."""

    pk = None
    code = ""
    path = "/"

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

    def share(self, indicator: str) -> float | None:
        return 100 * self.counts[indicator] / self.counts["counting"] if self.counts["counting"] else None

    def gap(self, indicator: str) -> int:
        """Sites still to be brought up to reach the target."""
        needed = math.ceil(self.counts["counting"] * Decimal(self.targets[indicator]) / 100)
        return max(0, needed - self.counts[indicator])

    @property
    def pct_protected(self) -> float:
        return self.share("protected") or 0.0

    @property
    def cells(self) -> list[tuple[str, object]]:
        """The table cells after the area name: (what the number links to, value);
        "pct", "plain" and "change" cells link nowhere."""
        c = self.counts
        return [
            ("counting", c["counting"]),
            ("signed", c["signed"]),
            ("pct", self.share("signed")),
            ("fenced", c["fenced"]),
            ("pct", self.share("fenced")),
            ("protected", c["protected"]),
            ("pct", self.share("protected")),
            ("plain", f"{self.targets['protected']:.0f}%"),
            ("not_signed", self.gap("signed")),
            ("not_fenced", self.gap("fenced")),
            ("not_protected", self.gap("protected")),
            ("change", self.change("protected")),
            ("inspected", c["inspected"]),
            ("with_photo", c["with_photo"]),
            ("unverified", c["unverified"]),
        ]

    def change(self, indicator: str) -> float | None:
        """Change of the indicator's share since the previous period, in percentage points."""
        if not self.previous or not self.previous["counting"] or self.share(indicator) is None:
            return None
        return self.share(indicator) - 100 * self.previous[indicator] / self.previous["counting"]


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
# duplicate never counted.
SITES_AS_OF = """
SELECT s.id, s.code, s.name, s.kind,
       split_part(substr(a.path, length(%(root)s) + 1), '/', 1) AS child_code,
       last.observed_at, last.signage, last.barrier, registry_site_state(last.signage, last.barrier, false) AS state,
       last.id IS NOT NULL AND EXISTS (SELECT 1 FROM hazards_photo p WHERE p.inspection_id = last.id) AS with_photo,
       registry_unverified(registry_local_date(last.observed_at), s.is_temporary, %(day)s) AS unverified
FROM (
    SELECT s.id, s.code, s.name, s.kind, s.area_id, s.is_temporary
    FROM hazards_site s
    WHERE s.deleted_at IS NULL AND s.close_reason <> 'duplicate' AND s.deep_water
      AND coalesce(s.current_since, s.active_from) <= %(day)s AND (s.closed_at IS NULL OR s.closed_at > %(day)s)
    UNION ALL
    SELECT s.id, s.code, s.name, s.kind, v.area_id, v.is_temporary
    FROM hazards_siteversion v
    JOIN hazards_site s ON s.id = v.site_id
    WHERE s.deleted_at IS NULL AND s.close_reason <> 'duplicate' AND v.deep_water
      AND v.valid_from <= %(day)s AND v.valid_until > %(day)s
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

TABLE_AS_OF = f"""
SELECT child_code,
       count(*) AS counting,
       count(*) FILTER (WHERE {SIGNED}) AS signed,
       count(*) FILTER (WHERE {FENCED}) AS fenced,
       count(*) FILTER (WHERE {PROTECTED}) AS protected,
       count(*) FILTER (WHERE observed_at >= %(since)s) AS inspected,
       count(*) FILTER (WHERE with_photo) AS with_photo,
       count(*) FILTER (WHERE unverified) AS unverified
FROM ({SITES_AS_OF}) site
GROUP BY child_code
"""  # noqa: S608  (built from the constant above)

# Which sites a number stands for, by the same per-site rules.
INDICATOR_FILTERS = {
    "counting": "true",
    "signed": SIGNED,
    "fenced": FENCED,
    "protected": PROTECTED,
    "not_signed": f"NOT {SIGNED}",
    "not_fenced": f"NOT {FENCED}",
    "not_protected": f"NOT {PROTECTED}",
    "inspected": "observed_at >= %(since)s",
    "with_photo": "with_photo",
    "unverified": "unverified",
}


def _params(area: Area, period: Period) -> dict:
    return {
        "root": area.path,
        "day": period.as_of,
        "until": local_midnight(period.as_of + dt.timedelta(days=1)),
        "since": local_midnight(period.start),
    }


def _as_of_by_child(area: Area, period: Period) -> dict[str, dict[str, int]]:
    cached = AsOfResult.objects.filter(area_id=area.pk, day=period.end, since=period.start).first()
    if cached:
        return cached.rows
    # Kept in the cache, so read where every write is: the primary or a caught-up replica.
    with connections[router.db_for_read(AsOfResult, lag_ok=True, fresh=True)].cursor() as cursor:
        cursor.execute(TABLE_AS_OF, _params(area, period))
        columns = [c.name for c in cursor.description]
        rows = {r[0]: dict(zip(columns[1:], r[1:], strict=True)) for r in cursor.fetchall()}
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


def effective_targets(areas: list[Area]) -> dict[int, dict[str, Decimal]]:
    """For each area, per indicator: its own target, else its nearest ancestor's, else 100 %."""
    paths = {p for a in areas for p in _ancestor_paths(a.path)}
    targets = Target.objects.filter(area__path__in=paths).select_related("area")
    by_path = {(t.area.path, t.indicator): t.value for t in targets}
    result = {None: dict.fromkeys(Indicator.values, DEFAULT_TARGET)}  # the country
    for area in areas:
        if area.pk is None:
            continue
        result[area.pk] = {}
        for indicator in Indicator.values:
            chain = [p for p in _ancestor_paths(area.path) if (p, indicator) in by_path]
            result[area.pk][indicator] = by_path[(chain[-1], indicator)] if chain else DEFAULT_TARGET
    return result


def _ancestor_paths(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def progress_report(area: Area, period: Period) -> Report:
    current = by_child(area, period)
    previous = by_child(area, period.previous())
    children = {child.code: child for child in area.children.all()}
    targets = effective_targets([area, *children.values()])
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


def trend(area: Area, period: Period, count: int = 4) -> list[tuple[Period, float | None]]:
    """The area's protected share at the end of the last `count` periods, oldest first."""
    periods = [period]
    for _i in range(count - 1):
        periods.insert(0, periods[0].previous())
    points = []
    for p in periods:
        rows = by_child(area, p).values()
        counting = sum(r["counting"] for r in rows)
        points.append((p, 100 * sum(r["protected"] for r in rows) / counting if counting else None))
    return points


def sites_behind(area: Area, period: Period, indicator: str, child_code: str | None = None) -> list[dict]:
    """The sites a number of the report stands for (as of the period's end)."""
    condition = INDICATOR_FILTERS[indicator]
    sql = f"SELECT id, code, name, kind, signage, barrier, observed_at FROM ({SITES_AS_OF}) site WHERE {condition}"  # noqa: S608
    params = _params(area, period)
    if child_code is not None:
        sql += " AND child_code = %(child)s"
        params["child"] = child_code
    sql += " ORDER BY code"
    # A past period's list may be read a few seconds late.
    with connections[router.db_for_read(AsOfResult, lag_ok=not period.is_current)].cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c.name for c in cursor.description]
        return [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]

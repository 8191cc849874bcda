"""The national progress report (issue: reports) for the current half-year and for the
last complete one, against one hand-written SQL statement computing the same table."""

import datetime as dt

from django.utils import timezone

from hazards.rules import day_start
from reports.models import AsOfResult
from reports.periods import half_year_containing, last_complete_half_year
from reports.selectors import Country, _as_of_by_child, progress_report

# An independent formulation of the same table (DISTINCT ON over all inspections rather
# than a LATERAL lookup per site), as a person would write it by hand in psql.
REFERENCE = """
WITH latest AS (
    SELECT DISTINCT ON (i.site_id) i.site_id, i.id, i.signage, i.barrier, i.observed_at
    FROM hazards_inspection i
    WHERE i.deleted_at IS NULL AND i.observed_at < '{until}'
    ORDER BY i.site_id, i.observed_at DESC, i.received_at DESC
), counted AS (
    -- Each site's area and temporary flag on the day: its current details, or a version's.
    SELECT s.id, s.area_id, s.is_temporary FROM hazards_site s
    WHERE s.deep_water AND coalesce(s.current_since, s.active_from) <= '{day}'
      AND (s.closed_at IS NULL OR s.closed_at > '{day}')
    UNION ALL
    SELECT v.site_id, v.area_id, v.is_temporary FROM hazards_siteversion v
    WHERE v.deep_water AND v.valid_from <= '{day}' AND v.valid_until > '{day}'
)
SELECT split_part(substr(a.path, 2), '/', 1) AS province,
       count(*),
       count(*) FILTER (WHERE l.signage = 'in_place'),
       count(*) FILTER (WHERE l.barrier = 'complete'),
       count(*) FILTER (WHERE l.signage = 'in_place' AND l.barrier = 'complete'),
       count(*) FILTER (WHERE l.observed_at >= '{since}'),
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM hazards_photo p WHERE p.inspection_id = l.id)),
       count(*) FILTER (WHERE l.observed_at IS NULL OR l.observed_at < CASE WHEN c.is_temporary THEN '{stale_temporary}'::timestamptz ELSE '{stale}'::timestamptz END)
FROM counted c
JOIN hazards_site s ON s.id = c.id
JOIN areas_area a ON a.id = c.area_id
LEFT JOIN latest l ON l.site_id = c.id
WHERE s.deleted_at IS NULL AND s.close_reason <> 'duplicate'
GROUP BY 1
"""

FIELDS = ["counting", "signed", "fenced", "protected", "inspected", "with_photo", "unverified"]


def reference_sql(period) -> str:
    from django.conf import settings

    day = period.as_of
    until = day_start(day + dt.timedelta(days=1))
    return REFERENCE.format(
        until=until.isoformat(),
        since=day_start(period.start).isoformat(),
        day=day.isoformat(),
        stale=day_start(day - dt.timedelta(days=settings.EVIDENCE_MAX_AGE_DAYS - 1)).isoformat(),
        stale_temporary=day_start(day - dt.timedelta(days=settings.TEMPORARY_EVIDENCE_MAX_AGE_DAYS - 1)).isoformat(),
    )


def as_psql_rows(table: dict) -> str:
    return "\n".join(sorted("|".join([code] + [str(v[f]) for f in FIELDS]) for code, v in table.items()))


def run(*, timed, p95, psql_ms, Result):
    country = Country()
    current = half_year_containing(timezone.localdate())
    past = last_complete_half_year()
    results = []

    # The past half-year, computed afresh each run (its kept result dropped first).
    def drop_kept():
        AsOfResult.objects.all().delete()

    past_times = timed(lambda: _as_of_by_child(country, past), before=drop_kept)
    past_ref, past_rows = psql_ms(reference_sql(past))
    if as_psql_rows(_as_of_by_child(country, past)) != past_rows:
        raise SystemExit("The as-of report and the reference SQL disagree: the benchmark would compare unequal work.")
    results.append(
        Result(
            f"national as-of report, {past.label}",
            _median(past_times),
            p95(past_times),
            "hand-written DISTINCT ON SQL in psql",
            past_ref,
            "p95 ≤ 1.3x reference",
            p95(past_times) <= 1.3 * past_ref,
        )
    )

    # The current half-year as the report page computes it (current numbers from the
    # summary, change since the previous half-year from its kept result).
    progress_report(country, current)
    current_times = timed(lambda: progress_report(country, current))
    current_ref, _rows = psql_ms(reference_sql(current))
    results.append(
        Result(
            f"national current report, {current.label}",
            _median(current_times),
            p95(current_times),
            "hand-written DISTINCT ON SQL in psql",
            current_ref,
            "p95 < 100 ms",
            p95(current_times) < 100,
        )
    )
    cold_times = timed(lambda: progress_report(country, current), runs=5, before=drop_kept)
    results.append(
        Result(
            f"national current report with nothing kept (first view after new data), {current.label}",
            _median(cold_times),
            p95(cold_times),
            "hand-written DISTINCT ON SQL in psql",
            current_ref,
            "informative",
            True,
        )
    )
    return results


def _median(values):
    import statistics

    return statistics.median(values)

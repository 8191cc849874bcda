"""GeoJSON export of every site (issue: interoperability) against COPY of ST_AsGeoJSON to
psql, the fastest way PostgreSQL can deliver the same features to a client; and the
export's memory. The export and its reference take turns, so both meet the same state
of a machine whose speed drifts within a minute."""

import resource
import tracemalloc

from bench.run import Psql
from hazards.exports import geojson_chunks
from hazards.models import Site

REFERENCE = """
COPY (
    SELECT json_build_object(
        'type', 'Feature', 'id', s.id,
        'geometry', ST_AsGeoJSON(s.location, 7)::json,
        'properties', json_build_object(
            'code', s.code, 'name', s.name, 'kind', s.kind, 'area_code', a.code, 'area_name', a.name,
            'deep_water', s.deep_water, 'depth_m', s.depth_m, 'signage', s.signage, 'barrier', s.barrier,
            'last_checked_at', s.last_checked_at, 'is_temporary', s.is_temporary, 'active_from', s.active_from,
            'closed_at', s.closed_at, 'close_reason', s.close_reason, 'responsible_party', s.responsible_party))
    FROM hazards_site s JOIN areas_area a ON a.id = s.area_id
    WHERE s.deleted_at IS NULL ORDER BY s.code
) TO STDOUT
"""


ROUNDS = 3


def export_all() -> int:
    size = 0
    for chunk in geojson_chunks(Site.objects.order_by("code")):
        size += len(chunk)
    return size


def run(*, timed, p95, psql_ms, Result):
    times, references = [], []
    with Psql() as psql:
        for _ in range(ROUNDS):
            times += timed(export_all, runs=1)
            references.append(psql.ms(REFERENCE))
    reference = sorted(references)[len(references) // 2]
    tracemalloc.start()
    export_all()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    median = sorted(times)[len(times) // 2]
    turns = ", ".join(f"{t / 1000:.0f}/{r / 1000:.0f} s" for t, r in zip(times, references, strict=True))
    return [
        Result(
            f"GeoJSON export of all sites (Python peak {peak / 1e6:.0f} MB, process max RSS {rss_mb:.0f} MB; "
            f"export/reference in turns: {turns})",
            median,
            p95(times),
            f"COPY of ST_AsGeoJSON features to psql, in turns with the export ({ROUNDS} each)",
            reference,
            "p95 ≤ 2x reference, memory flat",
            p95(times) <= 2 * reference and peak < 200e6,
        )
    ]

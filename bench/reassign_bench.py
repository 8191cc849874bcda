"""Area re-assignment after reloading boundaries (issue: bench suite): `load_boundaries`
of the 3,321 wards file over the loaded registry (validation, update by code, the
pieces rebuilt, and every site in the file's extent re-assigned), against loading the
same file with ogr2ogr into PostGIS plus one point-in-polygon join in psql."""

from areas.loader import load_boundaries
from bench.generate import BOUNDARIES, COMMUNES
from bench.ogr import ogr2ogr_ms

SCRATCH = "bench_reference_wards"
JOIN = f"""
SELECT count(*) FROM (
    SELECT DISTINCT ON (s.id) s.id, w.ma_xa
    FROM hazards_site s JOIN {SCRATCH} w ON ST_Covers(w.geom, s.location)
    WHERE s.deleted_at IS NULL
    ORDER BY s.id, w.ma_xa
) assigned
"""


def run(*, timed, p95, psql_ms, Result):
    path = BOUNDARIES / COMMUNES
    if not path.exists():
        raise SystemExit(f"{path}: the wards file is needed for the re-assignment benchmark")
    times = timed(lambda: load_boundaries([path]), runs=3)
    loads = [ogr2ogr_ms(path, SCRATCH) for _i in range(3)]
    join, _rows = psql_ms(JOIN, runs=3)
    reference = sorted(loads)[1] + join
    return [
        Result(
            "area re-assignment: reload of the 3,321 wards over the registry (every site re-derived)",
            sorted(times)[len(times) // 2],
            p95(times),
            f"ogr2ogr into PostGIS ({sorted(loads)[1] / 1000:.1f} s) + one ST_Covers join in psql ({join / 1000:.1f} s)",
            reference,
            "none set (informative)",
            None,
        )
    ]

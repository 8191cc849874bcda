"""Site import from GeoJSON (issue: interoperability): `import_sites` of a file of new
sites (area assignment included), against loading the same file with ogr2ogr into
PostGIS plus one point-in-polygon join in psql (the reference); and the import's memory.

The file (IMPORT_BENCH_SITES features, default 1,000,000) puts its points at existing
sites, repeated as often as needed, so each lies inside the areas; every run imports a
file of other names, so nothing is skipped as already imported. Each run is the import
page's check (a dry run): the whole import, its keys checked with each chunk, then
rolled back instead of committed, so every run starts from the same registry; the
tables it wrote are vacuumed and analysed between runs (untimed): the dead rows of the
run before slowed the next, and a plain VACUUM of them left the planner counting 119
sites, which slowed every later report. Import and reference are timed in turns, each reference right after
its import, so both meet the same state of this machine, whose speed drifts by up to 2x
within minutes."""

import json
import os
import resource
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from django.db import connection, transaction

from accounts.models import User
from bench.ogr import ogr2ogr_ms
from hazards.imports import import_steps

SIZE = int(os.environ.get("IMPORT_BENCH_SITES", 1_000_000))
RUNS = 3
SCRATCH = "bench_reference_import"
JOIN = f"""
SELECT count(*) FROM (
    SELECT DISTINCT ON (i.ogc_fid) i.ogc_fid, p.area_id
    FROM {SCRATCH} i JOIN areas_areapiece p ON ST_Covers(p.geom, i.geom)
    ORDER BY i.ogc_fid, p.depth DESC
) assigned
"""


def write_file(path: Path, run: int) -> None:
    """SIZE points at existing sites, written feature by feature (the file is large)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM hazards_site")
        repeats = -(-SIZE // max(cursor.fetchone()[0], 1))
    with transaction.atomic(), connection.chunked_cursor() as cursor, open(path, "w", encoding="utf-8") as out:
        cursor.execute(
            "SELECT ST_X(location), ST_Y(location), kind FROM hazards_site CROSS JOIN generate_series(1, %s) LIMIT %s",
            [repeats, SIZE],
        )
        out.write('{"type": "FeatureCollection", "features": [\n')
        for n, (lon, lat, kind) in enumerate(cursor):
            feature = {
                "type": "Feature",
                "properties": {"name": f"Điểm nhập {run}-{n}", "kind": kind},
                "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            }
            out.write(("," if n else "") + json.dumps(feature, ensure_ascii=False) + "\n")
        out.write("]}\n")


# The import job's kill test's file (tests/hazards/test_import_jobs.py): rows packed in a
# 45 m square, each within 30 m of thousands of others, which the near-site check
# compared row by row with the import's own uncommitted index entries and never finished.
DENSE_ROWS = 150_000


def write_dense_file(path: Path) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_X(location), ST_Y(location) FROM hazards_site ORDER BY id LIMIT 1")
        lon, lat = cursor.fetchone()
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        for n in range(DENSE_ROWS):
            feature = {
                "type": "Feature",
                "properties": {"name": f"Ao {n}", "kind": "pond"},
                "geometry": {"type": "Point", "coordinates": [lon + (n // 400) * 1e-6, lat + (n % 400) * 1e-6]},
            }
            out.write(("," if n else "") + json.dumps(feature) + "\n")
        out.write("]}\n")


TOUCHED = (
    "hazards_site, hazards_inspection, mapping_sitecell, mapping_sitestatecell, reports_areaday, accounts_auditentry"
)


def import_once(path: Path, actor, size: int = SIZE) -> float:
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {TOUCHED}")
    start = time.perf_counter()
    steps = import_steps(path, actor=actor, dry_run=True)
    while True:
        try:
            next(steps)
        except StopIteration as finished:
            result = finished.value
            break
    elapsed = (time.perf_counter() - start) * 1000
    if result.problems or result.created != size:
        raise SystemExit(f"import: {result.created} created, problems: {result.problems[:3]}")
    return elapsed


def reference_once(path: Path, psql_ms) -> tuple[float, float]:
    """(ogr2ogr, join) milliseconds for the file."""
    load = ogr2ogr_ms(path, SCRATCH)
    join, _rows = psql_ms(JOIN, runs=1)
    return load, join


def run(*, timed, p95, psql_ms, Result):
    actor, _ = User.objects.get_or_create(username="bench-importer", defaults={"is_superuser": True})
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    times, loads, joins = [], [], []
    for n in range(RUNS):
        path = folder / f"sites-{n}.geojson"
        write_file(path, n)
        times.append(import_once(path, actor))
        load, join = reference_once(path, psql_ms)
        loads.append(load)
        joins.append(join)
        if n < RUNS - 1:
            path.unlink()
    tracemalloc.start()
    import_once(path, actor)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    path.unlink()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {SCRATCH}")
    references = [load + join for load, join in zip(loads, joins, strict=True)]
    pairs = ", ".join(f"{t / 1000:.0f}/{r / 1000:.0f} s" for t, r in zip(times, references, strict=True))
    main = Result(
        f"import of {SIZE:,} sites from GeoJSON, areas assigned (Python peak {peak / 1e6:.0f} MB, "
        f"process max RSS {rss_mb:.0f} MB; import/reference in turns: {pairs})",
        statistics.median(times),
        p95(times),
        f"ogr2ogr into PostGIS (median {statistics.median(loads):.0f} ms) + one ST_Covers join in psql "
        f"(median {statistics.median(joins):.0f} ms), p95 of the runs taken in turns with the import's",
        p95(references),
        "p95 ≤ 2x reference, memory flat",
        p95(times) <= 2 * p95(references) and peak < 200e6,
    )
    return [main, _dense_result(folder, actor, times, p95, Result)]


def _dense_result(folder: Path, actor, spread_times: list[float], p95, Result):
    """The kill test's file, against the file of spread sites at the same cost per row:
    rows packed together must not cost more than rows apart (they never finished)."""
    path = folder / "dense.geojson"
    write_dense_file(path)
    times = [import_once(path, actor, DENSE_ROWS) for _n in range(RUNS)]
    path.unlink()
    reference = p95(spread_times) * DENSE_ROWS / SIZE
    return Result(
        f"import of the kill test's file: {DENSE_ROWS:,} rows in a 45 m square, each within 30 m of thousands, "
        f"the near-site check whole (runs: {', '.join(f'{t / 1000:.0f} s' for t in times)})",
        statistics.median(times),
        p95(times),
        f"the import of {SIZE:,} spread sites above, p95 per row x {DENSE_ROWS:,}",
        reference,
        "p95 ≤ 1x reference (no slower per row than spread sites)",
        p95(times) <= reference,
    )

"""Site import from GeoJSON (issue: interoperability): `import_sites` of a file of new
sites (area assignment included), against loading the same file with ogr2ogr into
PostGIS plus one point-in-polygon join in psql (the reference); and the import's memory.

The file (IMPORT_BENCH_SITES features, default 1,000,000) puts its points at existing
sites, repeated as often as needed, so each lies inside the areas; every run imports a
file of other names, so nothing is skipped as already imported. Each run is undone after
it is timed, so every run starts from the same registry: the import runs in a
transaction whose deferred foreign-key checks are forced inside the timing (SET
CONSTRAINTS ALL IMMEDIATE), then rolled back instead of committed."""

import json
import os
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from django.db import connection, transaction

from accounts.models import User
from bench.ogr import ogr2ogr_ms
from hazards.imports import import_sites

SIZE = int(os.environ.get("IMPORT_BENCH_SITES", 1_000_000))
RUNS = 3
SCRATCH = "bench_reference_import"
JOIN = f"""
SELECT count(*) FROM (
    SELECT DISTINCT ON (i.ogc_fid) i.ogc_fid, p.area_id
    FROM {SCRATCH} i JOIN mapping_areapiece p ON ST_Covers(p.geom, i.geom)
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


class Undo(Exception):
    pass


def import_once(path: Path, actor) -> float:
    start = time.perf_counter()
    try:
        with transaction.atomic():
            result = import_sites(path, actor=actor)
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            elapsed = (time.perf_counter() - start) * 1000
            if result.problems or result.created != SIZE:
                raise SystemExit(f"import: {result.created} created, problems: {result.problems[:3]}")
            raise Undo
    except Undo:
        return elapsed


def run(*, timed, p95, psql_ms, Result):
    actor, _ = User.objects.get_or_create(username="bench-importer", defaults={"is_superuser": True})
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    times = []
    for n in range(RUNS):
        path = folder / f"sites-{n}.geojson"
        write_file(path, n)
        times.append(import_once(path, actor))
        if n < RUNS - 1:
            path.unlink()
    tracemalloc.start()
    import_once(path, actor)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    loads = [ogr2ogr_ms(path, SCRATCH) for _i in range(RUNS)]
    join, _rows = psql_ms(JOIN, runs=RUNS)
    path.unlink()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {SCRATCH}")
    reference = sorted(loads)[1] + join
    return [
        Result(
            f"import of {SIZE:,} sites from GeoJSON, areas assigned (Python peak {peak / 1e6:.0f} MB, "
            f"process max RSS {rss_mb:.0f} MB)",
            sorted(times)[len(times) // 2],
            p95(times),
            f"ogr2ogr into PostGIS ({sorted(loads)[1]:.0f} ms) + one ST_Covers join in psql ({join:.0f} ms)",
            reference,
            "p95 ≤ 2x reference, memory flat",
            p95(times) <= 2 * reference and peak < 200e6,
        )
    ]

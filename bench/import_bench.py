"""Site import from GeoJSON (issue: interoperability): `import_sites` of a file of new
sites (area assignment included), against loading the same file with ogr2ogr into
PostGIS plus one point-in-polygon join in psql. Every run imports a new file (another
name per run), so nothing is skipped as already imported.

IMPORT_BENCH_SITES sets the file's size (default 5,000): the import still registers
row by row through the services, too slow for 10^6 rows within a benchmark run."""

import json
import os
import tempfile
from pathlib import Path

from django.db import connection

from accounts.models import User
from bench.ogr import ogr2ogr_ms
from bench.users import remove_records_of
from hazards.imports import import_sites

SIZE = int(os.environ.get("IMPORT_BENCH_SITES", 5000))
SCRATCH = "bench_reference_import"
JOIN = f"""
SELECT count(*) FROM (
    SELECT DISTINCT ON (i.ogc_fid) i.ogc_fid, p.area_id
    FROM {SCRATCH} i JOIN mapping_areapiece p ON ST_Covers(p.geom, i.geom)
    ORDER BY i.ogc_fid, p.depth DESC
) assigned
"""


def write_file(path: Path, run: int) -> None:
    """SIZE points spread over the country: at existing sites, so inside the areas."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(location), ST_Y(location), kind FROM hazards_site TABLESAMPLE SYSTEM (5) LIMIT %s",
            [SIZE],
        )
        rows = cursor.fetchall()
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"Điểm nhập {run}-{n}", "kind": kind, "signage": "none", "barrier": "none"},
            "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        }
        for n, (lon, lat, kind) in enumerate(rows)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")


def run(*, timed, p95, psql_ms, Result):
    actor, _ = User.objects.get_or_create(username="bench-importer", defaults={"is_superuser": True})
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    files = []

    def prepare():
        files.append(folder / f"sites-{len(files)}.geojson")
        write_file(files[-1], len(files))

    def load():
        result = import_sites(files[-1], actor=actor)
        if result.problems or result.created != SIZE:
            raise SystemExit(f"import: {result.created} created, problems: {result.problems[:3]}")

    times = timed(load, runs=3, before=prepare)
    loads = [ogr2ogr_ms(files[-1], SCRATCH) for _i in range(3)]
    join, _rows = psql_ms(JOIN, runs=3)
    remove_records_of(actor)
    reference = sorted(loads)[1] + join
    return [
        Result(
            f"import of {SIZE:,} sites from GeoJSON, areas assigned",
            sorted(times)[len(times) // 2],
            p95(times),
            f"ogr2ogr into PostGIS ({sorted(loads)[1]:.0f} ms) + one ST_Covers join in psql ({join:.0f} ms)",
            reference,
            "p95 ≤ 2x reference",
            p95(times) <= 2 * reference,
        )
    ]

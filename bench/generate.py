"""National-scale test data: `make bench-data SCALE=1000000`.

Areas: the real post-2025 boundaries in ../shared/data/vn-boundaries (34 provinces, 3,321
communes), or a synthetic grid when they are absent. Sites: spread over communes by
area, clustered around a few settlements per commune, kinds in plausible shares, some
temporary, some closed, most with deep water. Inspections: about ten per site over its
life, the share of signs and barriers in place growing with time. Everything is
generated inside PostgreSQL (INSERT ... SELECT from generate_series), the bulk path that
needs no client round trip; triggers are off during the load and the derived state and
summaries are rebuilt in one statement each afterwards."""

import argparse
import os
import sys
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")

BOUNDARIES = Path(os.environ.get("BOUNDARIES_DIR", ROOT.parent / "shared" / "data" / "vn-boundaries"))
PROVINCES = "vn_provinces_34_post2025_gisvn_simplified.geojson"
COMMUNES = "vn_wards_3321_post2025_gisvn_simplified.geojson"


def ensure_database() -> None:
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    admin = psycopg.connect(
        dbname="postgres", user=db["USER"], host=db["HOST"], port=db["PORT"] or None, password=db["PASSWORD"] or None
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
        if not cursor.fetchone():
            cursor.execute(f'CREATE DATABASE "{db["NAME"]}"')
    admin.close()


def step(label: str):
    class Timer:
        def __enter__(self):
            self.start = time.perf_counter()
            print(f"{label}…", flush=True)

        def __exit__(self, *exc):
            print(f"  {time.perf_counter() - self.start:.1f} s", flush=True)

    return Timer()


SYNTHETIC_AREAS = """
INSERT INTO areas_area (code, name, level, unit_type, parent_id, path, depth, geom, updated_at)
SELECT lpad(p::text, 2, '0'), 'Tỉnh tổng hợp ' || p, 'province', 'Tỉnh', NULL, '', 0,
       ST_Multi(ST_MakeEnvelope(103 + (p % 6), 9 + (p / 6) * 2.4, 104 + (p % 6), 11.4 + (p / 6) * 2.4, 4326)), now()
FROM generate_series(0, 35) p;
INSERT INTO areas_area (code, name, level, unit_type, parent_id, path, depth, geom, updated_at)
SELECT lpad(p::text, 2, '0') || lpad(c::text, 3, '0'), 'Xã tổng hợp ' || p || '-' || c, 'commune', 'Xã', prov.id, '', 1,
       ST_Multi(ST_MakeEnvelope(103 + (p % 6) + (c % 10) * 0.1, 9 + (p / 6) * 2.4 + (c / 10) * 0.24,
                                103.1 + (p % 6) + (c % 10) * 0.1, 9.24 + (p / 6) * 2.4 + (c / 10) * 0.24, 4326)), now()
FROM generate_series(0, 35) p, generate_series(0, 99) c
JOIN areas_area prov ON prov.code = lpad(p::text, 2, '0');
"""

SITES = """
WITH commune AS (
    SELECT a.id, a.geom, ST_Area(a.geom) / sum(ST_Area(a.geom)) OVER () AS share
    FROM areas_area a WHERE NOT EXISTS (SELECT 1 FROM areas_area c WHERE c.parent_id = a.id)
), quota AS (
    SELECT id, geom, greatest(1, round(%(scale)s * share))::int AS n FROM commune
), settlement AS (
    SELECT q.id, q.geom, (ST_Dump(ST_GeneratePoints(q.geom, greatest(1, q.n / 25)))).geom AS centre,
           greatest(1, q.n / greatest(1, q.n / 25)) AS per_settlement
    FROM quota q
), point AS (
    SELECT s.id AS area_id,
           (ST_Dump(ST_GeneratePoints(coalesce(nullif(ST_Intersection(s.geom, ST_Buffer(s.centre, 0.008)), 'GEOMETRYCOLLECTION EMPTY'), s.geom), s.per_settlement))).geom AS location
    FROM settlement s
), numbered AS (
    SELECT area_id, location, row_number() OVER () AS n, random() AS r, random() AS r2 FROM point
)
INSERT INTO hazards_site (
    id, code, kind, name, location, outline, area_id, deep_water, depth_m, responsible_party, notes,
    is_temporary, expected_end, active_from, closed_at, close_reason, duplicate_of_id,
    signage, barrier, last_checked_at, photo_evidence, created_by_id, created_at, updated_at,
    client_fingerprint, deleted_at, deleted_by_id
)
SELECT gen_random_uuid(), 'B-' || lpad(n::text, 8, '0'), kind, 'Điểm ' || n, ST_SetSRID(location, 4326), NULL, area_id,
       r2 < 0.9, round((1 + r2 * 6)::numeric, 1), '', '',
       kind IN ('pit', 'irrigation_works'), NULL,
       CURRENT_DATE - (30 + (r * 1000)::int),
       CASE WHEN r2 > 0.97 THEN CURRENT_DATE - (r2 * 25)::int END,
       CASE WHEN r2 > 0.97 THEN 'filled_in' ELSE '' END, NULL,
       'none', 'none', NULL, false, NULL, now(), now(), '', NULL, NULL
FROM numbered,
LATERAL (SELECT CASE
    WHEN r < 0.40 THEN 'pond' WHEN r < 0.48 THEN 'lake' WHEN r < 0.52 THEN 'dam' WHEN r < 0.66 THEN 'canal'
    WHEN r < 0.74 THEN 'well' WHEN r < 0.84 THEN 'pit' WHEN r < 0.92 THEN 'river_landing'
    WHEN r < 0.97 THEN 'irrigation_works' ELSE 'other' END AS kind) k
"""

INSPECTIONS = """
INSERT INTO hazards_inspection (
    id, site_id, inspected_at, received_at, observed_at, clock_suspect, inspector_id, signage, barrier,
    water_present, water_depth_m, notes, gps_fix, gps_accuracy_m, client_fingerprint, deleted_at, deleted_by_id
)
SELECT gen_random_uuid(), s.id, t.at, t.at, t.at, false, NULL,
       CASE WHEN random() < 0.25 + 0.7 * t.progress THEN 'in_place' WHEN random() < 0.5 THEN 'damaged' ELSE 'none' END,
       CASE WHEN random() < 0.15 + 0.7 * t.progress THEN 'complete' WHEN random() < 0.5 THEN 'partial' ELSE 'none' END,
       true, NULL, '', NULL, NULL, '', NULL, NULL
FROM hazards_site s
CROSS JOIN LATERAL (SELECT 1 + abs(hashtext(s.id::text)) %% (2 * %(per_site)s - 1) AS count) c
CROSS JOIN LATERAL generate_series(1, c.count) AS k(n)
CROSS JOIN LATERAL (
    SELECT k.n::float / c.count AS progress,
           (s.active_from + ((k.n - random()) / c.count * (coalesce(s.closed_at, CURRENT_DATE) - s.active_from))::int)::timestamp
             AT TIME ZONE 'Asia/Ho_Chi_Minh' + interval '8 hours' + random() * interval '8 hours' AS at
) t
"""

CURRENT_STATE = """
UPDATE hazards_site s
SET signage = l.signage, barrier = l.barrier, last_checked_at = l.observed_at
FROM (
    SELECT DISTINCT ON (site_id) site_id, signage, barrier, observed_at
    FROM hazards_inspection
    WHERE deleted_at IS NULL
    ORDER BY site_id, observed_at DESC, received_at DESC
) l
WHERE l.site_id = s.id
"""


def generate(scale: int, per_site: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from areas.loader import load_boundaries
    from areas.models import Area
    from areas.tree import rebuild_pieces, refresh_paths

    with step("migrating the benchmark database"):
        ensure_database()
        call_command("migrate", verbosity=0)
    if not Area.objects.exists():
        if (BOUNDARIES / COMMUNES).exists():
            with step(f"loading {PROVINCES} and {COMMUNES}"):
                load_boundaries([BOUNDARIES / PROVINCES, BOUNDARIES / COMMUNES])
        else:
            with step("no boundary files: building a synthetic grid of 36 provinces x 100 communes"):
                with connection.cursor() as cursor:
                    cursor.execute(SYNTHETIC_AREAS)
                refresh_paths()
                rebuild_pieces(list(Area.objects.values_list("id", flat=True)))
    with connection.cursor() as cursor:
        with step("clearing sites, inspections and summaries"):
            cursor.execute(
                "TRUNCATE hazards_photo, hazards_inspection, hazards_site, accounts_auditentry, "
                "reports_areaday, reports_asofresult, mapping_sitecell, mapping_sitestatecell CASCADE"
            )
        # Bulk load: no per-row audit or summary triggers (rebuilt below in one go).
        cursor.execute("SET session_replication_role = replica")
        with step(f"generating {scale:,} sites"):
            cursor.execute(SITES, {"scale": scale})
        with step(f"generating about {per_site} inspections per site"):
            cursor.execute(INSPECTIONS, {"per_site": per_site})
        with step("deriving each site's current state from its latest inspection"):
            cursor.execute(CURRENT_STATE)
        cursor.execute("SET session_replication_role = origin")
        with step("rebuilding the report summary"):
            cursor.execute("SELECT reports_rebuild_summary()")
        with step("rebuilding the map's cluster pyramid"):
            cursor.execute("SELECT mapping_rebuild_cells()")
        with step("ANALYZE"):
            cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM hazards_site")
        sites = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM hazards_inspection")
        inspections = cursor.fetchone()[0]
    print(f"Benchmark database ready: {sites:,} sites, {inspections:,} inspections, {Area.objects.count():,} areas.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=int(os.environ.get("SCALE", 100_000)), help="number of sites")
    parser.add_argument("--inspections-per-site", type=int, default=10)
    args = parser.parse_args()
    django.setup()
    started = time.perf_counter()
    generate(args.scale, args.inspections_per_site)
    print(f"Done in {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()

"""Map tiles (issue: planner map). For zoom 5, 8, 10, 12 and 14 the busiest tile of the
country, asked through the whole Django stack as a national user's map asks (with the
page's tile token), against the raw ST_AsMVT query for the same tile run in psql: the
grids below zoom 11 (by state up to zoom 8), the site query above, with the same
features, attributes and feature ids (which QGIS tells features apart by). The two are timed in
turns, rounds of 20 runs each, and compared p95 to p95. Then every tile of zoom 0 to 8
over the country, once each: time and size."""

import io
import statistics
import sys
import time

import mapbox_vector_tile
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client
from django.urls import reverse

from bench.run import Psql
from bench.users import national_user
from hazards.filters import STATES as STATE_NAMES
from mapping import tile_tokens
from mapping.tiles import BUFFER, CELL_LEVELS_BELOW, EXTENT, MAX_GRID_ZOOM, SITE_FEATURE_ID, STATE_GRID_MAX_ZOOM
from tests.mapping.tiles_helpers import tile_of

APPLICATION = WSGIHandler()
ZOOMS = [5, 8, 10, 12, 14]
RATIO_TARGET = 1.5  # z10-14
# A tile takes milliseconds: enough runs that the p95 is a percentile, not the slowest run;
# view and psql take turns in rounds, so that the machine's drift meets both alike.
TILE_RUNS, TILE_ROUNDS = 200, 10
LOW_ZOOM_MS, LOW_ZOOM_BYTES = 50, 200_000  # every z0-8 tile

STATES = """CASE WHEN s.closed_at IS NOT NULL THEN 'closed'
    WHEN s.signage = 'in_place' AND s.barrier = 'complete' THEN 'protected'
    WHEN s.signage = 'in_place' THEN 'signed_only' WHEN s.barrier = 'complete' THEN 'fenced_only'
    ELSE 'unprotected' END"""

RAW_SITES = f"""
SELECT ST_AsMVT(t, 'sites', {EXTENT}, 'geom', 'fid') FROM (
    SELECT {SITE_FEATURE_ID.format("s.id")} AS fid, s.id::text AS id, s.code, s.name, s.kind, s.deep_water AS deep, {STATES} AS state,
           s.closed_at IS NULL AND (s.last_checked_at IS NULL
               OR (s.last_checked_at AT TIME ZONE '{settings.TIME_ZONE}')::date + CASE WHEN s.is_temporary
                   THEN {settings.TEMPORARY_EVIDENCE_MAX_AGE_DAYS} ELSE {settings.EVIDENCE_MAX_AGE_DAYS} END
                  <= (now() AT TIME ZONE '{settings.TIME_ZONE}')::date) AS due,
           ST_AsMVTGeom(ST_Transform(s.location, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s), {EXTENT}, {BUFFER}, true) AS geom
    FROM hazards_site s
    WHERE s.deleted_at IS NULL
      AND s.location && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => {BUFFER / EXTENT}), 4326)
) t
"""


def raw_clusters(table: str, state: str) -> str:
    """The clusters of a tile from one of the grids, `state` the state of its rows."""
    counts = ",\n           ".join(
        f"NULLIF(sum(n) FILTER (WHERE {state} = '{name}'), 0)::int AS {name}" for name in STATE_NAMES
    )
    return f"""
SELECT ST_AsMVT(t, 'clusters', {EXTENT}, 'geom', 'fid') FROM (
    SELECT cy::bigint * (1::bigint << %(level)s) + cx AS fid, sum(n)::int AS n,
           {counts},
           ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(sum(sum_x) / sum(n), sum(sum_y) / sum(n)), 3857),
                        ST_TileEnvelope(%(z)s, %(x)s, %(y)s), {EXTENT}, {BUFFER}, true) AS geom
    FROM {table}
    WHERE level = %(level)s AND cx BETWEEN %(x0)s AND %(x1)s AND cy BETWEEN %(y0)s AND %(y1)s
    GROUP BY cx, cy
) t
"""


# The grid a national tile without filters reads, by whether its zoom is up to STATE_GRID_MAX_ZOOM.
RAW_CLUSTERS = {
    True: raw_clusters("mapping_sitestatecell", "state"),
    False: raw_clusters("mapping_sitecell", "registry_site_state(signage, barrier, closed)"),
}


def busiest_tile(z: int) -> tuple[int, int, int]:
    """The tile holding the most sites at zoom z: from the finest cells of the pyramid
    (level 13) up to zoom 13, counted from the sites inside the busiest of them above."""
    finest = 13
    with connection.cursor() as cursor:
        shift = max(0, finest - z)
        cursor.execute(
            "SELECT cx >> %s, cy >> %s FROM mapping_sitecell WHERE level = %s GROUP BY 1, 2 ORDER BY sum(n) DESC LIMIT 1",
            [shift, shift, finest],
        )
        x, y = cursor.fetchone()
        if z > finest:
            span = 2 ** (z - finest)
            cursor.execute(
                f"""SELECT tx, ty FROM (
                    SELECT floor((ST_X(p) + 20037508.342789244) / (40075016.68557849 / 2 ^ {z}))::int AS tx,
                           floor((20037508.342789244 - ST_Y(p)) / (40075016.68557849 / 2 ^ {z}))::int AS ty
                    FROM hazards_site, ST_Transform(location, 3857) AS p
                    WHERE deleted_at IS NULL AND location && ST_Transform(ST_TileEnvelope({finest}, %s, %s), 4326)
                ) t WHERE tx BETWEEN %s AND %s AND ty BETWEEN %s AND %s
                GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1""",
                [x, y, x * span, x * span + span - 1, y * span, y * span + span - 1],
            )
            x, y = cursor.fetchone()
    return z, x, y


def reference_sql(z: int, x: int, y: int) -> str:
    if z > MAX_GRID_ZOOM:
        return RAW_SITES % {"z": z, "x": x, "y": y}
    span = 2**CELL_LEVELS_BELOW
    return RAW_CLUSTERS[z <= STATE_GRID_MAX_ZOOM] % {
        "z": z, "x": x, "y": y, "level": z + CELL_LEVELS_BELOW,
        "x0": x * span, "x1": x * span + span - 1, "y0": y * span, "y1": y * span + span - 1,
    }  # fmt: skip


def raw_tile(sql: str) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return bytes(cursor.fetchone()[0])


def features_of(tile: bytes) -> list:
    """The features as a sorted list: the byte order of a tile follows the row order."""
    layers = mapbox_vector_tile.decode(tile)
    return sorted(
        (name, f["id"], sorted(f["properties"].items()), str(f["geometry"]))
        for name, layer in layers.items()
        for f in layer["features"]
    )


def national_map() -> dict:
    """What a national user's map sends with each tile request: the page's tile token."""
    client = Client(SERVER_NAME="localhost")  # a host the settings allow
    client.force_login(national_user())
    token = client.get(reverse("map-tile-token")).json()["token"]
    return {"HTTP_AUTHORIZATION": f"{tile_tokens.SCHEME} {token}"}


def served(headers: dict, z: int, x: int, y: int) -> tuple[bytes, float]:
    """The tile as a WSGI server gets it from the application, the whole Django stack
    without the test client's own instrumentation (half a millisecond a request here), and
    the milliseconds until its body was read: the client's wait. Then the response is
    closed, as the server closes it once the body has been sent (the request's log line,
    Django's request_finished)."""
    start = time.perf_counter()
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": f"/tiles/sites/{z}/{x}/{y}.pbf", "QUERY_STRING": "",
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, **headers,
    }  # fmt: skip
    status = []
    response = APPLICATION(environ, lambda line, _headers, _exc=None: status.append(line))
    body = b"".join(response)
    took = (time.perf_counter() - start) * 1000
    response.close()
    if not status[0].startswith("200"):
        raise SystemExit(f"tile {z}/{x}/{y}: HTTP {status[0]}")
    return body, took


def run(*, timed, p95, psql_ms, Result):
    headers = national_map()
    results = []
    with Psql() as psql:
        for z in ZOOMS:
            z, x, y = busiest_tile(z)
            sql = reference_sql(z, x, y)
            body, _took = served(headers, z, x, y)
            if features_of(body) != features_of(raw_tile(sql)):
                raise SystemExit(f"tile {z}/{x}/{y}: the view and the raw query give different features")
            reference_sql_text = f"SELECT length(({sql}))"  # psql shows the size, not 50 KB of bytes
            times, reference = [], []
            for _round in range(TILE_ROUNDS):
                served(headers, z, x, y)  # each round starts warm, as timed() does
                times += [served(headers, z, x, y)[1] for _run in range(TILE_RUNS // TILE_ROUNDS)]
                psql.ms(reference_sql_text)
                reference += [psql.ms(reference_sql_text) for _run in range(TILE_RUNS // TILE_ROUNDS)]
            if z >= 10:
                target, passed = f"p95 ≤ {RATIO_TARGET}x reference p95", p95(times) <= RATIO_TARGET * p95(reference)
            else:
                target, passed = (
                    f"< {LOW_ZOOM_MS} ms, < 200 KB",
                    p95(times) < LOW_ZOOM_MS and len(body) < LOW_ZOOM_BYTES,
                )
            layer = "sites" if z > MAX_GRID_ZOOM else "clusters"
            results.append(
                Result(
                    f"tile z{z} ({x}/{y}, the busiest; {layer}, {len(body) / 1000:.1f} KB; "
                    f"psql median {statistics.median(reference):.1f} ms)",
                    statistics.median(times),
                    p95(times),
                    f"the same ST_AsMVT query in psql, p95 of {TILE_RUNS} runs, in turns with the view's",
                    p95(reference),
                    target,
                    passed,
                )
            )
    results.append(every_low_zoom_tile(headers, Result))
    return results


def every_low_zoom_tile(headers: dict, Result):
    west, south, east, north = settings.COUNTRY_BOUNDS
    tiles = []
    for z in range(0, 9):
        _, x0, y0 = tile_of(west, north, z)
        _, x1, y1 = tile_of(east, south, z)
        tiles += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    for tile in tiles:  # warm-up
        served(headers, *tile)
    times, largest = [], 0
    for tile in tiles:
        body, took = served(headers, *tile)
        times.append(took)
        largest = max(largest, len(body))
    ordered = sorted(times)
    return Result(
        f"every tile z0-8 over the country, once each ({len(tiles)} tiles; slowest {ordered[-1]:.1f} ms, "
        f"largest {largest / 1000:.1f} KB)",
        ordered[len(ordered) // 2],
        ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "–",
        None,
        f"each < {LOW_ZOOM_MS} ms and < 200 KB",
        ordered[-1] < LOW_ZOOM_MS and largest < LOW_ZOOM_BYTES,
    )

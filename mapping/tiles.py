"""Mapbox Vector Tiles of the sites, built by PostGIS (ST_AsMVT).

Zoom 0 to MAX_GRID_ZOOM: one "clusters" layer, each feature a grid cell of the tile
(8 x 8 per tile, so at most 64 features) with its site count per state, drawn at the
centroid of its sites. For national and provincial views the counts come from the
pyramid kept by triggers: up to zoom 8 by state alone (mapping.SiteStateCell), at zooms
9 and 10 or with a kind, signage or barrier filter by all of them (mapping.SiteCell);
below a province, and with the due filter (which depends on the clock), they are
counted from the sites themselves. Above MAX_GRID_ZOOM: one "sites" layer, one feature
per site.

The queries are the ORM's, so the area scope and the site filters are the same
functions the API and the exports use; the tile SQL wraps them."""

import threading
from collections import OrderedDict
from functools import partial

import psycopg
from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import Transform
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connection, connections, router
from django.db.models import DateField, ExpressionWrapper, F, IntegerField, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone
from psycopg.types.numeric import Int4

from accounts.scope import VIEW, scope_for
from hazards import selectors
from hazards.filters import (
    SITE_STATE,
    STATES,
    attribute_filtered,
    chosen_area,
    due_param,
    filter_common,
    order_param,
    state_is,
)
from hazards.models import Site
from hazards.rules import Due, StateOf

from . import tile_tokens
from .models import SiteCell, SiteStateCell
from .tile_tokens import GRANT_IN_TILE

MAX_GRID_ZOOM = 10
CELL_LEVELS_BELOW = 3  # 2^3 = 8 cells across a tile; migration 0003 keeps levels 3 to 13
# The grid by state keeps levels 3 to 11 (mapping/sql/site_cells.sql).
STATE_GRID_MAX_ZOOM = 8
MAX_ZOOM = 22
EXTENT = 4096
BUFFER = 64
# A grid cell's state, by the sites' rule over the cell's columns.
CELL_STATE = StateOf(closed=F("closed"))


# The box in degrees of tile z/x/y with its buffer, for the location index: from the tile
# numbers by the inverse of web mercator, whose edges are meridians and parallels, so it is
# the buffered ST_TileEnvelope transformed to 4326 without PROJ and GEOS on every tile. It
# is cut at the world's edges: past the antimeridian a corner once came back at -177
# degrees, and the box of a tile of the easternmost column (Vietnam's at zooms 1 and 2)
# held none of it.
def _latitude(row: str) -> str:
    return f"degrees(atan(sinh(pi() * (1 - 2 * ({row}) / 2 ^ z))))"


_MARGIN = BUFFER / EXTENT
TILE_BOX = f"""ST_MakeEnvelope(
    greatest(-180, (x - {_MARGIN}) * 360 / 2 ^ z - 180), {_latitude(f"least(2 ^ z, y + 1 + {_MARGIN})")},
    least(180, (x + 1 + {_MARGIN}) * 360 / 2 ^ z - 180), {_latitude(f"greatest(0, y - {_MARGIN})")}, 4326)"""


# The tile's numbers and the clock (and on the primary the map's grant): the prepared
# statement's parameters, given once by name. The compiled SQL reads them from here, so it
# depends only on the user's scope and the filters and is kept (TILE_SQL_CACHE): compiling
# the ORM query cost more than running it. Without a valid grant (mapping/tile_tokens.py)
# `tile` is empty and the statement's first column says so.
def _tile_cte(check: str) -> str:
    return f"""
WITH tile AS (
    SELECT z, x, y, registry_local_date(now) AS today, ST_TileEnvelope(z, x, y) AS envelope, {TILE_BOX} AS box,
           z + {CELL_LEVELS_BELOW} AS level,
           x * {2**CELL_LEVELS_BELOW} AS x0, x * {2**CELL_LEVELS_BELOW} + {2**CELL_LEVELS_BELOW - 1} AS x1,
           y * {2**CELL_LEVELS_BELOW} AS y0, y * {2**CELL_LEVELS_BELOW} + {2**CELL_LEVELS_BELOW - 1} AS y1
    FROM (SELECT %(z)s::int AS z, %(x)s::int AS x, %(y)s::int AS y, %(now)s::timestamptz AS now) given
    WHERE {check}
)
"""  # noqa: S608 (only numbers and a fixed expression are formatted in)


# On the primary the grant is checked in the tile's own statement, in a query that runs
# anyway; a replica reads no session or account (they are checked where they are written).
TILE_CTE = {True: _tile_cte(GRANT_IN_TILE), False: _tile_cte("true")}
TILE_SQL_CACHE = 512

# Feature ids (MVT takes only unsigned integers, so clients such as QGIS can tell features
# apart): a site's is 60 bits of PostgreSQL's own hash of its UUID (cutting the UUID's
# bytes up as text cost a sixth of a zoom-14 tile), a cluster's its cell's number at the
# tile's level (row * cells across + column).
SITE_FEATURE_ID = f"(uuid_hash_extended({{}}, 0) & {2**60 - 1})"

# Cell coordinates of a web mercator point at the tile's level, as the triggers compute them.
CELL_XY = """
    floor((ST_X(p) + 20037508.342789244) / (40075016.68557849 / 2 ^ tile.level))::int AS cx,
    floor((20037508.342789244 - ST_Y(p)) / (40075016.68557849 / 2 ^ tile.level))::int AS cy
"""

_compiled: OrderedDict = OrderedDict()
_compiled_lock = threading.Lock()


class _GeometryForSQL(GeometryField):
    """A geometry the tile SQL around the query consumes: selected as PostGIS's own type,
    not as WKB bytes for Python (which the tile SQL then parsed back, row by row)."""

    def select_format(self, compiler, sql, params):
        return sql, params


def _mercator():
    """The site's location in web mercator, the tiles' projection."""
    return ExpressionWrapper(Transform("location", 3857), output_field=_GeometryForSQL(srid=3857))


def _tile(name: str, field) -> RawSQL:
    return RawSQL(f"(SELECT {name} FROM tile)", [], output_field=field)  # noqa: S608, S611 (a fixed column name)


def _statement(variant: str, request, build, checked: bool) -> str:
    """The tile query of `build(request)` as the text of a statement to prepare, compiled
    once per scope and filters. Their values are written into the text (psycopg
    quotes them) so that only the tile and the clock vary (and the grant, `checked`)."""
    scope = scope_for(request.user)
    area = chosen_area(request)
    # The day is part of the key: the order filter writes the date into the text (the due
    # filter reads the statement's clock).
    key = (
        variant,
        checked,
        scope.everything,
        scope.grants,
        tuple(sorted(request.GET.items())),
        area and area.path,
        timezone.localdate(),
    )
    with _compiled_lock:
        if key in _compiled:
            _compiled.move_to_end(key)
            return _compiled[key]
    sql, params = build(request)
    # The values are quoted in, so a % in them is doubled: %(...)s names only the tile's.
    query = connection.ops.compose_sql(sql, params).replace("%", "%%")
    text = TILE_CTE[checked] + f"SELECT EXISTS (SELECT 1 FROM tile), ({query})"  # noqa: S608
    with _compiled_lock:
        _compiled[key] = text
        if len(_compiled) > TILE_SQL_CACHE:
            _compiled.popitem(last=False)
    return text


def prepare_tile_statements(sender, connection, **kwargs):
    """psycopg prepares a statement the first time a server-side binding cursor runs it
    and keeps the last TILE_SQL_CACHE: Django turns that off (for connection poolers), but
    its own cursors bind in the client and are never prepared, so on its connections only
    the tiles' are (and psycopg forgets them where they could have gone stale, after a
    rollback or a DROP)."""
    connection.connection.prepare_threshold = 0
    connection.connection.prepared_max = TILE_SQL_CACHE


class TileAccessEnded(Exception):
    """The map's grant no longer holds: signed out, idle, deactivated, password or roles changed."""


def _execute(database, text: str, params: dict) -> tuple[bool, bytes]:
    """Whether the map's grant holds, and the tile: from its statement prepared once per
    connection (at zoom 14 planning the query was as costly as running it, bench/NOTES.md),
    whose plan serves every tile (the tile's numbers reach the query through the CTE once
    it runs, so PostgreSQL finds its generic plan no costlier than one made for a tile's
    own numbers), its answer in binary (the tile's bytes as they are, not in hex)."""
    database.ensure_connection()
    cursor = psycopg.Cursor(database.connection)  # server-side binding: it can be prepared
    cursor.format = psycopg.pq.Format.BINARY
    # Django's wrapper all the same, for its error classes, its debug log and the request's timer.
    with database.make_debug_cursor(cursor) if database.queries_logged else database.make_cursor(cursor) as wrapped:
        wrapped.execute(text, params)
        granted, body = wrapped.fetchone()
    return granted, bytes(body or b"")


def _run(variant: str, build, request, z: int, x: int, y: int) -> bytes:
    database = connections[router.db_for_read(Site)]  # this thread's connection to a replica or the primary
    grant = getattr(request.user, "tile_grant", None)
    # As int4 whatever their size: psycopg prepares a statement per text and parameter types.
    tile = {"z": Int4(z), "x": Int4(x), "y": Int4(y), "now": timezone.now()}
    if database.alias == DEFAULT_DB_ALIAS:
        statement = _statement(variant, request, build, checked=True)
        granted, body = _execute(database, statement, {**tile, "grant": grant})
    else:
        granted = grant is None or tile_tokens.grant_holds(grant)
        statement = _statement(variant, request, build, checked=False)
        body = _execute(database, statement, tile)[1] if granted else b""
    if not granted:
        raise TileAccessEnded
    return body


def _today():
    """The registry's day of the statement's clock, worked out once for all its sites."""
    return _tile("today", DateField())


def _sites_in_tile(request):
    """The user's sites under the filters, in the tile or its buffer (the location index)."""
    # The due filter reads the statement's day, not the one of the query's first compiling.
    return selectors.filtered_sites(request.user, request, at=_today()).filter(
        location__bboverlaps=_tile("box", GeometryField(srid=4326))
    )


def _cluster_counts(state_of) -> dict:
    return {state: Sum("n", filter=state_is(state, state_of)) for state in STATES}


def grid_for(request, z: int):
    """The cells a tile of zoom z sums and how their rows get their state: up to
    STATE_GRID_MAX_ZOOM the grid by state, a few rows a cell, unless a kind, signage or
    barrier filter needs the whole grid."""
    if z <= STATE_GRID_MAX_ZOOM and not attribute_filtered(request):
        return SiteStateCell, SITE_STATE
    return SiteCell, CELL_STATE


def _clusters_from_grid_sql(request, model, state_of) -> tuple[str, tuple]:
    cells = filter_common(scope_for(request.user).restrict(model.objects.all(), VIEW), request, state_of)
    cells = cells.filter(
        level=_tile("level", IntegerField()),
        cx__range=(_tile("x0", IntegerField()), _tile("x1", IntegerField())),
        cy__range=(_tile("y0", IntegerField()), _tile("y1", IntegerField())),
    )
    grouped = cells.values("cx", "cy").annotate(
        n_sites=Sum("n"), sx=Sum("sum_x"), sy=Sum("sum_y"), **_cluster_counts(state_of)
    )
    inner, params = grouped.order_by().query.sql_with_params()
    return _cluster_sql(inner), params


def _clusters_from_sites_sql(request) -> tuple[str, tuple]:
    """The same clusters counted from the sites (below a province, or with the due filter)."""
    inner, params = (
        _sites_in_tile(request).annotate(p=_mercator()).values("state", "p").order_by().query.sql_with_params()
    )
    counts = ", ".join(f"count(*) FILTER (WHERE state = '{s}') AS {s}" for s in STATES)
    # Only the tile's own cells, as from the grid: the buffer's sites belong to the next tile.
    grouped = f"""
        SELECT cx, cy, count(*) AS n_sites, sum(ST_X(p)) AS sx, sum(ST_Y(p)) AS sy, {counts}
        FROM (SELECT state, p, {CELL_XY} FROM ({inner}) s CROSS JOIN tile) c CROSS JOIN tile
        WHERE cx BETWEEN tile.x0 AND tile.x1 AND cy BETWEEN tile.y0 AND tile.y1
        GROUP BY cx, cy
    """  # noqa: S608 (only fixed names are formatted in)
    return _cluster_sql(grouped), params


def _cluster_sql(grouped: str) -> str:
    # A state with no site is left out of the feature (NULL), as from the grid.
    counts = ", ".join(f"NULLIF(q.{s}, 0)::int AS {s}" for s in STATES)
    return f"""
        SELECT ST_AsMVT(t, 'clusters', {EXTENT}, 'geom', 'fid') FROM (
            SELECT q.cy::bigint * (1::bigint << (SELECT level FROM tile)) + q.cx AS fid,
                   q.n_sites::int AS n, {counts},
                   ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(q.sx / q.n_sites, q.sy / q.n_sites), 3857),
                                (SELECT envelope FROM tile), {EXTENT}, {BUFFER}, true) AS geom
            FROM ({grouped}) q WHERE q.n_sites > 0
        ) t
    """  # noqa: S608


def _sites_sql(request) -> tuple[str, tuple]:
    inner, params = (
        _sites_in_tile(request)
        .annotate(
            due=Due(_today()),
            p=_mercator(),
        )
        .values("id", "code", "name", "kind", "deep_water", "state", "due", "p")
        .order_by()
        .query.sql_with_params()
    )
    sql = f"""
        SELECT ST_AsMVT(t, 'sites', {EXTENT}, 'geom', 'fid') FROM (
            SELECT {SITE_FEATURE_ID.format("q.id")} AS fid,
                   q.id::text AS id, q.code, q.name, q.kind, q.deep_water AS deep, q.state, q.due,
                   ST_AsMVTGeom(q.p, (SELECT envelope FROM tile),
                                {EXTENT}, {BUFFER}, true) AS geom
            FROM ({inner}) q
        ) t
    """  # noqa: S608
    return sql, params


def cluster_tile_from_grid(request, z: int, x: int, y: int) -> bytes:
    model, state_of = grid_for(request, z)
    build = partial(_clusters_from_grid_sql, model=model, state_of=state_of)
    return _run(model._meta.db_table, build, request, z, x, y)


def cluster_tile_from_sites(request, z: int, x: int, y: int) -> bytes:
    return _run("clusters", _clusters_from_sites_sql, request, z, x, y)


def site_tile(request, z: int, x: int, y: int) -> bytes:
    return _run("sites", _sites_sql, request, z, x, y)


def grid_answers(request) -> bool:
    """The pyramid counts sites by province: it serves a user whose scope and chosen area
    are whole provinces or the country. Below a province the sites are few enough to be
    counted directly; so are the due filter, which depends on the clock, and the order
    filter, which the pyramid does not know."""
    if due_param(request) is not None or order_param(request):
        return False
    scope = scope_for(request.user)
    if not scope.everything and any(path.count("/") > 2 for path in scope.paths(VIEW)):
        return False
    area = chosen_area(request)
    return area is None or area.depth == 0


def tile(request, z: int, x: int, y: int) -> bytes:
    try:
        if z > MAX_GRID_ZOOM:
            return site_tile(request, z, x, y)
        if grid_answers(request):
            return cluster_tile_from_grid(request, z, x, y)
        return cluster_tile_from_sites(request, z, x, y)
    except EmptyResultSet:  # a scope of no areas leaves nothing to ask for
        return b""

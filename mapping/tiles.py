"""Mapbox Vector Tiles of the sites, built by PostGIS (ST_AsMVT).

Zoom 0 to MAX_GRID_ZOOM: one "clusters" layer, each feature a grid cell of the tile
(8 x 8 per tile, so at most 64 features) with its site count per state, drawn at the
centroid of its sites. For national and provincial views the counts come from the
pyramid kept by triggers (mapping.SiteCell); below a province, and with the due filter
(which depends on the clock), they are counted from the sites themselves. Above
MAX_GRID_ZOOM: one "sites" layer, one feature per site.

The queries are the ORM's, so the area scope and the site filters are the same
functions the API and the exports use; the tile SQL wraps them."""

import math

from django.contrib.gis.db.models.functions import Transform
from django.contrib.gis.geos import Polygon
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Case, CharField, Q, Sum, Value, When
from django.utils import timezone

from accounts.scope import VIEW, scope_for
from hazards.evidence import due_q
from hazards.filters import SITE_OPEN, STATE_LABELS, chosen_area, due_param, filter_common, filter_sites, state_q
from hazards.models import Site

from .models import SiteCell

MAX_GRID_ZOOM = 10
CELL_LEVELS_BELOW = 3  # 2^3 = 8 cells across a tile; migration 0003 keeps levels 3 to 13
MAX_ZOOM = 22
EXTENT = 4096
BUFFER = 64
CELL_OPEN = Q(closed=False)

# Cell coordinates of a web mercator point at a level, as the triggers compute them.
CELL_XY = """
    floor((ST_X(p) + 20037508.342789244) / (40075016.68557849 / 2 ^ %(level)s))::int AS cx,
    floor((20037508.342789244 - ST_Y(p)) / (40075016.68557849 / 2 ^ %(level)s))::int AS cy
"""


def _state_case(open_q: Q) -> Case:
    return Case(*[When(state_q(s, open_q), then=Value(s)) for s in STATE_LABELS], output_field=CharField())


def _sql(queryset) -> tuple[str, tuple]:
    return queryset.query.sql_with_params()


def _run(sql: str, params) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return bytes(cursor.fetchone()[0])


def tile_bounds(z: int, x: int, y: int, margin: float = 0.0) -> Polygon:
    """The tile in WGS 84, widened by `margin` (a fraction of its size) on every side."""
    n = 2**z

    def lon(tx: float) -> float:
        return tx / n * 360 - 180

    def lat(ty: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / n))))

    west, east = max(lon(x - margin), -180), min(lon(x + 1 + margin), 180)
    south, north = max(lat(y + 1 + margin), -85.06), min(lat(y - margin), 85.06)
    box = Polygon.from_bbox((west, south, east, north))
    box.srid = 4326
    return box


def _in_tile(sites, z: int, x: int, y: int):
    """Sites in the tile or its buffer: the condition the location index answers."""
    return sites.filter(location__bboverlaps=tile_bounds(z, x, y, BUFFER / EXTENT))


def _cluster_counts() -> dict:
    return {state: Sum("n", filter=state_q(state, CELL_OPEN)) for state in STATE_LABELS}


def cluster_tile_from_grid(request, z: int, x: int, y: int) -> bytes:
    level, span = z + CELL_LEVELS_BELOW, 2**CELL_LEVELS_BELOW
    cells = scope_for(request.user).restrict(SiteCell.objects.all(), VIEW)
    cells = filter_common(cells, request, CELL_OPEN).filter(
        level=level, cx__range=(x * span, x * span + span - 1), cy__range=(y * span, y * span + span - 1)
    )
    grouped = cells.values("cx", "cy").annotate(n_sites=Sum("n"), sx=Sum("sum_x"), sy=Sum("sum_y"), **_cluster_counts())
    inner, params = _sql(grouped.order_by())
    return _run(_cluster_sql(inner, z, x, y), params)


def cluster_tile_from_sites(request, z: int, x: int, y: int) -> bytes:
    """The same clusters counted from the sites (the due filter cannot be precomputed)."""
    sites = filter_sites(scope_for(request.user).restrict(Site.objects.all(), VIEW), request)
    inner, params = _sql(
        _in_tile(sites, z, x, y)
        .annotate(state=_state_case(SITE_OPEN), p=Transform("location", 3857))
        .values("state", "p")
        .order_by()
    )
    level, span = z + CELL_LEVELS_BELOW, 2**CELL_LEVELS_BELOW
    counts = ", ".join(f"count(*) FILTER (WHERE state = '{s}') AS {s}" for s in STATE_LABELS)
    # Only the tile's own cells, as from the grid: the buffer's sites belong to the next tile.
    grouped = f"""
        SELECT cx, cy, count(*) AS n_sites, sum(ST_X(p)) AS sx, sum(ST_Y(p)) AS sy, {counts}
        FROM (SELECT state, p, {CELL_XY % {"level": level}} FROM ({inner}) s) c
        WHERE cx BETWEEN {x * span} AND {x * span + span - 1} AND cy BETWEEN {y * span} AND {y * span + span - 1}
        GROUP BY cx, cy
    """  # noqa: S608 (only numbers and fixed names are formatted in)
    return _run(_cluster_sql(grouped, z, x, y), params)


def _cluster_sql(grouped: str, z: int, x: int, y: int) -> str:
    # A state with no site is left out of the feature (NULL), as from the grid.
    counts = ", ".join(f"NULLIF(q.{s}, 0)::int AS {s}" for s in STATE_LABELS)
    return f"""
        SELECT ST_AsMVT(t, 'clusters', {EXTENT}, 'geom') FROM (
            SELECT q.n_sites::int AS n, {counts},
                   ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(q.sx / q.n_sites, q.sy / q.n_sites), 3857),
                                ST_TileEnvelope({z}, {x}, {y}), {EXTENT}, {BUFFER}, true) AS geom
            FROM ({grouped}) q WHERE q.n_sites > 0
        ) t
    """  # noqa: S608


def site_tile(request, z: int, x: int, y: int) -> bytes:
    sites = filter_sites(scope_for(request.user).restrict(Site.objects.all(), VIEW), request)
    now = timezone.now()
    inner, params = _sql(
        _in_tile(sites, z, x, y)
        .annotate(
            state=_state_case(SITE_OPEN),
            due=Case(When(SITE_OPEN & due_q(now), then=Value(True)), default=Value(False)),
        )
        .values("id", "code", "name", "kind", "deep_water", "state", "due", "location")
        .order_by()
    )
    sql = f"""
        SELECT ST_AsMVT(t, 'sites', {EXTENT}, 'geom') FROM (
            SELECT q.id::text AS id, q.code, q.name, q.kind, q.deep_water AS deep, q.state, q.due,
                   ST_AsMVTGeom(ST_Transform(q.location, 3857), ST_TileEnvelope({z}, {x}, {y}),
                                {EXTENT}, {BUFFER}, true) AS geom
            FROM ({inner}) q
        ) t
    """  # noqa: S608
    return _run(sql, params)


def grid_answers(request) -> bool:
    """The pyramid counts sites by province: it serves a user whose scope and chosen area
    are whole provinces or the country. Below a province the sites are few enough to be
    counted directly; so is the due filter, which depends on the clock."""
    if due_param(request) is not None:
        return False
    scope = scope_for(request.user)
    if not scope.everything and any(path.count("/") > 2 for path in scope.paths(VIEW)):
        return False
    area = chosen_area(request) if request.GET.get("area") else None
    return area is None or area.depth == 0


def tile(request, z: int, x: int, y: int) -> bytes:
    try:
        if z > MAX_GRID_ZOOM:
            return site_tile(request, z, x, y)
        if grid_answers(request):
            return cluster_tile_from_grid(request, z, x, y)
        return cluster_tile_from_sites(request, z, x, y)
    except EmptyResultSet:  # the scope or an area outside it leaves nothing to ask for
        return b""

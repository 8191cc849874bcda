"""The priority list: open sites that are not yet protected, ranked by risk.

Score out of 100 (the page and the file show its parts):
- deep water: 35 points;
- kind: up to 20 points, highest where children go in or fall in (ponds, pits, river
  landings, wells);
- a school or kindergarten nearby: 35 points at the door, falling linearly to 0 at 2 km;
- no sign in place and no complete barrier (the state unprotected: a damaged sign or a
  partial barrier protects nothing): 10 points.
Ties go to the nearer school, then to the code."""

from django.core.exceptions import EmptyResultSet
from django.db import connections, router

from hazards import selectors
from hazards.models import Site, SiteKind
from hazards.rules import SiteState

DEEP_WATER_POINTS = 35
NEAR_PLACE_POINTS = 35
NEAR_PLACE_RANGE_M = 2000
UNPROTECTED_POINTS = 10
KIND_POINTS = {
    SiteKind.POND: 20,
    SiteKind.PIT: 20,
    SiteKind.RIVER_LANDING: 20,
    SiteKind.WELL: 20,
    SiteKind.CANAL: 15,
    SiteKind.LAKE: 15,
    SiteKind.IRRIGATION_WORKS: 15,
    SiteKind.DAM: 10,
    SiteKind.OTHER: 5,
}
COLUMNS = [
    "rank", "score", "id", "code", "name", "kind", "area_name", "deep_water", "signage", "barrier", "state",
    "place_name", "place_kind", "place_distance_m", "lon", "lat",
]  # fmt: skip


def candidates(request):
    """Open sites in scope and filters that are not protected."""
    return selectors.unprotected_open_sites(request.user, request)


def ranked_sql(request, limit: int | None) -> tuple[str, tuple]:
    inner, params = (
        candidates(request)
        .values("id", "code", "name", "kind", "deep_water", "signage", "barrier", "state", "location", "area__name")
        .order_by()
        .query.sql_with_params()
    )
    kind_points = " ".join(f"WHEN '{kind}' THEN {points}" for kind, points in KIND_POINTS.items())
    # The inner query names the area column "name" too: select it by position.
    sql = f"""
        SELECT row_number() OVER (ORDER BY score DESC, dist NULLS LAST, code) AS rank, round(score)::int AS score,
               id, code, name, kind, area_name, deep_water, signage, barrier, state,
               place_name, place_kind, round(dist)::int, ST_X(location), ST_Y(location)
        FROM (
            SELECT q.*, near.name AS place_name, near.kind AS place_kind, near.dist,
                   (CASE WHEN q.deep_water THEN {DEEP_WATER_POINTS} ELSE 0 END
                    + CASE q.kind {kind_points} ELSE 0 END
                    + CASE WHEN near.dist < {NEAR_PLACE_RANGE_M}
                           THEN {NEAR_PLACE_POINTS} * (1 - near.dist / {NEAR_PLACE_RANGE_M}) ELSE 0 END
                    + CASE WHEN q.state = '{SiteState.UNPROTECTED.value}'
                           THEN {UNPROTECTED_POINTS} ELSE 0 END) AS score
            FROM (SELECT id, code, name, kind, deep_water, signage, barrier, state, location, area_name
                  FROM ({inner})
                  AS raw (id, code, name, kind, deep_water, signage, barrier, state, location, area_name)) q
            LEFT JOIN LATERAL (
                -- The index orders by degrees; the nearest in metres is among the first few.
                SELECT p.name, p.kind, ST_Distance(p.location::geography, q.location::geography) AS dist
                FROM (SELECT * FROM mapping_place ORDER BY location <-> q.location LIMIT 4) p
                ORDER BY 3 LIMIT 1
            ) near ON true
        ) ranked
        ORDER BY rank
    """  # noqa: S608 (only numbers and fixed names are formatted in)
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql, params


def priority_rows(request, limit: int | None = None):
    """Dicts in rank order, read in batches from a server-side cursor so a national list
    never sits in memory. The filters are checked here, at once: the CSV streams these
    rows, and a bad filter must be a 400 before the first byte, not an error half-way
    through the file."""
    try:
        sql, params = ranked_sql(request, limit)
    except EmptyResultSet:  # nothing in scope
        return iter(())
    return _rows(sql, params)


def _rows(sql: str, params):
    with connections[router.db_for_read(Site)].chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(2000):
            for row in batch:
                yield dict(zip(COLUMNS, row, strict=True))


def count(request) -> int:
    return candidates(request).count()

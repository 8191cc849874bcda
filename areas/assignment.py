"""Which area a site belongs to: the lowest (deepest) loaded area whose boundary covers
its point. A point on a border shared by two areas of the same depth (or on the edge of
both) goes to the area with the smaller code, so every point has exactly one owner."""

from django.contrib.gis.geos import Point
from django.db import connection

from .models import Area

OWNER_ORDER = "p.depth DESC, a.code ASC"
PIECES = "areas_areapiece p JOIN areas_area a ON a.id = p.area_id"


def owner_of(point: str) -> str:
    """SQL for the id of the area owning the point that the SQL expression `point` gives;
    every statement that assigns areas to single points (one site, a reload) is built
    from it, and place_points below follows the same rule."""
    select = f"SELECT p.area_id FROM {PIECES} WHERE ST_Covers(p.geom, {point})"  # noqa: S608
    return f"({select} ORDER BY {OWNER_ORDER} LIMIT 1)"


# The owners at one depth of the tree of the points of a table (row_no, location with a
# GiST index). Each piece is the outer loop (OFFSET 0 keeps it there) and meets all its
# points in a row, so PostGIS prepares the piece once for them; a lookup per point meets
# a different piece each time and took three times as long.
OWNERS_AT_DEPTH = f"""
INSERT INTO {{owners}} (row_no, area_id)
SELECT DISTINCT ON (i.row_no) i.row_no, p.area_id
FROM {PIECES}, LATERAL (SELECT row_no FROM {{points}} i WHERE ST_Covers(p.geom, i.location) OFFSET 0) i
WHERE p.depth = %s
ORDER BY i.row_no, {OWNER_ORDER}
"""  # noqa: S608 - table names from the caller's constants
UNPLACED = """
CREATE TEMPORARY TABLE {rest} AS
SELECT row_no, location FROM {points} t WHERE NOT EXISTS (SELECT FROM {owners} o WHERE o.row_no = t.row_no)
"""


def place_points(cursor, points: str, owners: str) -> int:
    """Fills the temporary table `owners` (row_no, area_id) with the owner of each row of
    `points` (row_no, location, with a GiST index on location) by owner_of's rule, for a
    batch of many points. Depth by depth from the deepest: the points a level covers have
    their owner there, and only the others meet the level above, so nearly every point
    meets the pieces of its commune alone. Returns how many points no area covers."""
    cursor.execute("SELECT DISTINCT depth FROM areas_areapiece ORDER BY depth DESC")
    depths = [depth for (depth,) in cursor.fetchall()]
    cursor.execute(f"SELECT count(*) FROM {points}")  # noqa: S608
    left, source = cursor.fetchone()[0], points
    rest = f"{owners}_rest"
    for depth in depths:
        if not left:
            break
        cursor.execute(OWNERS_AT_DEPTH.format(owners=owners, points=source), [depth])
        cursor.execute(f"DROP TABLE IF EXISTS {rest}")
        cursor.execute(UNPLACED.format(rest=rest, points=points, owners=owners))
        left, source = cursor.rowcount, rest
        cursor.execute(f"CREATE INDEX ON {rest} USING gist (location)")
    cursor.execute(f"DROP TABLE IF EXISTS {rest}")
    return left


# The owners of a list of points (a tablet's batch of sites), in the list's order.
OWNERS_OF_POINTS_SQL = f"""
SELECT {owner_of("ST_SetSRID(ST_MakePoint(given.x, given.y), 4326)")}
FROM unnest(%(xs)s::float8[], %(ys)s::float8[]) WITH ORDINALITY AS given(x, y, n)
ORDER BY given.n
"""  # noqa: S608


def areas_containing(points: list[Point]) -> list[Area | None]:
    """The area owning each point (None for a point outside every area), in two statements."""
    if not points:
        return []
    with connection.cursor() as cursor:
        cursor.execute(OWNERS_OF_POINTS_SQL, {"xs": [p.x for p in points], "ys": [p.y for p in points]})
        owners = [area_id for (area_id,) in cursor.fetchall()]
    areas = Area.objects.in_bulk({area_id for area_id in owners if area_id is not None})
    return [areas.get(area_id) for area_id in owners]


def area_containing(point: Point) -> Area | None:
    return areas_containing([point])[0]

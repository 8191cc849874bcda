"""Which area a site belongs to: the lowest (deepest) loaded area whose boundary covers
its point. A point on a border shared by two areas of the same depth (or on the edge of
both) goes to the area with the smaller code, so every point has exactly one owner."""

from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import connection

from .models import Area

OWNER_ORDER = "p.depth DESC, a.code ASC"
PIECES = "mapping_areapiece p JOIN mapping_area a ON a.id = p.area_id"


def owner_of(point: str) -> str:
    """SQL for the id of the area owning the point that the SQL expression `point` gives;
    every statement that assigns areas to single points (one site, a reload) is built
    from it, and owners_in below follows the same rule."""
    select = f"SELECT p.area_id FROM {PIECES} WHERE ST_Covers(p.geom, {point})"  # noqa: S608
    return f"({select} ORDER BY {OWNER_ORDER} LIMIT 1)"


def owners_in(table: str) -> str:
    """SQL selecting (row_no, area_id) for each row of `table` (row_no, location, with a
    GiST index on location) that an area covers, by owner_of's rule. For a batch of many
    points: each piece is the outer loop (OFFSET 0 keeps it there) and meets all its
    points in a row, so PostGIS prepares the piece once for them; a lookup per point
    meets a different piece each time and took three times as long."""
    return f"""SELECT DISTINCT ON (i.row_no) i.row_no, p.area_id
    FROM {PIECES}, LATERAL (SELECT row_no FROM {table} i WHERE ST_Covers(p.geom, i.location) OFFSET 0) i
    ORDER BY i.row_no, {OWNER_ORDER}"""  # noqa: S608 - a table name from the caller's constants


LOWEST_AREA_SQL = f"SELECT {owner_of('%(point)s::geometry')}"

REASSIGN_SQL = f"""
WITH owner AS (
    SELECT s.id, s.area_id AS old_area_id, {owner_of("s.location")} AS area_id
    FROM hazards_site s
    WHERE %(extent)s::geometry IS NULL OR s.location && %(extent)s::geometry
), moved AS (
    UPDATE hazards_site s SET area_id = owner.area_id
    FROM owner
    WHERE s.id = owner.id AND owner.area_id IS NOT NULL AND owner.area_id <> owner.old_area_id
    RETURNING s.id
)
SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM owner WHERE area_id IS NULL)
"""  # noqa: S608


def area_containing(point: Point) -> Area | None:
    with connection.cursor() as cursor:
        cursor.execute(LOWEST_AREA_SQL, {"point": point.ewkt})
        row = cursor.fetchone()
    return Area.objects.get(pk=row[0]) if row[0] is not None else None


def reassign_sites(extent: GEOSGeometry | None = None) -> tuple[int, int]:
    """Re-derive the area of every site (or those inside extent) in one statement.
    Returns (sites moved, sites now outside every area); the latter keep their old area."""
    with connection.cursor() as cursor:
        cursor.execute(REASSIGN_SQL, {"extent": extent.ewkt if extent else None})
        moved, outside = cursor.fetchone()
    return moved, outside

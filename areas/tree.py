"""Keeps the area tree's derived columns (path, depth) and its subdivided pieces right."""

from django.db import connection

REFRESH_PATHS_SQL = """
WITH RECURSIVE tree AS (
    SELECT id, '/' || code || '/' AS path, 0 AS depth FROM areas_area WHERE parent_id IS NULL
    UNION ALL
    SELECT a.id, tree.path || a.code || '/', tree.depth + 1
    FROM areas_area a JOIN tree ON a.parent_id = tree.id
)
UPDATE areas_area a SET path = tree.path, depth = tree.depth
FROM tree
WHERE a.id = tree.id AND (a.path <> tree.path OR a.depth <> tree.depth)
"""

# 255 vertices a piece: point-in-polygon tests stay cheap on detailed coastlines.
REBUILD_PIECES_SQL = """
DELETE FROM areas_areapiece WHERE area_id = ANY(%(ids)s);
INSERT INTO areas_areapiece (area_id, depth, geom)
SELECT id, depth, piece
FROM (
    SELECT a.id, a.depth, (ST_Dump(ST_Subdivide(a.geom, 255))).geom AS piece
    FROM areas_area a WHERE a.id = ANY(%(ids)s)
) cut
WHERE GeometryType(piece) = 'POLYGON';
UPDATE areas_areapiece p SET depth = a.depth
FROM areas_area a WHERE p.area_id = a.id AND p.depth <> a.depth;
"""


def refresh_paths() -> list[str]:
    """Recompute every path and depth from the parent links; return the codes of
    areas the roots cannot reach (a parent cycle)."""
    with connection.cursor() as cursor:
        cursor.execute(REFRESH_PATHS_SQL)
        cursor.execute(
            "SELECT code FROM areas_area a WHERE parent_id IS NOT NULL AND NOT EXISTS ("
            " SELECT 1 FROM areas_area p WHERE p.id = a.parent_id AND a.path = p.path || a.code || '/')"
        )
        return [row[0] for row in cursor.fetchall()]


def rebuild_pieces(area_ids: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(REBUILD_PIECES_SQL, {"ids": list(area_ids)})

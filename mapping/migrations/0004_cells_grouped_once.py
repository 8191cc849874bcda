from importlib import import_module

from django.db import migrations

# The map pyramid's upsert, grouped once at the finest level (13) and rolled up from
# there: a cell index of level L is the level-13 index shifted right by 13 - L (the grid
# halves exactly at each level). A million imported sites were grouped eleven times
# over (11 million rows, ~40 µs a site); now once, plus the rolled-up groups.
# Rows whose count falls to zero are deleted by id from the upsert's RETURNING: a partial
# index on n = 0 made every count update a non-HOT update of all four indexes.
UPSERT = """
    WITH changed AS (
        INSERT INTO mapping_sitecell AS c (level, cx, cy, area_id, kind, signage, barrier, closed, n, sum_x, sum_y)
        SELECT lv.level, g.cx >> (13 - lv.level), g.cy >> (13 - lv.level),
               g.area_id, g.kind, g.signage, g.barrier, g.closed, sum(g.n), sum(g.sum_x), sum(g.sum_y)
        FROM (
            SELECT floor((m.x + 20037508.342789244) / (40075016.68557849 / 2 ^ 13))::int AS cx,
                   floor((20037508.342789244 - m.y) / (40075016.68557849 / 2 ^ 13))::int AS cy,
                   m.area_id, m.kind, m.signage, m.barrier, m.closed,
                   sum(m.sign) AS n, sum(m.sign * m.x) AS sum_x, sum(m.sign * m.y) AS sum_y
            FROM (
                SELECT top.id AS area_id, s.kind, s.signage, s.barrier, s.closed_at IS NOT NULL AS closed,
                       ST_X(p) AS x, ST_Y(p) AS y, s.sign
                FROM ({changes}) s
                JOIN mapping_area own ON own.id = s.area_id
                JOIN mapping_area top ON top.path = substring(own.path FROM '^/[^/]+/'),
                ST_Transform(s.location, 3857) AS p
                WHERE s.deleted_at IS NULL
            ) m
            GROUP BY 1, 2, 3, 4, 5, 6, 7
        ) g CROSS JOIN generate_series(3, 13) AS lv(level)
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        ON CONFLICT (level, cx, cy, area_id, kind, signage, barrier, closed) DO UPDATE SET
            n = c.n + EXCLUDED.n, sum_x = c.sum_x + EXCLUDED.sum_x, sum_y = c.sum_y + EXCLUDED.sum_y
        RETURNING c.id, c.n
    )
    SELECT array_agg(id) FILTER (WHERE n = 0) INTO emptied FROM changed;
    DELETE FROM mapping_sitecell WHERE id = ANY (emptied);
"""


def functions() -> str:
    grid = import_module("mapping.migrations.0003_site_cell_triggers")
    events = "".join(
        f"""
CREATE OR REPLACE FUNCTION mapping_cells_sites_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    emptied bigint[];
BEGIN
    {UPSERT.format(changes=changes)}
    RETURN NULL;
END
$$;"""
        for event, changes in grid.CHANGES.items()
    )
    return f"""{events}
CREATE OR REPLACE FUNCTION mapping_rebuild_cells() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    emptied bigint[];
BEGIN
    -- DELETE, not TRUNCATE: TRUNCATE fails inside a transaction holding deferred FK checks.
    DELETE FROM mapping_sitecell;
    {UPSERT.format(changes="SELECT *, 1 AS sign FROM hazards_site")}
    ANALYZE mapping_sitecell;
END
$$;
DROP INDEX sitecell_empty;
-- Room on each page for a cell's new version: count updates then stay on the page (HOT).
ALTER TABLE mapping_sitecell SET (fillfactor = 70);
"""


class Migration(migrations.Migration):
    dependencies = [("mapping", "0003_site_cell_triggers")]

    # Not reversible: 0003's functions would have to be written back by hand.
    operations = [migrations.RunSQL(functions())]

from django.db import migrations

# The low-zoom map pyramid (mapping_sitecell) follows every change to hazards_site.
# Statement-level triggers with transition tables: a bulk update of a million sites
# (a boundary reload, an import) costs one grouped upsert per statement, not one per row.
# The statements are static SQL (one per trigger, written from one template here) so
# PostgreSQL keeps their plans: built with EXECUTE they were planned again on every write.
# Levels 3 to 13 serve the tiles of zoom 0 to 10 (mapping/tiles.py: CELL_LEVELS_BELOW, MAX_GRID_ZOOM).
# Sites count under their province (top-level area): a commune key made a national tile
# sum hundreds of thousands of rows; below a province the tiles count the sites directly.

# Adds `changes` (site rows with a "sign" column: +1 to add, -1 to take away) to the cells.
UPSERT = """
    INSERT INTO mapping_sitecell AS c (level, cx, cy, area_id, kind, signage, barrier, closed, n, sum_x, sum_y)
    SELECT lv.level,
           floor((m.x + 20037508.342789244) / (40075016.68557849 / 2 ^ lv.level))::int,
           floor((20037508.342789244 - m.y) / (40075016.68557849 / 2 ^ lv.level))::int,
           m.area_id, m.kind, m.signage, m.barrier, m.closed,
           sum(m.sign), sum(m.sign * m.x), sum(m.sign * m.y)
    FROM (
        SELECT top.id AS area_id, s.kind, s.signage, s.barrier, s.closed_at IS NOT NULL AS closed,
               ST_X(p) AS x, ST_Y(p) AS y, s.sign
        FROM ({changes}) s
        JOIN mapping_area own ON own.id = s.area_id
        JOIN mapping_area top ON top.path = substring(own.path FROM '^/[^/]+/'),
        ST_Transform(s.location, 3857) AS p
        WHERE s.deleted_at IS NULL
    ) m CROSS JOIN generate_series(3, 13) AS lv(level)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (level, cx, cy, area_id, kind, signage, barrier, closed) DO UPDATE SET
        n = c.n + EXCLUDED.n, sum_x = c.sum_x + EXCLUDED.sum_x, sum_y = c.sum_y + EXCLUDED.sum_y;
    DELETE FROM mapping_sitecell WHERE n = 0;
"""

CHANGES = {
    "inserted": "SELECT *, 1 AS sign FROM new_sites",
    "deleted": "SELECT *, -1 AS sign FROM old_sites",
    # Only rows whose place on the map or symbol changed: a renamed site costs nothing.
    "updated": """
        SELECT changed.* FROM old_sites o JOIN new_sites n ON n.id = o.id,
        LATERAL (SELECT o.*, -1 AS sign UNION ALL SELECT n.*, 1) AS changed
        WHERE (o.location, o.area_id, o.kind, o.signage, o.barrier, o.closed_at IS NULL, o.deleted_at IS NULL)
              IS DISTINCT FROM
              (n.location, n.area_id, n.kind, n.signage, n.barrier, n.closed_at IS NULL, n.deleted_at IS NULL)
    """,
}


def trigger_function(event: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION mapping_cells_sites_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {UPSERT.format(changes=CHANGES[event])}
    RETURN NULL;
END
$$;"""


SQL = f"""
CREATE INDEX sitecell_empty ON mapping_sitecell (id) WHERE n = 0;
{trigger_function("inserted")}
{trigger_function("updated")}
{trigger_function("deleted")}

CREATE OR REPLACE FUNCTION mapping_rebuild_cells() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- DELETE, not TRUNCATE: TRUNCATE fails inside a transaction holding deferred FK checks.
    DELETE FROM mapping_sitecell;
    {UPSERT.format(changes="SELECT *, 1 AS sign FROM hazards_site")}
    -- Fresh statistics: with none the planner took a tile's thousands of cells for one row.
    ANALYZE mapping_sitecell;
END
$$;

CREATE TRIGGER hazards_site_cells_insert AFTER INSERT ON hazards_site
    REFERENCING NEW TABLE AS new_sites FOR EACH STATEMENT EXECUTE FUNCTION mapping_cells_sites_inserted();
CREATE TRIGGER hazards_site_cells_update AFTER UPDATE ON hazards_site
    REFERENCING OLD TABLE AS old_sites NEW TABLE AS new_sites FOR EACH STATEMENT
    EXECUTE FUNCTION mapping_cells_sites_updated();
CREATE TRIGGER hazards_site_cells_delete AFTER DELETE ON hazards_site
    REFERENCING OLD TABLE AS old_sites FOR EACH STATEMENT EXECUTE FUNCTION mapping_cells_sites_deleted();
SELECT mapping_rebuild_cells();
"""

REVERSE = """
DROP TRIGGER hazards_site_cells_delete ON hazards_site;
DROP TRIGGER hazards_site_cells_update ON hazards_site;
DROP TRIGGER hazards_site_cells_insert ON hazards_site;
DROP FUNCTION mapping_rebuild_cells();
DROP FUNCTION mapping_cells_sites_deleted();
DROP FUNCTION mapping_cells_sites_updated();
DROP FUNCTION mapping_cells_sites_inserted();
DROP INDEX sitecell_empty;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("mapping", "0002_map_grid_and_places"),
        ("hazards", "0005_photo_evidence_and_live_index"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE)]

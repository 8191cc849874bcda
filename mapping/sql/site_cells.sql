-- The low-zoom map pyramid (mapping_sitecell): sites counted per grid cell, province, kind,
-- sign, barrier and closed, kept by statement-level triggers on hazards_site. A cell of
-- level L is the web mercator tile of zoom L; levels 3 to 13 serve the tiles of zoom 0 to
-- 10 (mapping/tiles.py: CELL_LEVELS_BELOW, MAX_GRID_ZOOM). Sites count under their
-- province (top-level area): a commune key made a national tile sum hundreds of thousands
-- of rows. Beside it, in the same statement, mapping_sitestatecell: the same cells of
-- levels 3 to 11 counted by state alone (registry_site_state, the one definition), which
-- a tile of zoom 0 to 8 without a kind, sign or barrier filter reads: many times fewer
-- rows (bench/NOTES.md). Applied by mapping's migrations (0004, 0006, 0009, 0011, 0012 and
-- any later one that applies it again, through common/sql_files.py), both tables checked
-- against a full rebuild by `manage.py verify_derived`.

-- What one site adds to the grid (sign 1) or takes away (sign -1); NULL when deleted.
DO $$ BEGIN
    CREATE TYPE mapping_cell_delta AS (
        area_id bigint, kind text, signage text, barrier text, closed boolean, location geometry, sign integer);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- One expression, so PostgreSQL inlines it into the statements that call it.
CREATE OR REPLACE FUNCTION mapping_cell_delta(s hazards_site, sign integer)
RETURNS mapping_cell_delta LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN s.deleted_at IS NULL THEN
        ROW(s.area_id, s.kind, s.signage, s.barrier, s.closed_at IS NOT NULL, s.location, sign)::mapping_cell_delta
    END
$$;

-- Adds deltas to the cells. Grouped once at the finest level (13) and rolled up from
-- there: a cell index of level L is the level-13 index shifted right by 13 - L (the grid
-- halves exactly at each level). The cells by state are grouped by state at level 11 and
-- rolled up from there: they serve zooms 0 to 8 (mapping/tiles.py: STATE_GRID_MAX_ZOOM),
-- levels 3 to 11; at levels 12 and 13 a cell holds a few sites, so counting them by state
-- again saved a tile little and cost a third more on every write (bench/NOTES.md).
-- Each upsert takes its cells in the order of their key: batches synced at once share a
-- province's coarse cells, and in the order of each one's hash table two of them took the
-- shared cells in opposite orders and deadlocked (bench/load_bench.py, 200 tablets).
-- Cells whose count falls to zero are deleted by id from the upserts' RETURNING, in
-- statements of their own (an upsert's own statement does not see the rows it writes); a
-- partial index on n = 0 made every count update a non-HOT update of all four indexes.
CREATE OR REPLACE FUNCTION mapping_cells_add(deltas mapping_cell_delta[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    emptied bigint[];
    emptied_states bigint[];
BEGIN
    WITH fine AS (
        SELECT floor((m.x + 20037508.342789244) / (40075016.68557849 / 2 ^ 13))::int AS cx,
               floor((20037508.342789244 - m.y) / (40075016.68557849 / 2 ^ 13))::int AS cy,
               m.area_id, m.kind, m.signage, m.barrier, m.closed,
               sum(m.sign) AS n, sum(m.sign * m.x) AS sum_x, sum(m.sign * m.y) AS sum_y
        FROM (
            SELECT top.id AS area_id, d.kind, d.signage, d.barrier, d.closed, ST_X(p) AS x, ST_Y(p) AS y, d.sign
            FROM unnest(deltas) d
            JOIN areas_area own ON own.id = d.area_id
            JOIN areas_area top ON top.path = substring(own.path FROM '^/[^/]+/'),
            ST_Transform(d.location, 3857) AS p
        ) m
        GROUP BY 1, 2, 3, 4, 5, 6, 7
    ), changed AS (
        INSERT INTO mapping_sitecell AS c (level, cx, cy, area_id, kind, signage, barrier, closed, n, sum_x, sum_y)
        SELECT lv.level, f.cx >> (13 - lv.level), f.cy >> (13 - lv.level),
               f.area_id, f.kind, f.signage, f.barrier, f.closed, sum(f.n), sum(f.sum_x), sum(f.sum_y)
        FROM fine f CROSS JOIN generate_series(3, 13) AS lv(level)
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
        ON CONFLICT (level, cx, cy, area_id, kind, signage, barrier, closed) DO UPDATE SET
            n = c.n + EXCLUDED.n, sum_x = c.sum_x + EXCLUDED.sum_x, sum_y = c.sum_y + EXCLUDED.sum_y
        RETURNING c.id, c.n
    ), changed_states AS (
        INSERT INTO mapping_sitestatecell AS c (level, cx, cy, area_id, state, n, sum_x, sum_y)
        SELECT lv.level, s.cx >> (11 - lv.level), s.cy >> (11 - lv.level), s.area_id, s.state,
               sum(s.n), sum(s.sum_x), sum(s.sum_y)
        FROM (
            SELECT f.cx >> 2 AS cx, f.cy >> 2 AS cy, f.area_id, registry_site_state(f.signage, f.barrier, f.closed) AS state,
                   sum(f.n) AS n, sum(f.sum_x) AS sum_x, sum(f.sum_y) AS sum_y
            FROM fine f
            GROUP BY 1, 2, 3, 4
        ) s CROSS JOIN generate_series(3, 11) AS lv(level)
        GROUP BY 1, 2, 3, 4, 5
        ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (level, cx, cy, area_id, state) DO UPDATE SET
            n = c.n + EXCLUDED.n, sum_x = c.sum_x + EXCLUDED.sum_x, sum_y = c.sum_y + EXCLUDED.sum_y
        RETURNING c.id, c.n
    )
    SELECT (SELECT array_agg(id) FILTER (WHERE n = 0) FROM changed),
           (SELECT array_agg(id) FILTER (WHERE n = 0) FROM changed_states)
    INTO emptied, emptied_states;
    DELETE FROM mapping_sitecell WHERE id = ANY (emptied);
    DELETE FROM mapping_sitestatecell WHERE id = ANY (emptied_states);
END
$$;

-- A file import names itself in registry.import for its transaction and adds all its
-- sites at its end (mapping_cells_add_imported, from its table imported_sites): kept per
-- statement, the grid rewrote each touched cell once per chunk.
CREATE OR REPLACE FUNCTION mapping_cells_sites_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('registry.import', true) <> '' THEN
        RETURN NULL;
    END IF;
    PERFORM mapping_cells_add(ARRAY(SELECT mapping_cell_delta(n, 1) FROM new_sites n));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION mapping_cells_add_imported() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mapping_cells_add(ARRAY(SELECT mapping_cell_delta(ROW(i.*)::hazards_site, 1) FROM imported_sites i));
END
$$;

CREATE OR REPLACE FUNCTION mapping_cells_sites_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mapping_cells_add(ARRAY(SELECT mapping_cell_delta(o, -1) FROM old_sites o));
    RETURN NULL;
END
$$;

-- Only sites whose place on the map or symbol changed: a renamed site costs nothing.
CREATE OR REPLACE FUNCTION mapping_cells_sites_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mapping_cells_add(ARRAY(
        SELECT delta
        FROM old_sites o JOIN new_sites n ON n.id = o.id,
        LATERAL (VALUES (mapping_cell_delta(o, -1)), (mapping_cell_delta(n, 1))) AS c(delta)
        WHERE (o.location, o.area_id, o.kind, o.signage, o.barrier, o.closed_at IS NULL, o.deleted_at IS NULL)
              IS DISTINCT FROM
              (n.location, n.area_id, n.kind, n.signage, n.barrier, n.closed_at IS NULL, n.deleted_at IS NULL)));
    RETURN NULL;
END
$$;

-- The whole grid, both tables, from the sites, as the triggers would have left it.
CREATE OR REPLACE FUNCTION mapping_rebuild_cells() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- DELETE, not TRUNCATE: TRUNCATE fails inside a transaction holding deferred FK checks.
    DELETE FROM mapping_sitecell;
    DELETE FROM mapping_sitestatecell;
    PERFORM mapping_cells_add(ARRAY(SELECT mapping_cell_delta(s, 1) FROM hazards_site s));
    -- Fresh statistics: with none the planner took a tile's thousands of cells for one row.
    ANALYZE mapping_sitecell;
    ANALYZE mapping_sitestatecell;
END
$$;

DROP TRIGGER IF EXISTS hazards_site_cells_insert ON hazards_site;
CREATE TRIGGER hazards_site_cells_insert AFTER INSERT ON hazards_site
    REFERENCING NEW TABLE AS new_sites FOR EACH STATEMENT EXECUTE FUNCTION mapping_cells_sites_inserted();
DROP TRIGGER IF EXISTS hazards_site_cells_update ON hazards_site;
CREATE TRIGGER hazards_site_cells_update AFTER UPDATE ON hazards_site
    REFERENCING OLD TABLE AS old_sites NEW TABLE AS new_sites FOR EACH STATEMENT
    EXECUTE FUNCTION mapping_cells_sites_updated();
DROP TRIGGER IF EXISTS hazards_site_cells_delete ON hazards_site;
CREATE TRIGGER hazards_site_cells_delete AFTER DELETE ON hazards_site
    REFERENCING OLD TABLE AS old_sites FOR EACH STATEMENT EXECUTE FUNCTION mapping_cells_sites_deleted();

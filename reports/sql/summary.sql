-- The report's derived tables, kept by statement-level triggers: the current-state
-- summary reports_areaday (per area, temporary or not, and day of the last check: the
-- counting sites and how many are signed, fenced, protected, backed by a photo; each
-- area's rows hold its whole subtree) and the as-of results reports_asofresult (dropped
-- from the first date a change can alter). Per statement, from the transition tables: a
-- bulk update of a million sites costs one grouped upsert. Applied by reports' migrations
-- (0006, 0008, 0009, 0013, 0014, through common/sql_files.py), checked against a full rebuild by
-- `manage.py verify_derived`.
-- The rules it reads (a site's state, the registry's day) are hazards/sql/rules.sql.

CREATE OR REPLACE FUNCTION area_ancestor_paths(path text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(substr(path, 1, pos) ORDER BY pos), '{}')
    FROM generate_series(2, length(path)) AS pos
    WHERE substr(path, pos, 1) = '/'
$$;

-- What one site adds to its area's summary (sign 1) or takes away from it (sign -1);
-- NULL for a site that does not count from now on (registry_counts at the end of time,
-- 'infinity', where only a site still open counts: not one shallow, closed, a duplicate
-- or deleted).
DO $$ BEGIN
    CREATE TYPE reports_site_delta AS (
        area_id bigint, is_temporary boolean, day date,
        counting integer, signed integer, fenced integer, protected integer, with_photo integer);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- One expression, so PostgreSQL inlines it into the statements that call it.
CREATE OR REPLACE FUNCTION reports_delta(s hazards_site, sign integer)
RETURNS reports_site_delta LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN registry_counts(s.deleted_at IS NOT NULL, s.close_reason, s.deep_water, s.active_from,
                                     s.closed_at, 'infinity') THEN
        ROW(s.area_id, s.is_temporary, coalesce(registry_local_date(s.last_checked_at), DATE '0001-01-01'),
            sign, sign * registry_state_signed(s.state)::int, sign * registry_state_fenced(s.state)::int,
            sign * (s.state = 'protected')::int, sign * s.photo_evidence::int)::reports_site_delta
    END
$$;

-- Adds deltas to the summary of their areas and every area above. Grouped by area first,
-- then spread to the ancestors: a million sites in a few thousand areas need a few
-- thousand ancestor lookups. Rows are taken in the order of their key, so that batches
-- synced at once, which share their province's and country's rows, cannot deadlock.
CREATE OR REPLACE FUNCTION reports_summary_add(deltas reports_site_delta[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO reports_areaday AS d (area_id, is_temporary, day, counting, signed, fenced, protected, with_photo)
    SELECT a.id, g.is_temporary, g.day, sum(g.counting), sum(g.signed), sum(g.fenced), sum(g.protected),
           sum(g.with_photo)
    FROM (
        SELECT area_id, is_temporary, day, sum(counting) AS counting, sum(signed) AS signed, sum(fenced) AS fenced,
               sum(protected) AS protected, sum(with_photo) AS with_photo
        FROM unnest(deltas)
        WHERE area_id IS NOT NULL
        GROUP BY 1, 2, 3
    ) g
    JOIN areas_area own ON own.id = g.area_id
    JOIN areas_area a ON a.path = ANY (area_ancestor_paths(own.path))
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (area_id, is_temporary, day) DO UPDATE SET
        counting = d.counting + EXCLUDED.counting,
        signed = d.signed + EXCLUDED.signed,
        fenced = d.fenced + EXCLUDED.fenced,
        protected = d.protected + EXCLUDED.protected,
        with_photo = d.with_photo + EXCLUDED.with_photo
$$;

-- Sites. A file import names itself in registry.import for its transaction and adds all
-- its sites at its end (reports_summary_add_imported, from its table imported_sites).
CREATE OR REPLACE FUNCTION reports_sites_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('registry.import', true) <> '' THEN
        RETURN NULL;
    END IF;
    PERFORM reports_summary_add(ARRAY(SELECT reports_delta(n, 1) FROM new_sites n));
    DELETE FROM reports_asofresult WHERE day >= (SELECT min(active_from) FROM new_sites);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION reports_summary_add_imported() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM reports_summary_add(ARRAY(SELECT reports_delta(ROW(i.*)::hazards_site, 1) FROM imported_sites i));
    DELETE FROM reports_asofresult WHERE day >= (SELECT min(active_from) FROM imported_sites);
END
$$;

CREATE OR REPLACE FUNCTION reports_sites_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM reports_summary_add(ARRAY(SELECT reports_delta(o, -1) FROM old_sites o));
    DELETE FROM reports_asofresult WHERE day >= (SELECT min(active_from) FROM old_sites);
    RETURN NULL;
END
$$;

-- Only sites whose counted state changed: an edited name costs nothing. Kept as-of
-- results: a change of a site's start, or of whether it ever counts (registry_never_counted:
-- a deletion, a merge included, or a closure as a duplicate), reaches back to its first
-- day; a dated change of area, deep water or temporary flag (hazards.SiteVersion) to the
-- day its current details started (current_since); a closure or reopening to the earlier
-- of the two closing days.
CREATE OR REPLACE FUNCTION reports_sites_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM reports_summary_add(ARRAY(
        SELECT delta
        FROM old_sites o JOIN new_sites n ON n.id = o.id,
        LATERAL (VALUES (reports_delta(o, -1)), (reports_delta(n, 1))) AS c(delta)
        WHERE (o.area_id, o.is_temporary, o.last_checked_at, o.state, o.photo_evidence,
               o.deep_water, o.closed_at, o.deleted_at, o.active_from)
              IS DISTINCT FROM
              (n.area_id, n.is_temporary, n.last_checked_at, n.state, n.photo_evidence,
               n.deep_water, n.closed_at, n.deleted_at, n.active_from)));
    DELETE FROM reports_asofresult WHERE day >= (
        SELECT min(least(
            CASE WHEN (o.active_from, registry_never_counted(o.deleted_at IS NOT NULL, o.close_reason))
                      IS DISTINCT FROM (n.active_from, registry_never_counted(n.deleted_at IS NOT NULL, n.close_reason))
                 THEN least(o.active_from, n.active_from) END,
            CASE WHEN (o.area_id, o.is_temporary, o.deep_water, o.current_since)
                      IS DISTINCT FROM (n.area_id, n.is_temporary, n.deep_water, n.current_since)
                 THEN coalesce(n.current_since, n.active_from) END,
            CASE WHEN o.closed_at IS DISTINCT FROM n.closed_at
                 THEN least(coalesce(o.closed_at, 'infinity'::date), coalesce(n.closed_at, 'infinity'::date)) END
        ))
        FROM old_sites o JOIN new_sites n ON n.id = o.id);
    RETURN NULL;
END
$$;

-- Inspections and photos change past dates from the day they count on.
CREATE OR REPLACE FUNCTION reports_inspections_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reports_asofresult WHERE day >= (SELECT registry_local_date(min(observed_at)) FROM new_inspections);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION reports_inspections_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reports_asofresult WHERE day >= (SELECT registry_local_date(min(observed_at)) FROM old_inspections);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION reports_inspections_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reports_asofresult WHERE day >= (
        SELECT registry_local_date(min(observed_at))
        FROM (SELECT observed_at FROM old_inspections UNION ALL SELECT observed_at FROM new_inspections) t);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION reports_photos_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reports_asofresult WHERE day >= (
        SELECT registry_local_date(min(i.observed_at))
        FROM new_photos p JOIN hazards_inspection i ON i.id = p.inspection_id);
    RETURN NULL;
END
$$;

-- The whole summary from the sites, as the triggers would have left it.
CREATE OR REPLACE FUNCTION reports_rebuild_summary() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reports_areaday;
    PERFORM reports_summary_add(ARRAY(SELECT reports_delta(s, 1) FROM hazards_site s));
    DELETE FROM reports_asofresult;
END
$$;

DROP TRIGGER IF EXISTS hazards_site_summary_inserted ON hazards_site;
CREATE TRIGGER hazards_site_summary_inserted AFTER INSERT ON hazards_site
    REFERENCING NEW TABLE AS new_sites FOR EACH STATEMENT EXECUTE FUNCTION reports_sites_inserted();
DROP TRIGGER IF EXISTS hazards_site_summary_updated ON hazards_site;
CREATE TRIGGER hazards_site_summary_updated AFTER UPDATE ON hazards_site
    REFERENCING OLD TABLE AS old_sites NEW TABLE AS new_sites FOR EACH STATEMENT EXECUTE FUNCTION reports_sites_updated();
DROP TRIGGER IF EXISTS hazards_site_summary_deleted ON hazards_site;
CREATE TRIGGER hazards_site_summary_deleted AFTER DELETE ON hazards_site
    REFERENCING OLD TABLE AS old_sites FOR EACH STATEMENT EXECUTE FUNCTION reports_sites_deleted();
DROP TRIGGER IF EXISTS hazards_inspection_asof_inserted ON hazards_inspection;
CREATE TRIGGER hazards_inspection_asof_inserted AFTER INSERT ON hazards_inspection
    REFERENCING NEW TABLE AS new_inspections FOR EACH STATEMENT EXECUTE FUNCTION reports_inspections_inserted();
DROP TRIGGER IF EXISTS hazards_inspection_asof_updated ON hazards_inspection;
CREATE TRIGGER hazards_inspection_asof_updated AFTER UPDATE ON hazards_inspection
    REFERENCING OLD TABLE AS old_inspections NEW TABLE AS new_inspections FOR EACH STATEMENT
    EXECUTE FUNCTION reports_inspections_updated();
DROP TRIGGER IF EXISTS hazards_inspection_asof_deleted ON hazards_inspection;
CREATE TRIGGER hazards_inspection_asof_deleted AFTER DELETE ON hazards_inspection
    REFERENCING OLD TABLE AS old_inspections FOR EACH STATEMENT EXECUTE FUNCTION reports_inspections_deleted();
DROP TRIGGER IF EXISTS hazards_photo_asof_inserted ON hazards_photo;
CREATE TRIGGER hazards_photo_asof_inserted AFTER INSERT ON hazards_photo
    REFERENCING NEW TABLE AS new_photos FOR EACH STATEMENT EXECUTE FUNCTION reports_photos_inserted();

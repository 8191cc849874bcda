-- The audit trail: every insert, update and delete of sites, inspections, memberships
-- and targets writes one accounts_auditentry per record: who (the registry.actor setting
-- of the connection), when, and each changed column as [before, after]. A trigger sees
-- bulk SQL too, which model signals would not. Written per statement from the transition
-- tables, so an update of a million sites is one set-based INSERT (the row-level trigger
-- this replaced cost about a millisecond per record). Applied by accounts' migrations
-- (accounts/migrations/0008_audit_from_sql_file.py); `manage.py verify_derived` checks
-- that every audited record has the entry of its creation (accounts/derived.py).
--
-- One function serves every audited table and event. Trigger arguments: the record kind
-- (site, inspection, membership, target) and the columns left out of the entry (text[]).

-- The changed records of each event, as (record, diff) rows. OFFSET 0 keeps each row's
-- to_jsonb computed once: inlined, it ran again for every column compared (a millisecond
-- per row). $2 is the trigger's list of left-out columns.
CREATE OR REPLACE FUNCTION registry_audit_changes(event text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE event
        WHEN 'INSERT' THEN
            'SELECT r.record, (SELECT coalesce(jsonb_object_agg(key, jsonb_build_array(NULL::jsonb, value)), ''{}'')
                               FROM jsonb_each(r.record) WHERE key <> ALL ($2))
             FROM (SELECT to_jsonb(t) AS record FROM new_rows t OFFSET 0) r'
        WHEN 'UPDATE' THEN
            'SELECT r.after, (SELECT coalesce(jsonb_object_agg(key, jsonb_build_array(r.before -> key, r.after -> key)), ''{}'')
                              FROM jsonb_object_keys(r.before || r.after) AS key
                              WHERE key <> ALL ($2) AND (r.before -> key) IS DISTINCT FROM (r.after -> key))
             FROM (SELECT to_jsonb(o) AS before, to_jsonb(n) AS after
                   FROM old_rows o JOIN new_rows n ON n.id = o.id OFFSET 0) r'
        WHEN 'DELETE' THEN
            'SELECT r.record, (SELECT coalesce(jsonb_object_agg(key, jsonb_build_array(value, NULL::jsonb)), ''{}'')
                               FROM jsonb_each(r.record) WHERE key <> ALL ($2))
             FROM (SELECT to_jsonb(t) AS record FROM old_rows t OFFSET 0) r'
    END
$$;

-- One entry per changed record: an update only where a column other than the left-out
-- ones changed. The statement is composed per event (the transition tables each event
-- has differ) and reads the trigger's arguments as parameters.
CREATE OR REPLACE FUNCTION registry_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A file import names itself in registry.import for its transaction and writes one
    -- compact entry per record it inserts (file and row; hazards/import_load.py): the
    -- whole-record image cost ~60 µs a row, a minute for a million-row file.
    IF TG_OP = 'INSERT' AND current_setting('registry.import', true) <> '' THEN
        RETURN NULL;
    END IF;
    EXECUTE format($sql$
        INSERT INTO accounts_auditentry (at, actor_id, action, "table", object_id, site_id, area_path, changes)
        SELECT clock_timestamp(),
               nullif(current_setting('registry.actor', true), '')::bigint,
               lower($3),
               $4,
               c.record ->> 'id',
               c.site,
               coalesce(a.path, ''),
               c.diff
        FROM (
            SELECT p.record, p.diff,
                   CASE $1 WHEN 'site' THEN (p.record ->> 'id')::uuid
                           WHEN 'inspection' THEN (p.record ->> 'site_id')::uuid END AS site
            FROM (%s) AS p(record, diff)
        ) c
        LEFT JOIN hazards_site s ON $1 = 'inspection' AND s.id = c.site
        LEFT JOIN areas_area a ON a.id = coalesce(s.area_id, (c.record ->> 'area_id')::bigint)
        WHERE $3 <> 'UPDATE' OR c.diff <> '{}'
    $sql$, registry_audit_changes(TG_OP))
    USING TG_ARGV[0], TG_ARGV[1]::text[], TG_OP, TG_TABLE_NAME;
    RETURN NULL;
END
$$;

-- The audited tables (accounts/derived.py AUDITED names the same four). A site's
-- updated_at and a target's are left out: they change with every save.
DROP TRIGGER IF EXISTS hazards_site_audit_inserted ON hazards_site;
CREATE TRIGGER hazards_site_audit_inserted AFTER INSERT ON hazards_site REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_audit('site', '{updated_at}');
DROP TRIGGER IF EXISTS hazards_site_audit_updated ON hazards_site;
CREATE TRIGGER hazards_site_audit_updated AFTER UPDATE ON hazards_site
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_audit('site', '{updated_at}');
DROP TRIGGER IF EXISTS hazards_site_audit_deleted ON hazards_site;
CREATE TRIGGER hazards_site_audit_deleted AFTER DELETE ON hazards_site REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_audit('site', '{updated_at}');

DROP TRIGGER IF EXISTS hazards_inspection_audit_inserted ON hazards_inspection;
CREATE TRIGGER hazards_inspection_audit_inserted AFTER INSERT ON hazards_inspection
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_audit('inspection', '{}');
DROP TRIGGER IF EXISTS hazards_inspection_audit_updated ON hazards_inspection;
CREATE TRIGGER hazards_inspection_audit_updated AFTER UPDATE ON hazards_inspection
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_audit('inspection', '{}');
DROP TRIGGER IF EXISTS hazards_inspection_audit_deleted ON hazards_inspection;
CREATE TRIGGER hazards_inspection_audit_deleted AFTER DELETE ON hazards_inspection
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_audit('inspection', '{}');

DROP TRIGGER IF EXISTS accounts_membership_audit_inserted ON accounts_membership;
CREATE TRIGGER accounts_membership_audit_inserted AFTER INSERT ON accounts_membership
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_audit('membership', '{}');
DROP TRIGGER IF EXISTS accounts_membership_audit_updated ON accounts_membership;
CREATE TRIGGER accounts_membership_audit_updated AFTER UPDATE ON accounts_membership
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_audit('membership', '{}');
DROP TRIGGER IF EXISTS accounts_membership_audit_deleted ON accounts_membership;
CREATE TRIGGER accounts_membership_audit_deleted AFTER DELETE ON accounts_membership
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_audit('membership', '{}');

DROP TRIGGER IF EXISTS reports_target_audit_inserted ON reports_target;
CREATE TRIGGER reports_target_audit_inserted AFTER INSERT ON reports_target REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_audit('target', '{updated_at}');
DROP TRIGGER IF EXISTS reports_target_audit_updated ON reports_target;
CREATE TRIGGER reports_target_audit_updated AFTER UPDATE ON reports_target
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_audit('target', '{updated_at}');
DROP TRIGGER IF EXISTS reports_target_audit_deleted ON reports_target;
CREATE TRIGGER reports_target_audit_deleted AFTER DELETE ON reports_target REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_audit('target', '{updated_at}');

-- The per-event functions that 0006 wrote, replaced by registry_audit above.
DROP FUNCTION IF EXISTS registry_audit_inserted();
DROP FUNCTION IF EXISTS registry_audit_updated();
DROP FUNCTION IF EXISTS registry_audit_deleted();

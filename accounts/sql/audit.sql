-- The audit trail: every insert, update and delete of sites, inspections, memberships,
-- targets, remediation orders and campaigns writes one accounts_auditentry per record:
-- who (the registry.actor setting of the connection), when, and each changed column as [before, after]. A trigger sees
-- bulk SQL too, which model signals would not. Written per statement from the transition
-- tables, so an update of a million sites is one set-based INSERT (the row-level trigger
-- this replaced cost far more per record, bench/NOTES.md). Applied by accounts' migrations
-- (0008, 0011, 0013, 0018, 0021) and hazards 0019, through common/sql_files.py; `manage.py verify_derived` checks
-- that every audited record has the entry of its creation (accounts/derived.py).
--
-- One function serves every audited table and event. Trigger arguments: the record kind
-- (site, inspection, membership, target, user, token, pairing, photo, order, campaign) and
-- the columns left out of the entry (text[]).
--
-- Account events are here too (people created and changed: deactivation, a password set
-- or changed; device tokens issued and revoked; pairing codes shown and spent; photos
-- added), filed under the first of the person's areas (registry_account_area), so that an
-- administrator there reads them. Secrets are never copied: registry_audit_hidden names
-- the columns whose entry says only that they were set or changed ("…").

CREATE OR REPLACE FUNCTION registry_account_area(person bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(min(a.path), '') FROM accounts_membership m JOIN areas_area a ON a.id = m.area_id
    WHERE m.user_id = person
$$;

CREATE OR REPLACE FUNCTION registry_audit_hidden(audited_table text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE audited_table
        WHEN 'accounts_user' THEN '{password}'::text[]
        WHEN 'accounts_devicetoken' THEN '{key_hash}'::text[]
        WHEN 'accounts_pairingcode' THEN '{code_hash}'::text[]
        ELSE '{}'::text[]
    END
$$;

-- An entry's changes with each hidden column's values replaced by "…" (null stays null).
CREATE OR REPLACE FUNCTION registry_audit_masked(diff jsonb, hidden text[]) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_object_agg(key, CASE WHEN key = ANY (hidden) THEN jsonb_build_array(
                        CASE WHEN value -> 0 <> 'null'::jsonb THEN to_jsonb('…'::text) END,
                        CASE WHEN value -> 1 <> 'null'::jsonb THEN to_jsonb('…'::text) END)
                    ELSE value END), '{}'::jsonb)
    FROM jsonb_each(diff)
$$;

-- The changed records of each event, as (record, diff) rows. OFFSET 0 keeps each row's
-- to_jsonb computed once: inlined, it ran again for every column compared
-- (bench/NOTES.md). $2 is the trigger's list of left-out columns.
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
    -- whole-record image made a million-row file slow (bench/NOTES.md).
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
               coalesce(CASE WHEN c.person IS NOT NULL THEN registry_account_area(c.person) ELSE a.path END, ''),
               registry_audit_masked(c.diff, registry_audit_hidden($4))
        FROM (
            SELECT p.record, p.diff,
                   CASE $1 WHEN 'site' THEN (p.record ->> 'id')::uuid
                           WHEN 'inspection' THEN (p.record ->> 'site_id')::uuid
                           WHEN 'photo' THEN (SELECT i.site_id FROM hazards_inspection i
                                              WHERE i.id = (p.record ->> 'inspection_id')::uuid)
                           WHEN 'order' THEN (p.record ->> 'site_id')::uuid END AS site,
                   CASE $1 WHEN 'user' THEN (p.record ->> 'id')::bigint
                           WHEN 'token' THEN (p.record ->> 'user_id')::bigint
                           WHEN 'pairing' THEN (p.record ->> 'user_id')::bigint END AS person
            FROM (%s) AS p(record, diff)
        ) c
        LEFT JOIN hazards_site s ON $1 IN ('inspection', 'photo', 'order') AND s.id = c.site
        LEFT JOIN areas_area a ON a.id = coalesce(s.area_id, (c.record ->> 'area_id')::bigint)
        WHERE $3 <> 'UPDATE' OR c.diff <> '{}'
    $sql$, registry_audit_changes(TG_OP))
    USING TG_ARGV[0], TG_ARGV[1]::text[], TG_OP, TG_TABLE_NAME;
    RETURN NULL;
END
$$;

-- The audited tables (accounts/derived.py AUDITED, which each app fills in for its own,
-- names the same ones), each with its record kind and the columns left out. A site's
-- updated_at and a target's are left out: they change with every save; so are a person's
-- last sign-in and a token's last use (a write on every sign-in or request), and a
-- person's name key (it repeats the name's change) and who set their password and who else
-- may know it (the actor of the password's change, and who knew the actor's). A table that does not exist yet (a
-- migration applies this file before a later one creates it) gets its triggers when the
-- file is applied again after it.
--
-- The tables of hazards and reports are named here, in accounts, although their apps sit
-- above it (tests/test_layers.py allows exactly these names): this file is applied by
-- name, at their points in history, by migrations of accounts (0008, 0011, 0013) and of
-- hazards (0019), so a table taken out of this list would lose its triggers when those
-- replay, until a new migration in its own app attached them again; and registry_audit
-- above finds the site and area of an inspection, photo or order through hazards_site in
-- the one statement it composes for every table. Moving both to the apps (a function
-- here that attaches a table's triggers, called from each app's own SQL file, and the
-- site's lookup passed as a trigger argument) is left for its own change (issue 23).
DO $$
DECLARE
    audited record;
BEGIN
    FOR audited IN
        SELECT * FROM (VALUES
            ('hazards_site', 'site', '{updated_at}'),
            ('hazards_inspection', 'inspection', '{}'),
            ('accounts_membership', 'membership', '{}'),
            ('reports_target', 'target', '{updated_at}'),
            ('accounts_user', 'user', '{last_login,name_key,password_set_by_id,password_known_also_by}'),
            ('accounts_devicetoken', 'token', '{last_used_at}'),
            ('accounts_pairingcode', 'pairing', '{}'),
            ('hazards_photo', 'photo', '{}'),
            -- Remediation orders are named by their site, as inspections are; campaigns by
            -- their area (none for the whole country). Created by hazards 0018, after
            -- accounts' migrations: hazards 0019 applies this file again.
            ('hazards_remediationorder', 'order', '{updated_at}'),
            ('hazards_campaign', 'campaign', '{}')
        ) AS t(name, kind, left_out)
        WHERE to_regclass(t.name) IS NOT NULL
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %1$I ON %2$I', audited.name || '_audit_inserted', audited.name);
        EXECUTE format(
            'CREATE TRIGGER %1$I AFTER INSERT ON %2$I REFERENCING NEW TABLE AS new_rows '
            'FOR EACH STATEMENT EXECUTE FUNCTION registry_audit(%3$L, %4$L)',
            audited.name || '_audit_inserted', audited.name, audited.kind, audited.left_out);
        EXECUTE format('DROP TRIGGER IF EXISTS %1$I ON %2$I', audited.name || '_audit_updated', audited.name);
        EXECUTE format(
            'CREATE TRIGGER %1$I AFTER UPDATE ON %2$I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
            'FOR EACH STATEMENT EXECUTE FUNCTION registry_audit(%3$L, %4$L)',
            audited.name || '_audit_updated', audited.name, audited.kind, audited.left_out);
        EXECUTE format('DROP TRIGGER IF EXISTS %1$I ON %2$I', audited.name || '_audit_deleted', audited.name);
        EXECUTE format(
            'CREATE TRIGGER %1$I AFTER DELETE ON %2$I REFERENCING OLD TABLE AS old_rows '
            'FOR EACH STATEMENT EXECUTE FUNCTION registry_audit(%3$L, %4$L)',
            audited.name || '_audit_deleted', audited.name, audited.kind, audited.left_out);
    END LOOP;
END
$$;

-- The per-event functions that 0006 wrote, replaced by registry_audit above.
DROP FUNCTION IF EXISTS registry_audit_inserted();
DROP FUNCTION IF EXISTS registry_audit_updated();
DROP FUNCTION IF EXISTS registry_audit_deleted();

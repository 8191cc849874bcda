-- The audit trail: every insert, update and delete of an audited table writes one
-- accounts_auditentry per record: who (the registry.actor setting of the connection), when,
-- and each changed column as [before, after]. A trigger sees bulk SQL too, which model
-- signals would not. Written per statement from the transition tables, so an update of a
-- million sites is one set-based INSERT (the row-level trigger this replaced cost far more
-- per record, bench/NOTES.md). `manage.py verify_derived` checks that every audited record
-- has the entry of its creation (accounts/derived.py).
--
-- This file holds what is accounts' own: the one trigger function every audited table
-- runs, registry_audit_attach that (re)creates a table's three triggers, and the attaching
-- of accounts' tables. Each app above attaches its own tables in its own SQL file, saying
-- which site a record concerns and where its area comes from (hazards/sql/audit.sql,
-- reports/sql/audit.sql), so that nothing here names a table of an app above accounts.
-- Applied by accounts' migrations (0008, 0011, 0013, 0018, 0021, 0023) and hazards 0019,
-- through common/sql_files.py.
--
-- Account events are here too (people created and changed: deactivation, a password set
-- or changed; device tokens issued and revoked; pairing codes shown and spent), filed under
-- the first of the person's areas (registry_account_area), so that an administrator there
-- reads them. Secrets are never copied: registry_audit_hidden names the columns whose entry
-- says only that they were set or changed ("…").

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
-- (bench/NOTES.md). $1 is the trigger's list of left-out columns.
CREATE OR REPLACE FUNCTION registry_audit_changes(event text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE event
        WHEN 'INSERT' THEN
            'SELECT r.record, (SELECT coalesce(jsonb_object_agg(key, jsonb_build_array(NULL::jsonb, value)), ''{}'')
                               FROM jsonb_each(r.record) WHERE key <> ALL ($1))
             FROM (SELECT to_jsonb(t) AS record FROM new_rows t OFFSET 0) r'
        WHEN 'UPDATE' THEN
            'SELECT r.after, (SELECT coalesce(jsonb_object_agg(key, jsonb_build_array(r.before -> key, r.after -> key)), ''{}'')
                              FROM jsonb_object_keys(r.before || r.after) AS key
                              WHERE key <> ALL ($1) AND (r.before -> key) IS DISTINCT FROM (r.after -> key))
             FROM (SELECT to_jsonb(o) AS before, to_jsonb(n) AS after
                   FROM old_rows o JOIN new_rows n ON n.id = o.id OFFSET 0) r'
        WHEN 'DELETE' THEN
            'SELECT r.record, (SELECT coalesce(jsonb_object_agg(key, jsonb_build_array(value, NULL::jsonb)), ''{}'')
                               FROM jsonb_each(r.record) WHERE key <> ALL ($1))
             FROM (SELECT to_jsonb(t) AS record FROM old_rows t OFFSET 0) r'
    END
$$;

-- One entry per changed record: an update only where a column other than the left-out
-- ones changed. The statement is composed per event (the transition tables each event
-- has differ) from the trigger's arguments, which registry_audit_attach below writes:
-- the left-out columns (a parameter), then three SQL fragments the owning app gives
-- (fixed in its DDL, never user input): the record's site (over c.record, the record as
-- jsonb), the joins its area path reads (over c.record and c.site), and that path. The
-- fragments are joins and expressions of the one statement: an audited batch stays one
-- set-based INSERT, with no function call or query of its own per record.
CREATE OR REPLACE FUNCTION registry_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A file import names itself in registry.import for its transaction and writes one
    -- compact entry per record it inserts (file and row; hazards/import_load.py): the
    -- whole-record image made a million-row file slow (bench/NOTES.md).
    IF TG_OP = 'INSERT' AND current_setting('registry.import', true) <> '' THEN
        RETURN NULL;
    END IF;
    -- A trigger this file wrote before accounts 0023, on a table its app has not attached
    -- again yet (hazards 0028, reports 0012), has no site or area to give: refused, not
    -- written without them.
    IF TG_NARGS <> 4 THEN
        RAISE EXCEPTION 'audit trigger % on % was not written by registry_audit_attach: migrate its app',
            TG_NAME, TG_TABLE_NAME;
    END IF;
    EXECUTE format($sql$
        INSERT INTO accounts_auditentry (at, actor_id, action, "table", object_id, site_id, area_path, changes)
        SELECT clock_timestamp(),
               nullif(current_setting('registry.actor', true), '')::bigint,
               lower($2),
               $3,
               c.record ->> 'id',
               c.site,
               coalesce(%4$s, ''),
               registry_audit_masked(c.diff, registry_audit_hidden($3))
        FROM (SELECT c.record, c.diff, %2$s AS site FROM (%1$s) AS c(record, diff)) c
        %3$s
        WHERE $2 <> 'UPDATE' OR c.diff <> '{}'
    $sql$, registry_audit_changes(TG_OP), TG_ARGV[1], TG_ARGV[2], TG_ARGV[3])
    USING TG_ARGV[0]::text[], TG_OP, TG_TABLE_NAME;
    RETURN NULL;
END
$$;

-- Writes the table's three audit triggers again (insert, update, delete), replacing any it
-- had. left_out: the columns an entry leaves out (one that changes on every save, or
-- repeats another's change). site: the site the record concerns (uuid, over c.record).
-- joins and area_path: the area path the entry is filed under; by default the record's
-- own area (its area_id). A table not created yet is left alone: an early migration
-- applies its app's file before a later one creates the table, and a later one applies
-- the file again (tests/accounts/test_audit_triggers.py checks that every audited table
-- ends with its triggers, attached by one file).
CREATE OR REPLACE FUNCTION registry_audit_attach(
    audited text,
    left_out text[] DEFAULT '{}',
    site text DEFAULT 'NULL::uuid',
    joins text DEFAULT 'LEFT JOIN areas_area a ON a.id = (c.record ->> ''area_id'')::bigint',
    area_path text DEFAULT 'a.path'
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    event record;
BEGIN
    IF to_regclass(audited) IS NULL THEN
        RETURN;
    END IF;
    FOR event IN
        SELECT * FROM (VALUES
            ('inserted', 'INSERT', 'NEW TABLE AS new_rows'),
            ('updated', 'UPDATE', 'OLD TABLE AS old_rows NEW TABLE AS new_rows'),
            ('deleted', 'DELETE', 'OLD TABLE AS old_rows')
        ) AS e(suffix, operation, transition)
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', audited || '_audit_' || event.suffix, audited);
        EXECUTE format(
            'CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s FOR EACH STATEMENT '
            'EXECUTE FUNCTION registry_audit(%L, %L, %L, %L)',
            audited || '_audit_' || event.suffix, event.operation, audited, event.transition,
            left_out, site, joins, area_path);
    END LOOP;
END
$$;

-- Accounts' own tables. A person's last sign-in and a token's last use are left out (a
-- write on every sign-in or request), and so are a person's name key (it repeats the
-- name's change) and who set their password and who else may know it (the actor of the
-- password's change, and who knew the actor's). A person's, a token's and a pairing
-- code's entries are filed under the person's first area.
SELECT registry_audit_attach('accounts_membership');
SELECT registry_audit_attach(
    'accounts_user', '{last_login,name_key,password_set_by_id,password_known_also_by}',
    joins => '', area_path => $$registry_account_area((c.record ->> 'id')::bigint)$$);
SELECT registry_audit_attach(
    'accounts_devicetoken', '{last_used_at}',
    joins => '', area_path => $$registry_account_area((c.record ->> 'user_id')::bigint)$$);
SELECT registry_audit_attach(
    'accounts_pairingcode',
    joins => '', area_path => $$registry_account_area((c.record ->> 'user_id')::bigint)$$);

-- The per-event functions that 0006 wrote, replaced by registry_audit above. A database
-- migrated from zero meets them at 0008, with the triggers 0006 attached to them on the
-- tables of the apps above: those go with them (CASCADE), and their apps' own files
-- attach the tables again (hazards 0028, reports 0012); no migration writes in between.
DROP FUNCTION IF EXISTS registry_audit_inserted() CASCADE;
DROP FUNCTION IF EXISTS registry_audit_updated() CASCADE;
DROP FUNCTION IF EXISTS registry_audit_deleted() CASCADE;

-- The map's tile grants (mapping_tilegrant, mapping/tile_tokens.py) end when what the
-- map's token stands for changes: a grant is deleted by these triggers, whatever writes
-- the change (the application, the admin, a script, SQL), and each tile's statement only
-- asks whether its grant and session are still there. It used to compute a digest of the
-- person's standing at every tile, which cost a tenth of a zoom-14 tile (bench/NOTES.md).
--
-- The triggers run when the change commits (deferred), under an exclusive lock that a
-- token's issue takes shared around making its grant and reading the scope it carries:
-- a grant made while the change was not yet committed, with the scope from before it, is
-- deleted at the commit; one made after it waits for the commit and reads the new scope.
-- Each trigger is per row, on the rows that changed, old and new (a row renumbered in SQL
-- is still the same person's).
--
-- What a token stands for is what scope_for and the sign-in's password rule read:
-- - the person: active, superuser, password, who set it and who else may know it
--   (accounts.scope.password_still_usable), memberships;
-- - whoever set or may know their password: active, superuser, memberships (the password
--   signs in only while they may still manage its holder);
-- - the area tree: a token carries its scope as the areas' paths.
-- A deleted person's grants go with them; the people whose password they knew lose theirs.
-- Applied by mapping's migrations (0015 and any later one that applies it again, through
-- common/sql_files.py).

-- The lock: exclusive for a change ending grants, shared for a token's issue.
CREATE OR REPLACE FUNCTION mapping_tile_grants_lock(shared boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF shared THEN
        PERFORM pg_advisory_xact_lock_shared(hashtext('mapping_tile_grants'));
    ELSE
        PERFORM pg_advisory_xact_lock(hashtext('mapping_tile_grants'));
    END IF;
END $$;

-- Ends the grants of `people`, and of everyone whose password one of `setters` set or may
-- know. PL/pgSQL: the delete reads the grants as they are once the lock is held.
CREATE OR REPLACE FUNCTION mapping_tile_grants_end(people bigint[], setters bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mapping_tile_grants_lock(false);
    DELETE FROM mapping_tilegrant g
    WHERE g.user_id = ANY (people)
       OR g.user_id IN (SELECT u.id FROM accounts_user u
                        WHERE u.password_set_by_id = ANY (setters) OR u.password_known_also_by && setters);
END $$;

-- A person changed or deleted: their grants; if their activity or superuser flag changed,
-- or they are gone, those of the people whose password they set or may know.
CREATE OR REPLACE FUNCTION mapping_tile_grants_person_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM mapping_tile_grants_end(ARRAY[OLD.id], ARRAY[OLD.id]);
    ELSIF (OLD.id, OLD.is_active, OLD.is_superuser) IS DISTINCT FROM (NEW.id, NEW.is_active, NEW.is_superuser) THEN
        PERFORM mapping_tile_grants_end(ARRAY[OLD.id, NEW.id], ARRAY[OLD.id, NEW.id]);
    ELSE
        PERFORM mapping_tile_grants_end(ARRAY[NEW.id], '{}');
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS mapping_tile_grants_person_updated ON accounts_user;
CREATE CONSTRAINT TRIGGER mapping_tile_grants_person_updated AFTER UPDATE ON accounts_user
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN ((OLD.id, OLD.is_active, OLD.is_superuser, OLD.password, OLD.password_set_by_id, OLD.password_known_also_by)
          IS DISTINCT FROM (NEW.id, NEW.is_active, NEW.is_superuser, NEW.password, NEW.password_set_by_id,
                            NEW.password_known_also_by))
    EXECUTE FUNCTION mapping_tile_grants_person_changed();
DROP TRIGGER IF EXISTS mapping_tile_grants_person_deleted ON accounts_user;
CREATE CONSTRAINT TRIGGER mapping_tile_grants_person_deleted AFTER DELETE ON accounts_user
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION mapping_tile_grants_person_changed();

-- A membership added, changed or removed: its person's grants (before and after), and
-- those of the people whose password that person set or may know.
CREATE OR REPLACE FUNCTION mapping_tile_grants_roles_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    people bigint[] := CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW.user_id] WHEN 'DELETE' THEN ARRAY[OLD.user_id]
                                  ELSE ARRAY[OLD.user_id, NEW.user_id] END;
BEGIN
    PERFORM mapping_tile_grants_end(people, people);
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS mapping_tile_grants_roles_added ON accounts_membership;
DROP TRIGGER IF EXISTS mapping_tile_grants_roles_removed ON accounts_membership;
DROP TRIGGER IF EXISTS mapping_tile_grants_roles_changed ON accounts_membership;
DROP TRIGGER IF EXISTS mapping_tile_grants_roles_updated ON accounts_membership;
CREATE CONSTRAINT TRIGGER mapping_tile_grants_roles_changed AFTER INSERT OR DELETE ON accounts_membership
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION mapping_tile_grants_roles_changed();
CREATE CONSTRAINT TRIGGER mapping_tile_grants_roles_updated AFTER UPDATE ON accounts_membership
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN ((OLD.id, OLD.user_id, OLD.area_id, OLD.role) IS DISTINCT FROM (NEW.id, NEW.user_id, NEW.area_id, NEW.role))
    EXECUTE FUNCTION mapping_tile_grants_roles_changed();
-- A truncate has no rows to defer: every grant, at once (it locks the memberships until
-- its commit, so no token's issue reads them meanwhile).
CREATE OR REPLACE FUNCTION mapping_tile_grants_all_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mapping_tile_grants_lock(false);
    DELETE FROM mapping_tilegrant;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS mapping_tile_grants_roles_truncated ON accounts_membership;
CREATE TRIGGER mapping_tile_grants_roles_truncated AFTER TRUNCATE ON accounts_membership
    FOR EACH STATEMENT EXECUTE FUNCTION mapping_tile_grants_all_end();

-- An area given another place in the tree: every grant, since any token's paths may
-- name it or a place under it (only for a path that changed: a boundary reload rewrites
-- every area's row).
DROP FUNCTION IF EXISTS mapping_tile_grants_tree_changed() CASCADE;
DROP TRIGGER IF EXISTS mapping_tile_grants_tree_moved ON areas_area;
CREATE CONSTRAINT TRIGGER mapping_tile_grants_tree_moved AFTER UPDATE OF path ON areas_area
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.path IS DISTINCT FROM NEW.path)
    EXECUTE FUNCTION mapping_tile_grants_all_end();

-- The map's tile grants (mapping_tilegrant, mapping/tile_tokens.py) end when what the
-- map's token stands for changes. These triggers count each such change in the person's
-- standing (mapping_tilestanding, one row a person, user 0 for the area tree), whatever
-- writes it (the application, the admin, a script, SQL). A grant keeps who besides its
-- person may know their password, and the sum of their counts, its person's and the
-- tree's as it was before its token's scope was read; a tile is served while the sum is
-- the same (GRANT_IN_TILE). A change counts only for the people it changes: no trigger
-- looks up whom it concerns besides (that read a snapshot, which missed a password set
-- while the change was open), nor waits on their rows. A change not yet committed shows at
-- its commit, at any isolation level, and nobody waits for it. Computing a digest of the
-- person's standing at each tile instead cost a tenth of a zoom-14 tile (bench/NOTES.md);
-- deleting grants by triggers instead missed grants made while a change was open, and a
-- lock to close that made maps wait (pentests).
--
-- What a token stands for is what scope_for and the sign-in's password rule read:
-- - the person: active, superuser, password, who set it and who else may know it
--   (accounts.scope.password_still_usable), memberships;
-- - whoever set or may know their password: active, superuser, memberships (the password
--   signs in only while they may still manage its holder);
-- - the area tree: a token carries its scope as the areas' paths.
-- Per row, old and new, so a row renumbered in SQL is still the same person's.
-- Counts only grow: a row set back or deleted would make an ended grant hold again.
-- Applied by mapping's migrations (0017, 0018 and any later one that applies it
-- again, through common/sql_files.py).

-- What mapping 0015 and 0016 made: grants deleted by triggers, under a lock.
DROP FUNCTION IF EXISTS mapping_tile_grants_end(bigint[], bigint[]) CASCADE;
DROP FUNCTION IF EXISTS mapping_tile_grants_lock(boolean) CASCADE;
DROP FUNCTION IF EXISTS mapping_tile_grants_person_changed() CASCADE;
DROP FUNCTION IF EXISTS mapping_tile_grants_roles_changed() CASCADE;
DROP FUNCTION IF EXISTS mapping_tile_grants_all_end() CASCADE;
DROP FUNCTION IF EXISTS mapping_tile_grants_tree_changed() CASCADE;

DROP FUNCTION IF EXISTS mapping_tile_standing_changed(bigint[], bigint[]);

-- Counts a change for `people`, in key order: two changes at once take the rows in the
-- same order.
CREATE OR REPLACE FUNCTION mapping_tile_standing_changed(people bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO mapping_tilestanding AS t (user_id, version)
    SELECT DISTINCT who, 1 FROM unnest(people) AS who WHERE who IS NOT NULL ORDER BY who
    ON CONFLICT (user_id) DO UPDATE SET version = t.version + 1
$$;

CREATE OR REPLACE FUNCTION mapping_tile_standing_only_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'mapping_tilestanding only counts up: % refused', TG_OP;
END $$;

DROP TRIGGER IF EXISTS mapping_tile_standing_only_grows ON mapping_tilestanding;
CREATE TRIGGER mapping_tile_standing_only_grows BEFORE UPDATE ON mapping_tilestanding FOR EACH ROW
    WHEN (NEW.version <= OLD.version OR NEW.user_id <> OLD.user_id)
    EXECUTE FUNCTION mapping_tile_standing_only_grows();
DROP TRIGGER IF EXISTS mapping_tile_standing_kept ON mapping_tilestanding;
CREATE TRIGGER mapping_tile_standing_kept BEFORE DELETE ON mapping_tilestanding FOR EACH ROW
    EXECUTE FUNCTION mapping_tile_standing_only_grows();

-- A person changed or deleted. The people whose password they set or may know hold
-- their count in their grants' sums.
CREATE OR REPLACE FUNCTION mapping_tile_standing_person() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM mapping_tile_standing_changed(ARRAY[OLD.id]);
    ELSE
        PERFORM mapping_tile_standing_changed(ARRAY[OLD.id, NEW.id]);
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS mapping_tile_standing_person_updated ON accounts_user;
CREATE TRIGGER mapping_tile_standing_person_updated AFTER UPDATE ON accounts_user FOR EACH ROW
    WHEN ((OLD.id, OLD.is_active, OLD.is_superuser, OLD.password, OLD.password_set_by_id, OLD.password_known_also_by)
          IS DISTINCT FROM (NEW.id, NEW.is_active, NEW.is_superuser, NEW.password, NEW.password_set_by_id,
                            NEW.password_known_also_by))
    EXECUTE FUNCTION mapping_tile_standing_person();
DROP TRIGGER IF EXISTS mapping_tile_standing_person_deleted ON accounts_user;
CREATE TRIGGER mapping_tile_standing_person_deleted AFTER DELETE ON accounts_user FOR EACH ROW
    EXECUTE FUNCTION mapping_tile_standing_person();

-- A membership added, changed or removed: its person's standing, before and after.
CREATE OR REPLACE FUNCTION mapping_tile_standing_roles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mapping_tile_standing_changed(CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW.user_id]
                                                     WHEN 'DELETE' THEN ARRAY[OLD.user_id]
                                                     ELSE ARRAY[OLD.user_id, NEW.user_id] END);
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS mapping_tile_standing_roles_changed ON accounts_membership;
CREATE TRIGGER mapping_tile_standing_roles_changed AFTER INSERT OR DELETE ON accounts_membership FOR EACH ROW
    EXECUTE FUNCTION mapping_tile_standing_roles();
DROP TRIGGER IF EXISTS mapping_tile_standing_roles_updated ON accounts_membership;
CREATE TRIGGER mapping_tile_standing_roles_updated AFTER UPDATE ON accounts_membership FOR EACH ROW
    WHEN ((OLD.id, OLD.user_id, OLD.area_id, OLD.role) IS DISTINCT FROM (NEW.id, NEW.user_id, NEW.area_id, NEW.role))
    EXECUTE FUNCTION mapping_tile_standing_roles();

-- Every grant's sum holds the tree's count: counting a change there ends them all. For an
-- area given another place in the tree (only a path that changed: a boundary reload
-- rewrites every area's row), and for a truncate of the memberships, which has no rows.
CREATE OR REPLACE FUNCTION mapping_tile_standing_everyone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mapping_tile_standing_changed(ARRAY[0::bigint]);
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS mapping_tile_standing_roles_truncated ON accounts_membership;
CREATE TRIGGER mapping_tile_standing_roles_truncated AFTER TRUNCATE ON accounts_membership
    FOR EACH STATEMENT EXECUTE FUNCTION mapping_tile_standing_everyone();
DROP TRIGGER IF EXISTS mapping_tile_standing_tree_moved ON areas_area;
CREATE TRIGGER mapping_tile_standing_tree_moved AFTER UPDATE OF path ON areas_area FOR EACH ROW
    WHEN (OLD.path IS DISTINCT FROM NEW.path)
    EXECUTE FUNCTION mapping_tile_standing_everyone();

-- The map's tile grants (mapping_tilegrant, mapping/tile_tokens.py) end when what the
-- map's token stands for changes: a grant is deleted by these triggers, whatever writes
-- the change (the application, the admin, a script, SQL), and each tile's statement only
-- asks whether its grant and session are still there. It used to compute a digest of the
-- person's standing at every tile, which cost a tenth of a zoom-14 tile (bench/NOTES.md).
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

-- Ends the grants of `people`, and of everyone whose password one of `setters` set or may know.
CREATE OR REPLACE FUNCTION mapping_tile_grants_end(people bigint[], setters bigint[]) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM mapping_tilegrant g USING accounts_user u
    WHERE u.id = g.user_id
      AND (u.id = ANY (people) OR u.password_set_by_id = ANY (setters) OR u.password_known_also_by && setters)
$$;

-- Per statement, from the transition tables: a bulk change is one delete.
CREATE OR REPLACE FUNCTION mapping_tile_grants_person_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    people bigint[];
    setters bigint[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(o.id), array_agg(o.id) INTO people, setters FROM old_people o;
    ELSE
        SELECT array_agg(n.id) FILTER (WHERE (o.is_active, o.is_superuser, o.password, o.password_set_by_id,
                                              o.password_known_also_by)
                                             IS DISTINCT FROM (n.is_active, n.is_superuser, n.password,
                                                               n.password_set_by_id, n.password_known_also_by)),
               array_agg(n.id) FILTER (WHERE (o.is_active, o.is_superuser) IS DISTINCT FROM (n.is_active, n.is_superuser))
        INTO people, setters
        FROM old_people o JOIN new_people n ON n.id = o.id;
    END IF;
    IF people IS NOT NULL OR setters IS NOT NULL THEN
        PERFORM mapping_tile_grants_end(coalesce(people, '{}'), coalesce(setters, '{}'));
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS mapping_tile_grants_person_updated ON accounts_user;
CREATE TRIGGER mapping_tile_grants_person_updated AFTER UPDATE ON accounts_user
    REFERENCING OLD TABLE AS old_people NEW TABLE AS new_people
    FOR EACH STATEMENT EXECUTE FUNCTION mapping_tile_grants_person_changed();
DROP TRIGGER IF EXISTS mapping_tile_grants_person_deleted ON accounts_user;
CREATE TRIGGER mapping_tile_grants_person_deleted AFTER DELETE ON accounts_user
    REFERENCING OLD TABLE AS old_people
    FOR EACH STATEMENT EXECUTE FUNCTION mapping_tile_grants_person_changed();

-- A membership added, changed or removed: its person's grants, and those of the people
-- whose password that person set or may know.
CREATE OR REPLACE FUNCTION mapping_tile_grants_roles_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    people bigint[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM mapping_tilegrant;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT n.user_id) INTO people FROM new_roles n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT o.user_id) INTO people FROM old_roles o;
    ELSE
        SELECT array_agg(DISTINCT who) INTO people
        FROM old_roles o JOIN new_roles n ON n.id = o.id, LATERAL (VALUES (o.user_id), (n.user_id)) AS w (who)
        WHERE (o.user_id, o.area_id, o.role) IS DISTINCT FROM (n.user_id, n.area_id, n.role);
    END IF;
    IF people IS NOT NULL THEN
        PERFORM mapping_tile_grants_end(people, people);
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS mapping_tile_grants_roles_added ON accounts_membership;
CREATE TRIGGER mapping_tile_grants_roles_added AFTER INSERT ON accounts_membership
    REFERENCING NEW TABLE AS new_roles
    FOR EACH STATEMENT EXECUTE FUNCTION mapping_tile_grants_roles_changed();
DROP TRIGGER IF EXISTS mapping_tile_grants_roles_updated ON accounts_membership;
CREATE TRIGGER mapping_tile_grants_roles_updated AFTER UPDATE ON accounts_membership
    REFERENCING OLD TABLE AS old_roles NEW TABLE AS new_roles
    FOR EACH STATEMENT EXECUTE FUNCTION mapping_tile_grants_roles_changed();
DROP TRIGGER IF EXISTS mapping_tile_grants_roles_removed ON accounts_membership;
CREATE TRIGGER mapping_tile_grants_roles_removed AFTER DELETE ON accounts_membership
    REFERENCING OLD TABLE AS old_roles
    FOR EACH STATEMENT EXECUTE FUNCTION mapping_tile_grants_roles_changed();
DROP TRIGGER IF EXISTS mapping_tile_grants_roles_truncated ON accounts_membership;
CREATE TRIGGER mapping_tile_grants_roles_truncated AFTER TRUNCATE ON accounts_membership
    FOR EACH STATEMENT EXECUTE FUNCTION mapping_tile_grants_roles_changed();

-- An area given another place in the tree: every grant, since any token's paths may
-- name it or a place under it. Per row, and only for a path that changed: an area's row
-- holds its boundary, which a statement's transition tables would copy for every area a
-- boundary reload rewrites.
CREATE OR REPLACE FUNCTION mapping_tile_grants_tree_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM mapping_tilegrant;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS mapping_tile_grants_tree_moved ON areas_area;
CREATE TRIGGER mapping_tile_grants_tree_moved AFTER UPDATE OF path ON areas_area
    FOR EACH ROW WHEN (OLD.path IS DISTINCT FROM NEW.path)
    EXECUTE FUNCTION mapping_tile_grants_tree_changed();

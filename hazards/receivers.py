"""What hazards does when the apps below it change (connected in HazardsConfig.ready())."""

from django.db import connection

from areas.assignment import owner_of

# Every site inside the extent of reloaded areas takes its owner by owner_of's rule, in
# one statement; a site no area covers any more keeps its old area and is counted.
REASSIGN_SQL = f"""
WITH owner AS (
    SELECT s.id, s.area_id AS old_area_id, {owner_of("s.location")} AS area_id
    FROM hazards_site s
    WHERE s.location && %(extent)s::geometry
), moved AS (
    UPDATE hazards_site s SET area_id = owner.area_id
    FROM owner
    WHERE s.id = owner.id AND owner.area_id IS NOT NULL AND owner.area_id <> owner.old_area_id
    RETURNING s.id
)
SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM owner WHERE area_id IS NULL)
"""  # noqa: S608


def reassign_sites(sender, extent, **kwargs) -> tuple[int, int]:
    """Receives areas_reloaded: (sites moved, sites now outside every area)."""
    with connection.cursor() as cursor:
        cursor.execute(REASSIGN_SQL, {"extent": extent.ewkt})
        return cursor.fetchone()

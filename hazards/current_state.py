"""A site's current state (sign, barrier, last check, photo evidence), derived from its
inspections by the state rule, written by the services after every change to them, and
compared with the rule for every site by `manage.py verify_derived`; and its state
(protected, signed only...), stored by PostgreSQL from the rule in rules.sql."""

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import F

from .models import Barrier, Signage, Site
from .rules import StateOf

# The state rule: a site's current state is its latest live inspection's, by the time it
# counts at, then by arrival; none, none and never checked without one. DERIVED_STATE
# gives it for the sites of {sites} (a set of ids as t(id)); CURRENT_STATE_SQL writes it,
# only to sites whose state changes, so the triggers see only real changes.
DERIVED_STATE = """
    SELECT t.id, coalesce(l.signage, %(no_sign)s) AS signage, coalesce(l.barrier, %(no_barrier)s) AS barrier,
           l.observed_at, coalesce(l.with_photo, false) AS with_photo
    FROM {sites} AS t(id)
    LEFT JOIN LATERAL (
        SELECT i.signage, i.barrier, i.observed_at,
               EXISTS (SELECT FROM hazards_photo p WHERE p.inspection_id = i.id) AS with_photo
        FROM hazards_inspection i
        WHERE i.site_id = t.id AND i.deleted_at IS NULL
        ORDER BY i.observed_at DESC, i.received_at DESC
        LIMIT 1
    ) l ON true
"""
STATE_DIFFERS = """s.id = n.id
  AND (s.signage, s.barrier, s.last_checked_at, s.photo_evidence)
      IS DISTINCT FROM (n.signage, n.barrier, n.observed_at, n.with_photo)"""
CURRENT_STATE_SQL = f"""
UPDATE hazards_site s
SET signage = n.signage, barrier = n.barrier, last_checked_at = n.observed_at, photo_evidence = n.with_photo
FROM ({{derived}}) n
WHERE {STATE_DIFFERS}
"""  # noqa: S608 (fixed SQL)
STATE_PARAMS = {"no_sign": Signage.NONE, "no_barrier": Barrier.NONE}


def refresh_current_state(site_ids) -> None:
    """Derives the current state (state rule above) of the sites with these ids, in one statement."""
    derived = DERIVED_STATE.format(sites="unnest(%(ids)s::uuid[])")
    with connection.cursor() as cursor:
        cursor.execute(
            CURRENT_STATE_SQL.format(derived=derived),
            {"ids": [str(pk) for pk in site_ids], **STATE_PARAMS},
        )


def stale_states(using: str = DEFAULT_DB_ALIAS):
    """The sites whose stored state is not what the state rule gives now: PostgreSQL
    computes a stored generated column when its row is written, not again when the
    function behind it is replaced (a changed rules.sql)."""
    return Site._base_manager.db_manager(using).exclude(state=StateOf())


def restate(using: str = DEFAULT_DB_ALIAS) -> int:
    """Writes those sites again, which stores the state the rule gives now; the summary's
    triggers follow (the map grid's read the rule themselves, so its receiver of
    rules_changed rebuilds it). Their audit entries name the state's change."""
    return stale_states(using).update(signage=F("signage"))


def current_state_differences(*, repair: bool) -> int:
    """How many sites' sign, barrier and check are not what their inspections give by the
    rule, or whose stored state is not what the state rule gives now; when repairing,
    they are written again, and the triggers bring the summary and the map grid along
    (both count sites by their stored state)."""
    derived = DERIVED_STATE.format(sites="(SELECT id FROM hazards_site)")
    with connection.cursor() as cursor:
        if repair:
            cursor.execute(CURRENT_STATE_SQL.format(derived=derived), STATE_PARAMS)
            return cursor.rowcount + restate()
        cursor.execute(f"SELECT count(*) FROM hazards_site s JOIN ({derived}) n ON {STATE_DIFFERS}", STATE_PARAMS)  # noqa: S608 (fixed SQL)
        return cursor.fetchone()[0] + stale_states().count()

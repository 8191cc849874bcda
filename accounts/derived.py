"""Audit coverage: every audited record has the entry that records its creation.

The audit trigger writes one when a record is inserted; a file import writes one entry
that its sites name (import_entry), with their first inspections received in the same
moment. A record without either escaped the trail (written with triggers disabled, or
restored from elsewhere): repairing writes an entry for it, its values as they are now
and marked "reconstructed", since what it was created with is no longer known.

Each app declares how the check reads its audited tables (audited_tables, in its
AppConfig.ready()), so accounts names no app above it.
"""

from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class Audited:
    """How the check reads the records `r` of one audited table, each part in SQL."""

    path: str  # the area path of a record
    site: str = "NULL::uuid"  # the site it concerns
    imported: str = "false"  # whether an import's one entry stands for it


# Each audited table by name; accounts' own here. Its app's SQL file attaches the triggers
# of the same ones (registry_audit_attach, accounts/sql/audit.sql); tests/accounts/
# test_audit_triggers.py holds the two together.
AUDITED: dict[str, Audited] = {
    "accounts_membership": Audited("SELECT a.path FROM areas_area a WHERE a.id = r.area_id"),
    "accounts_user": Audited("SELECT registry_account_area(r.id)"),
    "accounts_devicetoken": Audited("SELECT registry_account_area(r.user_id)"),
    "accounts_pairingcode": Audited("SELECT registry_account_area(r.user_id)"),
}


def audited_tables(tables: dict[str, Audited]) -> None:
    """Declares an app's audited tables to the check."""
    AUDITED.update(tables)


UNCOVERED = """
SELECT r.id FROM {table} r
WHERE NOT ({imported}) AND NOT EXISTS (
    SELECT FROM accounts_auditentry e WHERE e."table" = '{table}' AND e.action = 'insert' AND e.object_id = r.id::text)
"""
RECONSTRUCT = """
INSERT INTO accounts_auditentry (at, actor_id, action, "table", object_id, site_id, area_path, changes)
SELECT clock_timestamp(), NULL, 'insert', '{table}', r.id::text, {site}, coalesce(({path}), ''),
       jsonb_build_object('reconstructed', jsonb_build_array(NULL, true))
       || registry_audit_masked((SELECT jsonb_object_agg(key, jsonb_build_array(NULL, value))
                                 FROM jsonb_each(to_jsonb(r))), registry_audit_hidden('{table}'))
FROM {table} r WHERE r.id = ANY (%s)
"""


def audit_gaps(*, repair: bool) -> int:
    """How many audited records have no entry for their creation; with `repair`, writes one."""
    found = 0
    with connection.cursor() as cursor:
        for table, audited in AUDITED.items():
            cursor.execute(UNCOVERED.format(table=table, imported=audited.imported))
            ids = [record_id for (record_id,) in cursor.fetchall()]
            found += len(ids)
            if repair and ids:
                cursor.execute(RECONSTRUCT.format(table=table, site=audited.site, path=audited.path), [ids])
    return found

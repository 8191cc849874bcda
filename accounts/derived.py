"""Audit coverage: every audited record has the entry that records its creation.

The audit trigger writes one when a record is inserted; a file import writes one entry
that its sites name (import_entry), with their first inspections received in the same
moment. A record without either escaped the trail (written with triggers disabled, or
restored from elsewhere): repairing writes an entry for it, its values as they are now
and marked "reconstructed", since what it was created with is no longer known.
"""

from django.db import connection

# Each audited table, the record kind the trigger names, and the area path of a record.
AUDITED = {
    "hazards_site": "SELECT a.path FROM areas_area a WHERE a.id = r.area_id",
    "hazards_inspection": (
        "SELECT a.path FROM hazards_site s JOIN areas_area a ON a.id = s.area_id WHERE s.id = r.site_id"
    ),
    "accounts_membership": "SELECT a.path FROM areas_area a WHERE a.id = r.area_id",
    "reports_target": "SELECT a.path FROM areas_area a WHERE a.id = r.area_id",
    "accounts_user": "SELECT registry_account_area(r.id)",
    "accounts_devicetoken": "SELECT registry_account_area(r.user_id)",
    "accounts_pairingcode": "SELECT registry_account_area(r.user_id)",
    "hazards_photo": (
        "SELECT a.path FROM hazards_inspection i JOIN hazards_site s ON s.id = i.site_id"
        " JOIN areas_area a ON a.id = s.area_id WHERE i.id = r.inspection_id"
    ),
    "hazards_remediationorder": (
        "SELECT a.path FROM hazards_site s JOIN areas_area a ON a.id = s.area_id WHERE s.id = r.site_id"
    ),
    # A campaign for the whole country has no area.
    "hazards_campaign": "SELECT a.path FROM areas_area a WHERE a.id = r.area_id",
}
SITE_OF = {
    "hazards_site": "r.id",
    "hazards_inspection": "r.site_id",
    "hazards_photo": "(SELECT i.site_id FROM hazards_inspection i WHERE i.id = r.inspection_id)",
    "hazards_remediationorder": "r.site_id",
}
# Records the import's one entry stands for.
IMPORTED = {
    "hazards_site": "r.import_entry_id IS NOT NULL",
    "hazards_inspection": (
        "EXISTS (SELECT FROM hazards_site s WHERE s.id = r.site_id AND s.import_entry_id IS NOT NULL"
        " AND s.created_at = r.received_at)"
    ),
}
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
        for table, path in AUDITED.items():
            cursor.execute(UNCOVERED.format(table=table, imported=IMPORTED.get(table, "false")))
            ids = [record_id for (record_id,) in cursor.fetchall()]
            found += len(ids)
            if repair and ids:
                sql = RECONSTRUCT.format(table=table, site=SITE_OF.get(table, "NULL::uuid"), path=path)
                cursor.execute(sql, [ids])
    return found

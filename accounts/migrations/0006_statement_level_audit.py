from django.db import migrations

# The audit trail, written per statement from its transition tables instead of per row:
# the same entries (one per changed record, each changed column as [before, after]),
# but an import of a million sites writes them in one set-based INSERT; the row-level
# trigger cost far more per record (bench/NOTES.md). One function per event serves every
# audited table (PL/pgSQL plans them per table); arguments: record kind, ignored columns.
ENTRIES = """
    INSERT INTO accounts_auditentry (at, actor_id, action, "table", object_id, site_id, area_path, changes)
    SELECT clock_timestamp(),
           nullif(current_setting('registry.actor', true), '')::bigint,
           lower(TG_OP),
           TG_TABLE_NAME,
           c.record ->> 'id',
           c.site,
           coalesce(a.path, ''),
           c.diff
    FROM (
        SELECT p.record, p.diff,
               CASE TG_ARGV[0] WHEN 'site' THEN (p.record ->> 'id')::uuid
                               WHEN 'inspection' THEN (p.record ->> 'site_id')::uuid END AS site
        FROM ({changes}) AS p(record, diff)
    ) c
    LEFT JOIN hazards_site s ON TG_ARGV[0] = 'inspection' AND s.id = c.site
    LEFT JOIN mapping_area a ON a.id = coalesce(s.area_id, (c.record ->> 'area_id')::bigint)
    WHERE TG_OP <> 'UPDATE' OR c.diff <> '{{}}';
"""

# Each yields (record, diff). OFFSET 0 keeps each row's to_jsonb computed once: inlined,
# it ran again for every column compared (bench/NOTES.md).
WHOLE_RECORD = """
    SELECT r.record, (SELECT coalesce(jsonb_object_agg(key, jsonb_build_array({pair})), '{{}}')
                      FROM jsonb_each(r.record) WHERE key <> ALL (TG_ARGV[1]::text[]))
    FROM (SELECT to_jsonb(t) AS record FROM {rows} t OFFSET 0) r
"""
CHANGES = {
    "inserted": WHOLE_RECORD.format(pair="NULL::jsonb, value", rows="new_rows"),
    "updated": """
        SELECT r.after, (SELECT coalesce(jsonb_object_agg(key, jsonb_build_array(r.before -> key, r.after -> key)), '{}')
                         FROM jsonb_object_keys(r.before || r.after) AS key
                         WHERE key <> ALL (TG_ARGV[1]::text[]) AND (r.before -> key) IS DISTINCT FROM (r.after -> key))
        FROM (SELECT to_jsonb(o) AS before, to_jsonb(n) AS after
              FROM old_rows o JOIN new_rows n ON n.id = o.id OFFSET 0) r
    """,
    "deleted": WHOLE_RECORD.format(pair="value, NULL::jsonb", rows="old_rows"),
}
# A file import names itself in registry.import for its transaction and writes one compact
# entry per record it inserts (file and row; hazards/import_load.py): the whole-record
# image made a million-row file slow (bench/NOTES.md).
SKIP = {"inserted": "    IF current_setting('registry.import', true) <> '' THEN\n        RETURN NULL;\n    END IF;\n"}
REFERENCING = {
    "inserted": ("INSERT", "NEW TABLE AS new_rows"),
    "updated": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "deleted": ("DELETE", "OLD TABLE AS old_rows"),
}
TABLES = [
    ("hazards_site", "site", "{updated_at}"),
    ("hazards_inspection", "inspection", "{}"),
    ("accounts_membership", "membership", "{}"),
    ("reports_target", "target", "{updated_at}"),
]


def create_sql() -> list[str]:
    statements = [f"DROP TRIGGER {table}_audit ON {table}" for table, _kind, _ignored in TABLES]
    statements.append("DROP FUNCTION registry_audit()")
    for event, changes in CHANGES.items():
        statements.append(
            f"CREATE FUNCTION registry_audit_{event}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{SKIP.get(event, '')}{ENTRIES.format(changes=changes)}\n    RETURN NULL;\nEND\n$$"
        )
    for table, kind, ignored in TABLES:
        for event, (operation, referencing) in REFERENCING.items():
            statements.append(
                f"CREATE TRIGGER {table}_audit_{event} AFTER {operation} ON {table} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION registry_audit_{event}('{kind}', '{ignored}')"
            )
    return statements


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_device_tokens"),
        ("reports", "0004_narrower_asof_invalidation"),
    ]

    # Not reversible, like reports 0005 which replaces the summary triggers in the same way.
    operations = [migrations.RunSQL(create_sql())]

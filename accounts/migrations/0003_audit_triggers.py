from django.db import migrations

# Every insert, update and delete of sites, inspections and memberships writes one audit
# row: who (the registry.actor setting of the connection), when, and each changed column
# as [before, after]. A trigger sees bulk SQL updates too, which model signals would not.
AUDIT_FUNCTION = r"""
CREATE OR REPLACE FUNCTION registry_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    before jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) ELSE '{}'::jsonb END;
    after jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) ELSE '{}'::jsonb END;
    record jsonb := CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END;
    diff jsonb;
    site uuid;
    path text;
BEGIN
    SELECT coalesce(jsonb_object_agg(key, jsonb_build_array(before -> key, after -> key)), '{}'::jsonb)
    INTO diff
    FROM jsonb_object_keys(before || after) AS key
    WHERE key <> ALL (TG_ARGV[1]::text[]) AND (before -> key) IS DISTINCT FROM (after -> key);
    IF TG_OP = 'UPDATE' AND diff = '{}'::jsonb THEN
        RETURN NULL;
    END IF;
    IF TG_ARGV[0] = 'site' THEN
        site := (record ->> 'id')::uuid;
        SELECT a.path INTO path FROM mapping_area a WHERE a.id = (record ->> 'area_id')::bigint;
    ELSIF TG_ARGV[0] = 'inspection' THEN
        site := (record ->> 'site_id')::uuid;
        SELECT a.path INTO path FROM hazards_site s JOIN mapping_area a ON a.id = s.area_id WHERE s.id = site;
    ELSE
        SELECT a.path INTO path FROM mapping_area a WHERE a.id = (record ->> 'area_id')::bigint;
    END IF;
    INSERT INTO accounts_auditentry (at, actor_id, action, "table", object_id, site_id, area_path, changes)
    VALUES (
        clock_timestamp(),
        nullif(current_setting('registry.actor', true), '')::bigint,
        lower(TG_OP),
        TG_TABLE_NAME,
        record ->> 'id',
        site,
        coalesce(path, ''),
        diff
    );
    RETURN NULL;
END
$$;
"""

TRIGGERS = [
    ("hazards_site", "site", "{updated_at}"),
    ("hazards_inspection", "inspection", "{}"),
    ("accounts_membership", "membership", "{}"),
]


def create_sql():
    return [AUDIT_FUNCTION] + [
        f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION registry_audit('{kind}', '{ignored}')"
        for table, kind, ignored in TRIGGERS
    ]


def drop_sql():
    return [f"DROP TRIGGER {table}_audit ON {table}" for table, _kind, _ignored in TRIGGERS] + [
        "DROP FUNCTION registry_audit()"
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_audit_entries"),
        ("hazards", "0004_soft_delete"),
    ]

    operations = [migrations.RunSQL(create_sql(), drop_sql())]

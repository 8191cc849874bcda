from django.db import migrations

# The area tree moves to its own app (areas). Its tables are renamed in place, so the
# keys that point at them keep pointing at the same rows, and areas 0001 takes the models
# over without touching the database. Database functions name tables by text, so every
# one that names the old tables is written again with the new names (bodies unchecked:
# undoing this migration rewrites them before the tables get their old names back).
REWRITE_FUNCTIONS = """
DO $$
DECLARE
    fn oid;
    checking text := current_setting('check_function_bodies');
BEGIN
    PERFORM set_config('check_function_bodies', 'off', true);
    FOR fn IN
        SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema() AND p.prosrc LIKE '%%{old}%%'
    LOOP
        EXECUTE replace(pg_get_functiondef(fn), '{old}', '{new}');
    END LOOP;
    PERFORM set_config('check_function_bodies', checking, true);
END
$$;
"""

SEQUENCES = "ALTER SEQUENCE {old}_id_seq RENAME TO {new}_id_seq; ALTER SEQUENCE {old}piece_id_seq RENAME TO {new}piece_id_seq;"


def sql(old: str, new: str) -> str:
    return SEQUENCES.format(old=old, new=new) + REWRITE_FUNCTIONS.format(old=old, new=new)


class Migration(migrations.Migration):
    dependencies = [
        ("mapping", "0006_cells_after_import"),
        ("accounts", "0006_statement_level_audit"),
        ("hazards", "0010_people_referenced_without_keys"),
        ("reports", "0006_summary_after_import"),
    ]

    operations = [
        migrations.AlterModelTable(name="area", table="areas_area"),
        migrations.AlterModelTable(name="areapiece", table="areas_areapiece"),
        migrations.RunSQL(sql("mapping_area", "areas_area"), sql("areas_area", "mapping_area")),
    ]

from importlib import import_module

from django.db import migrations

# As the map grid (mapping 0006): while a file import runs, the insert trigger leaves the
# summary and the as-of results alone, and the import adds all its new sites at its end,
# from the temporary table imported_sites (the rows it inserted).
summary = import_module("reports.migrations.0005_statement_level_summary")
SKIP = import_module("accounts.migrations.0006_statement_level_audit").SKIP["inserted"]


def body(rows: str) -> str:
    return summary.SUMMARY_UPSERT.format(
        changes=f"SELECT *, 1 AS sign FROM {rows}"
    ) + f"    DELETE FROM reports_asofresult WHERE day >= (SELECT min(active_from) FROM {rows});"


def function(name: str, returns: str, text: str) -> str:
    return f"CREATE OR REPLACE FUNCTION {name}() RETURNS {returns} LANGUAGE plpgsql AS $$\nBEGIN\n{text}\nEND\n$$"


create_sql = [
    function("reports_sites_inserted", "trigger", f"{SKIP}{body('new_sites')}\n    RETURN NULL;"),
    function("reports_summary_add_imported", "void", body("imported_sites")),
]
reverse_sql = [
    "DROP FUNCTION reports_summary_add_imported()",
    function("reports_sites_inserted", "trigger", f"{body('new_sites')}\n    RETURN NULL;"),
]


class Migration(migrations.Migration):
    dependencies = [("reports", "0005_statement_level_summary"), ("accounts", "0006_statement_level_audit")]

    operations = [migrations.RunSQL(create_sql, reverse_sql)]

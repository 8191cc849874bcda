from importlib import import_module

from django.db import migrations

# A file import inserts its sites a chunk at a time while it reads the next chunk
# (hazards/import_load.py). Kept per statement, the grid rewrote each touched cell once
# per chunk; so while an import runs (registry.import set) the insert trigger leaves the
# grid alone, and the import adds all its new sites at its end in one upsert, from the
# temporary table imported_sites: the rows it inserted, as a transition table holds them.
grouped = import_module("mapping.migrations.0004_cells_grouped_once")
SKIP = import_module("accounts.migrations.0006_statement_level_audit").SKIP["inserted"]
INSERTED = grouped.UPSERT.format(changes="SELECT *, 1 AS sign FROM new_sites")
IMPORTED = grouped.UPSERT.format(changes="SELECT *, 1 AS sign FROM imported_sites")


def function(name: str, returns: str, body: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS {returns} LANGUAGE plpgsql AS $$
DECLARE
    emptied bigint[];
BEGIN
{body}
END
$$;"""


create_sql = [
    function("mapping_cells_sites_inserted", "trigger", f"{SKIP}{INSERTED}\n    RETURN NULL;"),
    function("mapping_cells_add_imported", "void", IMPORTED),
]
reverse_sql = [
    "DROP FUNCTION mapping_cells_add_imported()",
    function("mapping_cells_sites_inserted", "trigger", f"{INSERTED}\n    RETURN NULL;"),
]


class Migration(migrations.Migration):
    dependencies = [("mapping", "0005_cells_area_unchecked"), ("accounts", "0006_statement_level_audit")]

    operations = [migrations.RunSQL(create_sql, reverse_sql)]

from django.db import migrations

from common.sql_files import apply_sql_file

# A file import inserts its sites a chunk at a time while it reads the next chunk
# (hazards/import_load.py). Kept per statement, the grid rewrote each touched cell once
# per chunk; so while an import runs (registry.import set) the insert trigger leaves the
# grid alone, and the import adds all its new sites at its end in one upsert
# (mapping_cells_add_imported). Both are in the grid's one file, applied here as it is now.


class Migration(migrations.Migration):
    dependencies = [("mapping", "0005_cells_area_unchecked"), ("accounts", "0006_statement_level_audit")]

    operations = [apply_sql_file("mapping", "site_cells.sql")]

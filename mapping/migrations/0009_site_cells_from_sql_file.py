from pathlib import Path

from django.db import migrations

# The map grid's triggers from their one file (mapping/sql/site_cells.sql). Change the
# file, then add a migration like this one to apply it again.
CELLS_SQL = (Path(__file__).resolve().parent.parent / "sql" / "site_cells.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [
        ("mapping", "0008_area_tree_left_for_areas"),
        ("hazards", "0013_site_state"),
    ]

    operations = [migrations.RunSQL(CELLS_SQL)]

from pathlib import Path

from django.db import migrations

# The grid by state kept for levels 3 to 11 only (zooms 0 to 8): its triggers from their
# one file, then the finer levels it no longer keeps.
CELLS_SQL = (Path(__file__).resolve().parent.parent / "sql" / "site_cells.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("mapping", "0011_site_state_cells")]

    operations = [
        migrations.RunSQL(CELLS_SQL),
        migrations.RunSQL("DELETE FROM mapping_sitestatecell WHERE level > 11", migrations.RunSQL.noop),
    ]

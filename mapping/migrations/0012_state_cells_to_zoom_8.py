from django.db import migrations

from common.sql_files import apply_sql_file

# The grid by state kept for levels 3 to 11 only (zooms 0 to 8): its triggers from their
# one file, then the finer levels it no longer keeps.


class Migration(migrations.Migration):
    dependencies = [("mapping", "0011_site_state_cells")]

    operations = [
        apply_sql_file("mapping", "site_cells.sql"),
        migrations.RunSQL("DELETE FROM mapping_sitestatecell WHERE level > 11", migrations.RunSQL.noop),
    ]

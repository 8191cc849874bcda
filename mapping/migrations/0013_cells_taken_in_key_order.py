from django.db import migrations

from common.sql_files import apply_sql_file

# The grid's upserts take their cells in key order (mapping/sql/site_cells.sql): two
# batches synced at once deadlocked on a province's shared cells.


class Migration(migrations.Migration):
    dependencies = [("mapping", "0012_state_cells_to_zoom_8")]

    operations = [apply_sql_file("mapping", "site_cells.sql", sha256="dce8732d9abf6511dcf9c963a772a02477d75eced1590c6914ca26db8caf3ec2")]

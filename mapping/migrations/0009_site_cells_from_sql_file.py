from django.db import migrations

from common.sql_files import apply_sql_file

# The map grid's triggers from their one file (mapping/sql/site_cells.sql). Change the
# file, then add a migration like this one to apply it again.


class Migration(migrations.Migration):
    dependencies = [
        ("mapping", "0008_area_tree_left_for_areas"),
        ("hazards", "0013_site_state"),
    ]

    operations = [apply_sql_file("mapping", "site_cells.sql")]

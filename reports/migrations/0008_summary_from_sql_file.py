from django.db import migrations

from common.sql_files import apply_sql_file

# The summary and as-of triggers from their one file (reports/sql/summary.sql), now
# reading a site's state and the registry's day from hazards/sql/rules.sql. Change the
# file, then add a migration like this one to apply it again.


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0007_area_keys_in_areas"),
        ("hazards", "0013_site_state"),
    ]

    operations = [apply_sql_file("reports", "summary.sql")]

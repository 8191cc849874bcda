from django.db import migrations

from common.sql_files import apply_sql_file

# The audit triggers from their one file (accounts/sql/audit.sql): the same functions and
# triggers as 0006 wrote, with the area table's name of areas 0001. Change the file, then
# add a migration like this one to apply it again.


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_membership_area_in_areas"),
    ]

    operations = [apply_sql_file("accounts", "audit.sql")]

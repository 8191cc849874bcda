from pathlib import Path

from django.db import migrations

# The audit triggers from their one file (accounts/sql/audit.sql): the same functions and
# triggers as 0006 wrote, with the area table's name of areas 0001. Change the file, then
# add a migration like this one to apply it again.
AUDIT_SQL = (Path(__file__).resolve().parent.parent / "sql" / "audit.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_membership_area_in_areas"),
    ]

    operations = [migrations.RunSQL(AUDIT_SQL)]

from django.db import migrations

from common.sql_files import apply_sql_file

# accounts/sql/audit.sql again: registry_audit reads a table's site and area from its
# trigger's arguments, and registry_audit_attach writes a table's triggers; hazards 0028
# and reports 0012 attach their own tables with it, from their own files (issue 23).


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0022_pairingcode_known_also_by"),
    ]

    operations = [apply_sql_file("accounts", "audit.sql", sha256="f560e5ef6eff64c9c879d157e79b6982e2add8d1d18b271877f3136b67ad385c", reverse_sql=migrations.RunSQL.noop)]

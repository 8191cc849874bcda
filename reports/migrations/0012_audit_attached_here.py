from django.db import migrations

from common.sql_files import apply_sql_file

# The targets' audit triggers from reports' own file (reports/sql/audit.sql), written with
# registry_audit_attach of accounts 0023; they replace those accounts/sql/audit.sql wrote.


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0011_target_set_by_label"),
        ("accounts", "0023_audit_attached_by_each_app"),
    ]

    operations = [apply_sql_file("reports", "audit.sql", sha256="8c6680cf619fea4416588590c3a5b3bb97a532d290c8d3678cc481daae50d60e", reverse_sql=migrations.RunSQL.noop)]

from django.db import migrations

from common.sql_files import apply_sql_file

# Hazards' audit triggers from its own file (hazards/sql/audit.sql), written with
# registry_audit_attach of accounts 0023; they replace those accounts/sql/audit.sql wrote.


class Migration(migrations.Migration):
    dependencies = [
        ("hazards", "0027_order_state_has_its_time"),
        ("accounts", "0023_audit_attached_by_each_app"),
    ]

    operations = [apply_sql_file("hazards", "audit.sql", sha256="66e70e67aeb4f902aec9f3eefe36aeeab86640b2de3566f50b0b5e66287eea4d", reverse_sql=migrations.RunSQL.noop)]

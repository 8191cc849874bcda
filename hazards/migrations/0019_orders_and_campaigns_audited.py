from django.db import migrations

from common.sql_files import apply_sql_file

# Orders and campaigns are audited by the registry's statement-level trigger: the audit
# file (accounts/sql/audit.sql) writes their triggers once their tables exist, so it is
# applied again here, after 0018 created them.
DROP_TRIGGERS = [
    f"DROP TRIGGER IF EXISTS {table}_audit_{event} ON {table}"
    for table in ("hazards_remediationorder", "hazards_campaign")
    for event in ("inserted", "updated", "deleted")
]


class Migration(migrations.Migration):
    dependencies = [
        ("hazards", "0018_remediation_orders_and_campaigns"),
        ("accounts", "0011_audit_accounts_tokens_photos"),
    ]

    operations = [apply_sql_file("accounts", "audit.sql", reverse_sql=DROP_TRIGGERS)]

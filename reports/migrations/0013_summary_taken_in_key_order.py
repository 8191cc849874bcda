from django.db import migrations

from common.sql_files import apply_sql_file

# The summary's upsert takes its rows in key order (reports/sql/summary.sql): batches
# synced at once share their province's and country's rows.


class Migration(migrations.Migration):
    dependencies = [("reports", "0012_audit_attached_here")]

    operations = [apply_sql_file("reports", "summary.sql")]

from django.db import migrations

from common.sql_files import apply_sql_file

# As the map grid (mapping 0006): while a file import runs, the insert trigger leaves the
# summary and the as-of results alone, and the import adds all its new sites at its end
# (reports_summary_add_imported). Both are in the summary's one file, applied here as it
# is now; it names the site's state and the area table of later migrations (hazards 0013,
# mapping 0007), so its SQL-language functions are not checked here (common/sql_files.py).


class Migration(migrations.Migration):
    dependencies = [("reports", "0005_statement_level_summary"), ("accounts", "0006_statement_level_audit")]

    operations = [apply_sql_file("reports", "summary.sql", check_bodies=False)]

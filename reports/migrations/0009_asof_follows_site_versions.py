from pathlib import Path

from django.db import migrations

# reports/sql/summary.sql again: kept as-of results follow a site's dated details
# (hazards.SiteVersion, current_since) and a closure as a duplicate.
SUMMARY_SQL = (Path(__file__).resolve().parent.parent / "sql" / "summary.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0008_summary_from_sql_file"),
        ("hazards", "0017_site_lifecycle"),
    ]

    operations = [migrations.RunSQL(SUMMARY_SQL)]

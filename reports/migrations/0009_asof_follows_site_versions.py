from django.db import migrations

from common.sql_files import apply_sql_file

# reports/sql/summary.sql again: kept as-of results follow a site's dated details
# (hazards.SiteVersion, current_since) and a closure as a duplicate.


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0008_summary_from_sql_file"),
        ("hazards", "0017_site_lifecycle"),
    ]

    operations = [apply_sql_file("reports", "summary.sql")]

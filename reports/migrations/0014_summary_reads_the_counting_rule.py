from django.db import migrations

import hazards.rules
from common.sql_files import apply_sql_file

# The summary's delta reads registry_counts (hazards/sql/rules.sql), which the rules give
# the database first: on a database already migrated they are otherwise installed only
# after every migration (post_migrate).


def install_rules(apps, schema_editor):
    hazards.rules.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("reports", "0013_summary_taken_in_key_order"), ("hazards", "0029_one_order_per_site_reads_unverified")]

    operations = [migrations.RunPython(install_rules, migrations.RunPython.noop), apply_sql_file("reports", "summary.sql", sha256="11133aeef5380c787c54053c256358a65729d32b8e233be635e6c848dcb1fe26")]

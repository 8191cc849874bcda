from django.db import migrations

import hazards.rules
from common.sql_files import apply_sql_file

# The summary asks registry_never_counted (hazards/sql/rules.sql) how far back a change
# reaches, which the rules give the database first: on a database already migrated they
# are otherwise installed only after every migration (post_migrate).


def install_rules(apps, schema_editor):
    hazards.rules.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("reports", "0015_submission_recorded_by_the_database_clock")]

    operations = [
        migrations.RunPython(install_rules, migrations.RunPython.noop),
        apply_sql_file(
            "reports", "summary.sql", sha256="4de4a85a1681f75fb8a69ea15bd8743eada0c78ace4ac60c550b7e84e05ebbd6"
        ),
    ]

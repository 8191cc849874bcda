from django.db import migrations, models

import hazards.rules


def install_rules(apps, schema_editor):
    hazards.rules.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("hazards", "0012_import_runs_as_jobs"),
    ]

    operations = [
        # The rules first: the generated column is registry_site_state().
        migrations.RunPython(install_rules, migrations.RunPython.noop),
        migrations.AddField(
            model_name="site",
            name="state",
            field=models.GeneratedField(
                db_persist=True,
                expression=hazards.rules.StateOf(),
                output_field=models.CharField(
                    choices=[
                        ("unprotected", "Unprotected"),
                        ("signed_only", "Signed only"),
                        ("fenced_only", "Fenced only"),
                        ("protected", "Protected"),
                        ("closed", "Closed"),
                    ],
                    max_length=12,
                    verbose_name="state",
                ),
            ),
        ),
    ]

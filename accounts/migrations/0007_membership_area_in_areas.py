import django.db.models.deletion
from django.db import migrations, models

# The key already points at the renamed table (mapping 0007): state only.


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_statement_level_audit"),
        ("areas", "0001_area_tree_from_mapping"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="membership",
                    name="area",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="areas.area",
                        verbose_name="area",
                    ),
                ),
            ]
        )
    ]

import django.db.models.deletion
from django.db import migrations, models

# The keys already point at the renamed table (mapping 0007): state only.


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0001_area_tree_from_mapping"),
        ("reports", "0006_summary_after_import"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="areaday",
                    name="area",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="areas.area"),
                ),
                migrations.AlterField(
                    model_name="asofresult",
                    name="area",
                    field=models.ForeignKey(
                        null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="areas.area"
                    ),
                ),
                migrations.AlterField(
                    model_name="target",
                    name="area",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="targets",
                        to="areas.area",
                        verbose_name="area",
                    ),
                ),
            ]
        )
    ]

import django.db.models.deletion
from django.db import migrations, models

# The key already points at the renamed table (mapping 0007): state only.


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0001_area_tree_from_mapping"),
        ("hazards", "0010_people_referenced_without_keys"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="site",
                    name="area",
                    field=models.ForeignKey(
                        db_index=False,
                        editable=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="sites",
                        to="areas.area",
                        verbose_name="area",
                    ),
                ),
            ]
        )
    ]

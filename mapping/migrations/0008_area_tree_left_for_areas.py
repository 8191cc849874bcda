import django.db.models.deletion
from django.db import migrations, models

# The area tree now lives in the areas app (its tables renamed by 0007): the grid's key
# points there, and the models leave this app's state without touching the database.


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_membership_area_in_areas"),
        ("areas", "0001_area_tree_from_mapping"),
        ("hazards", "0011_site_area_in_areas"),
        ("mapping", "0007_area_tables_to_areas"),
        ("reports", "0007_area_keys_in_areas"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="sitecell",
                    name="area",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="areas.area",
                    ),
                ),
                migrations.DeleteModel(name="AreaPiece"),
                migrations.DeleteModel(name="Area"),
            ]
        )
    ]

import django.contrib.gis.db.models.fields
import django.db.models.deletion
from django.db import migrations, models

# The area tree came from the mapping app (mapping 0001); mapping 0007 renamed its
# tables to this app's names, so here the models only enter this app's state.


def move_content_types(apps, schema_editor, source="mapping", target="areas"):
    """Permissions and admin history follow the models to their new app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=source, model__in=["area", "areapiece"]).update(app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source="areas", target="mapping")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("mapping", "0007_area_tables_to_areas"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Area",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("code", models.CharField(max_length=20, unique=True, verbose_name="code")),
                        ("name", models.CharField(max_length=200, verbose_name="name")),
                        (
                            "level",
                            models.CharField(
                                choices=[
                                    ("province", "Province"),
                                    ("district", "District"),
                                    ("commune", "Commune"),
                                    ("village", "Village"),
                                ],
                                max_length=10,
                                verbose_name="level",
                            ),
                        ),
                        ("unit_type", models.CharField(blank=True, max_length=60, verbose_name="unit type")),
                        ("path", models.CharField(editable=False, max_length=255, verbose_name="path")),
                        ("depth", models.PositiveSmallIntegerField(editable=False, verbose_name="depth")),
                        ("geom", django.contrib.gis.db.models.fields.MultiPolygonField(srid=4326, verbose_name="boundary")),
                        ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                        (
                            "parent",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="children",
                                to="areas.area",
                                verbose_name="parent area",
                            ),
                        ),
                    ],
                    options={"verbose_name": "area", "verbose_name_plural": "areas", "ordering": ["path"]},
                ),
                migrations.CreateModel(
                    name="AreaPiece",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("depth", models.PositiveSmallIntegerField()),
                        ("geom", django.contrib.gis.db.models.fields.PolygonField(srid=4326)),
                        (
                            "area",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="pieces", to="areas.area"
                            ),
                        ),
                    ],
                    options={"verbose_name": "area piece", "verbose_name_plural": "area pieces"},
                ),
                migrations.AddIndex(
                    model_name="area",
                    index=models.Index(fields=["path"], name="area_path_prefix", opclasses=["varchar_pattern_ops"]),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]

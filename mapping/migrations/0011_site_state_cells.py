import django.db.models.deletion
from django.db import migrations, models

from common.sql_files import apply_sql_file

# The map grid by state (mapping.SiteStateCell), kept by the grid's triggers from their
# one file, which now writes both tables.

# The first rows from the grid itself (the same sums grouped by state): rebuilding both
# tables from a million sites would hold the sites' lock for minutes.
FROM_GRID = """
INSERT INTO mapping_sitestatecell (level, cx, cy, area_id, state, n, sum_x, sum_y)
SELECT level, cx, cy, area_id, registry_site_state(signage, barrier, closed), sum(n), sum(sum_x), sum(sum_y)
FROM mapping_sitecell
GROUP BY 1, 2, 3, 4, 5;
ANALYZE mapping_sitestatecell;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0001_area_tree_from_mapping"),
        ("mapping", "0010_tile_grants"),
    ]

    operations = [
        migrations.CreateModel(
            name="SiteStateCell",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("level", models.PositiveSmallIntegerField()),
                ("cx", models.IntegerField()),
                ("cy", models.IntegerField()),
                ("state", models.CharField(max_length=12)),
                ("n", models.IntegerField()),
                ("sum_x", models.FloatField()),
                ("sum_y", models.FloatField()),
                (
                    "area",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="areas.area",
                    ),
                ),
            ],
            options={
                "verbose_name": "map grid cell by state",
                "verbose_name_plural": "map grid cells by state",
                "constraints": [
                    models.UniqueConstraint(fields=("level", "cx", "cy", "area", "state"), name="sitestatecell_key")
                ],
            },
        ),
        # Room on each page for a count's new version: its updates stay HOT, as the grid's.
        migrations.RunSQL("ALTER TABLE mapping_sitestatecell SET (fillfactor = 70)", migrations.RunSQL.noop),
        apply_sql_file("mapping", "site_cells.sql"),
        migrations.RunSQL(FROM_GRID, migrations.RunSQL.noop),
    ]

import django.contrib.postgres.fields
from django.db import migrations, models

from common.sql_files import apply_sql_file


class Migration(migrations.Migration):
    """A grant keeps who may know its person's password and sums their counts too, so a
    change of theirs counts for them alone: the triggers looked up whom it concerned in a
    snapshot, which missed a password set while the change was open, and waited on, or
    deadlocked over, those people's rows (pentest). Counts only grow. The grants there
    are go: a map open during the upgrade says once that its access expired."""

    dependencies = [("mapping", "0017_tile_grants_by_standing")]

    operations = [
        migrations.RunSQL("DELETE FROM mapping_tilegrant", migrations.RunSQL.noop),
        migrations.AddField(
            model_name="tilegrant",
            name="knowers",
            field=django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), default=list, size=None),
        ),
        apply_sql_file("mapping", "tile_grants.sql", sha256="c89a2ee6afa5506e41df264e00293c7d87d500eda56810174a15965a38b7230d"),
    ]

from django.db import migrations, models

from common.sql_files import apply_sql_file


class Migration(migrations.Migration):
    """A grant holds while its person's standing, counted by triggers, is the one it was
    made under (mapping/sql/tile_grants.sql), instead of being deleted by triggers at a
    change's commit under a lock: a change at REPEATABLE READ missed grants made while it
    was open, and one left open made every map wait (pentest). The grants there are go: a
    map open during the upgrade says once that its access expired and to reload the page."""

    dependencies = [("mapping", "0016_tile_grants_ended_at_commit")]

    operations = [
        migrations.RunSQL("DELETE FROM mapping_tilegrant", migrations.RunSQL.noop),
        migrations.CreateModel(
            name="TileStanding",
            fields=[
                ("user_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("version", models.BigIntegerField()),
            ],
        ),
        migrations.AddField(model_name="tilegrant", name="standing", field=models.BigIntegerField(default=0)),
        apply_sql_file("mapping", "tile_grants.sql", sha256="c710da56df05395dc5dc707e5931f2fda3b1ba883651e76285cccf36cae7b7a8"),
    ]

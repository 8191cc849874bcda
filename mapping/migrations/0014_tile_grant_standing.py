from django.db import migrations, models


class Migration(migrations.Migration):
    """A grant keeps one digest of the person's standing instead of a copy of their
    password hash, superuser flag and roles' digest. The grants there are go: a map open
    during the upgrade says once that its access expired and to reload the page."""

    dependencies = [
        ("mapping", "0013_cells_taken_in_key_order"),
    ]

    operations = [
        migrations.RunSQL("DELETE FROM mapping_tilegrant", migrations.RunSQL.noop),
        migrations.RemoveField(model_name="tilegrant", name="password"),
        migrations.RemoveField(model_name="tilegrant", name="everything"),
        migrations.RemoveField(model_name="tilegrant", name="memberships"),
        migrations.AddField(
            model_name="tilegrant",
            name="standing",
            field=models.CharField(default="", max_length=32),
            preserve_default=False,
        ),
    ]

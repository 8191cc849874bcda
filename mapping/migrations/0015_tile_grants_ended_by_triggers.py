from django.db import migrations


class Migration(migrations.Migration):
    """Grants are deleted by triggers when what they stand for changes
    (mapping/sql/tile_grants.sql) instead of each tile comparing a digest of the person's
    standing. The grants there are go, as their changes until now were not recorded: a map
    open during the upgrade says once that its access expired and to reload the page."""

    dependencies = [
        ("accounts", "0023_audit_attached_by_each_app"),
        ("areas", "0001_area_tree_from_mapping"),
        ("mapping", "0014_tile_grant_standing"),
    ]

    operations = [
        migrations.RunSQL("DELETE FROM mapping_tilegrant", migrations.RunSQL.noop),
        migrations.RemoveField(model_name="tilegrant", name="standing"),
        # The triggers it applied then (mapping/sql/tile_grants.sql) are now applied from
        # 0017 on, which creates the table the file names: a database migrated before got
        # them here and has them replaced there.
    ]

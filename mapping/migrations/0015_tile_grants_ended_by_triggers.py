from django.db import migrations

from common.sql_files import apply_sql_file


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
        # The file as it is now names mapping_tilestanding, which 0017 creates: unchecked here.
        apply_sql_file("mapping", "tile_grants.sql", sha256="6c2f7d0208a9854cf977451fef29e4d1f1e96bcf31a2798abd1c3192f70c65bd", check_bodies=False),
    ]

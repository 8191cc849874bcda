from django.db import migrations

from common.sql_files import apply_sql_file

# The grants end when the change commits, under a lock a token's issue shares
# (mapping/sql/tile_grants.sql): a grant made while a change was not yet committed, with
# the scope from before it, outlived it (pentest). Per row, so a row renumbered in SQL is
# still its person's.


class Migration(migrations.Migration):
    dependencies = [("mapping", "0015_tile_grants_ended_by_triggers")]

    # The file as it is now names mapping_tilestanding, which 0017 creates: unchecked here.
    operations = [apply_sql_file("mapping", "tile_grants.sql", sha256="7180a5d881eaf616c28918b879a5740f185d5e568eff0d12c9f006eeb5a34b31", check_bodies=False)]

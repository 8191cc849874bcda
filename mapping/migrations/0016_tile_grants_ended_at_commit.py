from django.db import migrations

# It applied mapping/sql/tile_grants.sql again when the grants ended at a change's commit
# under a lock; 0017 and 0018 apply the file as it is now, which replaces that (pentest):
# nothing left to do here for a database migrated since.


class Migration(migrations.Migration):
    dependencies = [("mapping", "0015_tile_grants_ended_by_triggers")]

    operations = []

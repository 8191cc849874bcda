from django.db import migrations

from common.sql_files import apply_sql_file

# The map pyramid's upsert, grouped once at the finest level (13) and rolled up from
# there (a cell index of level L is the level-13 index shifted right by 13 - L), instead
# of grouping the changed sites again at each of the eleven levels. The triggers come
# from their one file (mapping/sql/site_cells.sql) as it is now. Rows whose count falls
# to zero are deleted by id from the upsert's RETURNING, so the partial index on n = 0
# goes: it made every count update a non-HOT update of all four indexes.


class Migration(migrations.Migration):
    dependencies = [("mapping", "0003_site_cell_triggers")]

    # Not reversible: 0003's functions would have to be written back by hand.
    operations = [
        apply_sql_file("mapping", "site_cells.sql"),
        migrations.RunSQL("DROP INDEX sitecell_empty"),
        # Room on each page for a cell's new version: count updates then stay on the page (HOT).
        migrations.RunSQL("ALTER TABLE mapping_sitecell SET (fillfactor = 70)"),
    ]

from django.db import migrations


class Migration(migrations.Migration):
    """Readable site codes (HZ-000123) come from a sequence so concurrent registrations
    never collide."""

    dependencies = [("hazards", "0001_sites_inspections_photos")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE hazards_site_code_seq START 1",
            "DROP SEQUENCE hazards_site_code_seq",
        ),
    ]

from pathlib import Path

from django.db import migrations

# accounts/sql/audit.sql again, now that the tables it newly audits exist: people, device
# tokens, pairing codes and photos.
AUDIT_SQL = (Path(__file__).resolve().parent.parent / "sql" / "audit.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_pairing_codes"),
        ("hazards", "0014_import_run_words_notices_system"),
    ]

    operations = [migrations.RunSQL(AUDIT_SQL)]

from django.db import migrations

from common.sql_files import apply_sql_file

# accounts/sql/audit.sql again, now that the tables it newly audits exist: people, device
# tokens, pairing codes and photos.


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_pairing_codes"),
        ("hazards", "0014_import_run_words_notices_system"),
    ]

    operations = [apply_sql_file("accounts", "audit.sql")]

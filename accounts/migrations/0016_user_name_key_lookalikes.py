from django.db import migrations


def rekey(apps, schema_editor):
    """Letters that look alike count as one in the key now (accounts.models.LOOKALIKES):
    two accounts whose names look alike stop the migration; rename one first."""
    from accounts.models import fill_name_keys

    fill_name_keys(apps.get_model("accounts", "User"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0015_login_failure_name_digest"),
    ]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]

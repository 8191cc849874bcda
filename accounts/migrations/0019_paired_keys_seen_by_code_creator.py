from django.db import migrations, models


def paired_keys_seen_by_code_creator(apps, schema_editor):
    """A tablet's key was handed to whoever spent the code, which its creator was shown."""
    DeviceToken = apps.get_model("accounts", "DeviceToken")
    PairingCode = apps.get_model("accounts", "PairingCode")
    paired = PairingCode.objects.filter(token__isnull=False, created_by__isnull=False).exclude(
        created_by=models.F("user")
    )
    for pairing in paired.only("token_id", "created_by_id"):
        DeviceToken.objects.filter(pk=pairing.token_id, key_seen_by__isnull=True).update(
            key_seen_by_id=pairing.created_by_id
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0018_user_password_set_by")]

    operations = [migrations.RunPython(paired_keys_seen_by_code_creator, migrations.RunPython.noop)]

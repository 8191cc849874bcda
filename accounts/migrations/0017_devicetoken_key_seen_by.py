import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def keys_shown_before(apps, schema_editor):
    """A key no pairing code handed to a tablet was shown to whoever issued it."""
    DeviceToken = apps.get_model("accounts", "DeviceToken")
    PairingCode = apps.get_model("accounts", "PairingCode")
    paired = PairingCode.objects.filter(token__isnull=False).values("token_id")
    shown = DeviceToken.objects.exclude(pk__in=paired).exclude(created_by__isnull=True)
    for token in shown.exclude(created_by=models.F("user")).only("pk", "created_by_id"):
        DeviceToken.objects.filter(pk=token.pk).update(key_seen_by_id=token.created_by_id)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0016_user_name_key_lookalikes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="devicetoken",
            name="key_seen_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="key shown to",
            ),
        ),
        migrations.RunPython(keys_shown_before, migrations.RunPython.noop),
    ]

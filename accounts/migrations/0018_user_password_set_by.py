import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from common.sql_files import apply_sql_file


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0017_devicetoken_key_seen_by"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="password_set_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="password set by",
            ),
        ),
        # The audit leaves the new column out: who set a password is the actor of its change.
        apply_sql_file("accounts", "audit.sql", reverse_sql=migrations.RunSQL.noop),
    ]

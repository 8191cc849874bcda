from django.db import migrations, models

from common.sql_files import apply_sql_file

# The audit triggers again, now leaving the key out (it repeats the name's change).


def fill_keys(apps, schema_editor):
    """Each account's key as User.save() keeps it; two accounts sharing one stop the
    migration at the unique constraint below (rename one first)."""
    from accounts.models import fill_name_keys

    fill_name_keys(apps.get_model("accounts", "User"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0012_field_names_in_vietnamese"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="name_key",
            field=models.TextField(editable=False, null=True),
        ),
        apply_sql_file("accounts", "audit.sql", reverse_sql=migrations.RunSQL.noop),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="name_key",
            field=models.TextField(editable=False, unique=True),
        ),
    ]

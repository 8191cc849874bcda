from django.db import migrations, models


class Migration(migrations.Migration):
    """Failures are counted under a SHA-256 of the whole name, not its first 150
    characters. Those counted under the cut names could not be found again: they are
    forgotten (a failure counts for 15 minutes only)."""

    dependencies = [
        ("accounts", "0014_user_name_key_label"),
    ]

    operations = [
        migrations.RunSQL("DELETE FROM accounts_loginfailure", migrations.RunSQL.noop),
        migrations.RemoveIndex(model_name="loginfailure", name="login_failure_lookup"),
        migrations.RemoveIndex(model_name="loginfailure", name="login_failure_by_name"),
        migrations.RenameField(model_name="loginfailure", old_name="username", new_name="name_digest"),
        migrations.AlterField(
            model_name="loginfailure", name="name_digest", field=models.CharField(max_length=64)
        ),
        migrations.AddIndex(
            model_name="loginfailure",
            index=models.Index(fields=["address", "name_digest", "at"], name="login_failure_lookup"),
        ),
        migrations.AddIndex(
            model_name="loginfailure",
            index=models.Index(fields=["name_digest", "at"], name="login_failure_by_name"),
        ),
    ]

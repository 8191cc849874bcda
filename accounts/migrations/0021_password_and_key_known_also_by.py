import django.contrib.postgres.fields
from django.db import migrations, models

from common.sql_files import apply_sql_file


def known_also_by_from_setters(apps, schema_editor):
    """Who else may know each password and key set or shown before this migration: the
    chain of who set the password of whoever set or was shown it, as it stands now (when
    each was made is not recorded; scope.knowers_of_password keeps it from now on)."""
    User = apps.get_model("accounts", "User")
    DeviceToken = apps.get_model("accounts", "DeviceToken")
    set_by = dict(User.objects.filter(password_set_by__isnull=False).values_list("pk", "password_set_by_id"))

    def chain(person: int, holder: int) -> list[int]:
        knowers = []
        while person in set_by and set_by[person] not in knowers and set_by[person] not in (holder, person):
            person = set_by[person]
            knowers.append(person)
        return knowers

    for user, setter in set_by.items():
        User.objects.filter(pk=user).update(password_known_also_by=chain(setter, user))
    for token, user, seen_by in DeviceToken.objects.filter(key_seen_by__isnull=False).values_list(
        "pk", "user_id", "key_seen_by_id"
    ):
        DeviceToken.objects.filter(pk=token).update(key_known_also_by=chain(seen_by, user))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0020_password_set_by_from_audit"),
    ]

    operations = [
        migrations.AddField(
            model_name="devicetoken",
            name="key_known_also_by",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.BigIntegerField(),
                blank=True,
                default=list,
                editable=False,
                size=None,
                verbose_name="key known also by",
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="password_known_also_by",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.BigIntegerField(),
                blank=True,
                default=list,
                editable=False,
                size=None,
                verbose_name="password known also by",
            ),
        ),
        migrations.RunPython(known_also_by_from_setters, migrations.RunPython.noop),
        # The audit leaves the new user column out, as it does who set the password.
        apply_sql_file("accounts", "audit.sql", reverse_sql=migrations.RunSQL.noop),
    ]

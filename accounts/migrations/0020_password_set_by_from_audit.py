from django.db import migrations


def password_setters_from_audit(apps, schema_editor):
    """Who knows each password, read from the audit trail (each password change names its
    actor): passwords set before 0018 were bound to nobody, and so were a superuser's resets
    and the holder's own change of one another person set (pentest 6). The last person
    other than its holder who set it knows it; a change by the holder keeps them; a change
    with no actor (manage.py changepassword, load_demo) is nobody else's."""
    User = apps.get_model("accounts", "User")
    AuditEntry = apps.get_model("accounts", "AuditEntry")
    for user in User.objects.filter(password_set_by__isnull=True).only("pk"):
        entries = AuditEntry.objects.filter(table=User._meta.db_table, object_id=str(user.pk)).order_by("at", "id")
        setter = None
        for actor_id, changes in entries.values_list("actor_id", "changes"):
            if "password" not in changes:
                continue
            if actor_id is None:
                setter = None
            elif actor_id != user.pk:
                setter = actor_id
        if setter is not None and User.objects.filter(pk=setter).exists():
            User.objects.filter(pk=user.pk).update(password_set_by_id=setter)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0019_paired_keys_seen_by_code_creator")]

    operations = [migrations.RunPython(password_setters_from_audit, migrations.RunPython.noop)]

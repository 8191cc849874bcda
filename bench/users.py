"""The accounts the benchmarks act as: a national administrator and the field worker of
the busiest commune (the most sites: the heaviest survey load)."""

from django.db import connection

from accounts.models import Membership, Role, User


def national_user() -> User:
    user, _ = User.objects.get_or_create(username="bench-national", defaults={"is_superuser": True, "is_staff": True})
    return user


def busiest_commune_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT area_id FROM hazards_site WHERE deleted_at IS NULL GROUP BY area_id ORDER BY count(*) DESC LIMIT 1"
        )
        return cursor.fetchone()[0]


def field_worker() -> User:
    user, _ = User.objects.get_or_create(username="bench-field-worker")
    Membership.objects.get_or_create(user=user, area_id=busiest_commune_id(), role=Role.FIELD_WORKER)
    return user

"""The accounts the benchmarks act as: a national administrator and the field worker of
the busiest commune (the most sites: the heaviest survey load); and the registry's other
people, signed in, whom every request that checks an account or a session meets."""

import datetime as dt

from django.db import connection
from django.utils import timezone

from accounts.models import Membership, Role, User, username_key

PEOPLE_PREFIX = "bench-person-"


def national_user() -> User:
    user, _ = User.objects.get_or_create(username="bench-national", defaults={"is_superuser": True, "is_staff": True})
    return user


def national_gis_officer() -> User:
    """A national GIS officer: a viewer of every province. Not a superuser, who may hold no
    device token (accounts.scope.can_manage_user)."""
    from areas.models import Area

    user, _ = User.objects.get_or_create(username="bench-gis-officer")
    for province in Area.objects.filter(parent__isnull=True):
        Membership.objects.get_or_create(user=user, area=province, role=Role.VIEWER)
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


def remove_records_of(user: User, reference_note: str | None = None) -> None:
    """Take away what a benchmark wrote as `user` (and its reference rows, marked by their
    notes), so that runs after it measure the same data. The triggers keep the summaries."""
    from hazards.current_state import refresh_current_state
    from hazards.models import Inspection

    inspections = Inspection.all_objects.filter(inspector=user)
    if reference_note:
        inspections = inspections | Inspection.all_objects.filter(notes=reference_note)
    touched = set(inspections.values_list("site_id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM hazards_inspection WHERE id = ANY(%s)", [list(inspections.values_list("id", flat=True))]
        )
        cursor.execute(
            "DELETE FROM hazards_inspection WHERE site_id IN (SELECT id FROM hazards_site WHERE created_by_id = %s)",
            [user.pk],
        )
        sites = "created_by_id = %s" + (" OR notes = %s" if reference_note else "")
        cursor.execute(
            f"DELETE FROM hazards_site WHERE {sites}", [user.pk, reference_note] if reference_note else [user.pk]
        )
    refresh_current_state(touched)


def registry_people() -> int:
    """A field worker in every commune and a manager in every district and province, each
    with a live session, as a country's registry has them: with the benchmarks' few
    accounts alone, a check that read every account (the tile grant's, 9.5 ms a tile at
    224 accounts) passed unseen. Made once; the number of people."""
    from areas.models import Area

    role = {"commune": Role.FIELD_WORKER}
    missing = Area.objects.exclude(
        pk__in=Membership.objects.filter(user__username__startswith=PEOPLE_PREFIX).values("area_id")
    )
    people = {
        area: User(username=f"{PEOPLE_PREFIX}{area.code}", name_key=username_key(f"{PEOPLE_PREFIX}{area.code}"))
        for area in missing
    }
    for person in people.values():
        person.set_unusable_password()
    User.objects.bulk_create(people.values())
    Membership.objects.bulk_create(
        Membership(user=person, area=area, role=role.get(area.level, Role.AREA_MANAGER))
        for area, person in people.items()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_session (session_key, session_data, expire_date) "
            "SELECT md5(u.username), '', %s FROM accounts_user u WHERE u.username LIKE %s "
            "ON CONFLICT (session_key) DO UPDATE SET expire_date = EXCLUDED.expire_date",
            [timezone.now() + dt.timedelta(days=14), PEOPLE_PREFIX + "%"],
        )
    return User.objects.filter(username__startswith=PEOPLE_PREFIX).count()

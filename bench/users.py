"""The accounts the benchmarks act as: a national administrator and the field worker of
the busiest commune (the most sites: the heaviest survey load)."""

from django.db import connection

from accounts.models import Membership, Role, User


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
    from hazards.models import Inspection
    from hazards.services import refresh_current_state

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

"""Who is acting, told to the database so its audit trigger can record it."""

from django.db import connection
from django.db.models import Q

ACTOR_SETTING = "registry.actor"


def act_as(user, *, for_transaction: bool = True) -> None:
    """Name the actor of the writes that follow: for the current transaction only
    (services), or for the connection until reset (a whole request)."""
    actor = str(user.pk) if user is not None and user.is_authenticated else ""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, %s)", [ACTOR_SETTING, actor, for_transaction])


# Requests that only read (HTTP's safe methods) write nothing to attribute: naming the
# actor cost two round trips on every map tile.
READ_ONLY_METHODS = {"GET", "HEAD", "OPTIONS"}


class ActorMiddleware:
    """Every write during a signed-in request is attributed to its user, including admin
    actions and bulk updates that no service wraps."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if request.method in READ_ONLY_METHODS or user is None or not user.is_authenticated:
            return self.get_response(request)
        act_as(user, for_transaction=False)
        try:
            return self.get_response(request)
        finally:
            act_as(None, for_transaction=False)


def audit_of_site(site, limit: int = 100):
    """The change history of one site and its inspections, newest first; for a site that
    came from a file, the import's entry stands for its creation."""
    from .models import AuditEntry

    entries = Q(site_id=site.pk)
    if site.import_entry_id:
        entries |= Q(pk=site.import_entry_id)
    return AuditEntry.objects.filter(entries).select_related("actor")[:limit]

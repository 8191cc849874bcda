"""The one place that decides what a user may see or change.

A user holds roles over areas through memberships; each role reaches the area and its
whole subtree. Every view, API, tile, export, report and admin list filters through
`scope_for(user).restrict(queryset, verb)`, and every write asks `scope.require(...)`.
"""

from dataclasses import dataclass

from django.db.models import Model, Q, QuerySet

from areas.models import Area

from .models import Membership, Role

VIEW = "view"
SURVEY = "survey"  # register sites and record inspections
EDIT = "edit"  # edit, close and restore sites
MANAGE = "manage"  # accounts, memberships, targets
ADMINISTER = "administer"  # boundaries and everything else

VERB_ROLES = {
    VIEW: set(Role.values),
    SURVEY: {Role.FIELD_WORKER, Role.AREA_MANAGER, Role.ADMINISTRATOR},
    EDIT: {Role.AREA_MANAGER, Role.ADMINISTRATOR},
    MANAGE: {Role.AREA_MANAGER, Role.ADMINISTRATOR},
    ADMINISTER: {Role.ADMINISTRATOR},
}

# How each scoped model reaches the area path that decides it.
AREA_PATH_OF = {
    "areas.area": "path",
    "mapping.sitecell": "area__path",
    "hazards.site": "area__path",
    "hazards.inspection": "site__area__path",
    "hazards.photo": "inspection__site__area__path",
    "accounts.membership": "area__path",
    "accounts.auditentry": "area_path",
    "reports.target": "area__path",
}


class OutOfScope(Exception):
    """The record is outside the user's scope; callers answer 404, giving no hint it exists."""


@dataclass(frozen=True)
class Scope:
    everything: bool
    grants: tuple[tuple[str, str], ...]  # (area path, role)

    def paths(self, verb: str) -> list[str]:
        roles = VERB_ROLES[verb]
        paths = sorted({path for path, role in self.grants if role in roles})
        # Drop paths already covered by an ancestor path in the list.
        return [p for i, p in enumerate(paths) if not any(p.startswith(q) for q in paths[:i])]

    def _within(self, lookup: str, verb: str) -> Q | None:
        """The condition "lookup lies in one of the scope's subtrees"; None for everything."""
        if self.everything:
            return None
        condition = Q(pk__in=[])
        for path in self.paths(verb):
            condition |= Q(**{f"{lookup}__startswith": path})
        return condition

    def restrict(self, queryset: QuerySet, verb: str = VIEW) -> QuerySet:
        condition = self._within(AREA_PATH_OF[queryset.model._meta.label_lower], verb)
        return queryset if condition is None else queryset.filter(condition)

    def allows(self, verb: str, area: Area) -> bool:
        return self.everything or any(area.path.startswith(p) for p in self.paths(verb))

    def require(self, verb: str, area: Area) -> None:
        if not self.allows(verb, area):
            raise OutOfScope

    def require_record(self, verb: str, record: Model) -> None:
        """The record must be visible and `verb` allowed on it."""
        if not self.restrict(type(record)._default_manager.filter(pk=record.pk), verb).exists():
            raise OutOfScope

    def restrict_users(self, queryset: QuerySet, verb: str = MANAGE) -> QuerySet:
        """Users holding a membership inside the scope: the accounts `verb` reaches."""
        condition = self._within("memberships__area__path", verb)
        if condition is None:
            return queryset
        return queryset.filter(pk__in=queryset.model.objects.filter(condition).values("pk"))

    def root_areas(self, verb: str = VIEW):
        """The areas at the top of the user's scope for `verb` (their memberships' areas)."""
        if self.everything:
            return Area.objects.filter(parent__isnull=True)
        return Area.objects.filter(path__in=self.paths(verb))

    @property
    def is_empty(self) -> bool:
        return not self.everything and not self.grants


NO_SCOPE = Scope(everything=False, grants=())


def scope_for(user) -> Scope:
    """The user's scope, computed once per user object (so once per request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_SCOPE
    cached = getattr(user, "_area_scope", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = Scope(everything=True, grants=())
    else:
        grants = tuple(Membership.objects.filter(user=user).values_list("area__path", "role"))
        scope = Scope(everything=False, grants=grants)
    user._area_scope = scope
    return scope

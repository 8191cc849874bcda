"""The one place that decides what a user may see or change.

A user holds roles over areas through memberships; each role reaches the area and its
whole subtree. Every view, API, tile, export, report and admin list filters through
`scope_for(user).restrict(queryset, verb)`, and every write asks `scope.require(...)`.
"""

from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.db.models import BigIntegerField, F, Func, Model, Q, QuerySet, Value
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from areas.models import Area

from .models import DeviceToken, Membership, Role, User

VIEW = "view"
SURVEY = "survey"  # register sites and record inspections
EDIT = "edit"  # edit, close and restore sites
MANAGE = "manage"  # accounts, memberships, targets
# Restore deleted records, read the audit trail, undo merges, give the administrator
# role. A boundary reload is not an area's: may_reload_boundaries.
ADMINISTER = "administer"

# Roles ordered by what they may do; a manager reaches only people below them.
ROLE_RANK = {Role.VIEWER: 0, Role.FIELD_WORKER: 1, Role.AREA_MANAGER: 2, Role.ADMINISTRATOR: 3}

VERB_ROLES = {
    VIEW: set(Role.values),
    SURVEY: {Role.FIELD_WORKER, Role.AREA_MANAGER, Role.ADMINISTRATOR},
    EDIT: {Role.AREA_MANAGER, Role.ADMINISTRATOR},
    MANAGE: {Role.AREA_MANAGER, Role.ADMINISTRATOR},
    ADMINISTER: {Role.ADMINISTRATOR},
}

# How each scoped model reaches the area path that decides it, by model label. Each app
# declares its own models in its AppConfig.ready() (scope_models), so the one check names
# no app above accounts.
AREA_PATH_OF: dict[str, str] = {}


def scope_models(lookups: dict[type[Model], str]) -> None:
    """Declares, for each model, the lookup from a record to the area path that decides
    who may read or change it ("site__area__path")."""
    for model, lookup in lookups.items():
        AREA_PATH_OF[model._meta.label_lower] = lookup


def area_path_of(queryset: QuerySet) -> str:
    label = queryset.model._meta.label_lower
    try:
        return AREA_PATH_OF[label]
    except KeyError:
        # A model no app declared would be read unfiltered if this were skipped.
        raise LookupError(f"{label} has no area scope: declare it with accounts.scope.scope_models") from None


def ancestor_paths(path: str) -> list[str]:
    """ "/99/991/99101/" -> ["/99/", "/99/991/"]: the areas above one."""
    codes = path.strip("/").split("/")
    return ["/" + "/".join(codes[:i]) + "/" for i in range(1, len(codes))]


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
        condition = self._within(area_path_of(queryset), verb)
        return queryset if condition is None else queryset.filter(condition)

    def restrict_within(self, queryset: QuerySet, verb: str, path: str) -> QuerySet:
        """`restrict`, to the subtree at `path` too ("/": the country), written as one path
        condition per subtree of the intersection rather than the scope's condition and the
        subtree's: PostgreSQL multiplies the estimates of two identical LIKEs (a province's
        125 areas taken for 5) and then plans for a handful of sites (10x slower)."""
        lookup = area_path_of(queryset)
        scope = ["/"] if self.everything else self.paths(verb)
        # A scope subtree holding `path` leaves `path`; one inside `path` stays as it is.
        paths = sorted({path if path.startswith(p) else p for p in scope if path.startswith(p) or p.startswith(path)})
        condition = Q(pk__in=[])
        for p in paths:
            condition |= Q(**{f"{lookup}__startswith": p})
        return queryset.filter(condition)

    def restrict_overlapping(self, queryset: QuerySet, verb: str = VIEW) -> QuerySet:
        """Records whose area lies inside the scope or above part of it: a provincial
        campaign concerns a commune officer too, for the commune's share of it."""
        lookup = area_path_of(queryset)
        condition = self._within(lookup, verb)
        if condition is None:
            return queryset
        above = {a for path in self.paths(verb) for a in ancestor_paths(path)}
        # A record with no area at all covers the whole country (a national campaign).
        return queryset.filter(condition | Q(**{f"{lookup}__in": sorted(above)}) | Q(**{f"{lookup}__isnull": True}))

    def readable_roots(self) -> list[str]:
        """The subtrees the holder reads ("/": the whole country): what a file made for
        them now may hold (a job's result keeps them, hazards/job_pages.py)."""
        return ["/"] if self.everything else self.paths(VIEW)

    def reads_all_of(self, roots: list[str]) -> bool:
        """Whether the holder still reads everything under `roots` (readable_roots of
        another time): a change of roles that took any of it away ends the file's download."""
        return self.everything or all(any(root.startswith(p) for p in self.paths(VIEW)) for root in roots)

    def holds(self, verb: str) -> bool:
        """Whether the holder may `verb` anywhere: what opens a page or offers an action,
        whose records are then each checked."""
        return self.everything or bool(self.paths(verb))

    def allows(self, verb: str, area: Area) -> bool:
        return self.everything or any(area.path.startswith(p) for p in self.paths(verb))

    def require(self, verb: str, area: Area) -> None:
        if not self.allows(verb, area):
            raise OutOfScope

    def allows_area_or_country(self, verb: str, area) -> bool:
        """`verb` on an area's subtree, or with no area (None, or a stand-in for the whole
        country without a key, reports' Country) on the whole country: national users only."""
        if area is None or area.pk is None:
            return self.everything
        return self.allows(verb, area)

    def require_area_or_country(self, verb: str, area) -> None:
        if not self.allows_area_or_country(verb, area):
            raise OutOfScope

    def require_record(self, verb: str, record: Model) -> None:
        """The record must be visible and `verb` allowed on it."""
        if not self.restrict(type(record)._default_manager.filter(pk=record.pk), verb).exists():
            raise OutOfScope

    def root_areas(self, verb: str = VIEW):
        """The areas at the top of the user's scope for `verb` (their memberships' areas)."""
        if self.everything:
            return Area.objects.filter(parent__isnull=True)
        return Area.objects.filter(path__in=self.paths(verb))

    def _reach(self) -> list[tuple[str, frozenset, str]]:
        """What the holder's MANAGE grants reach, as (subtree path, roles reached anywhere
        in it, role reached only strictly below its top). A grant of role r over area P
        reaches the roles below r inside P's subtree, and r itself below P: a district
        manager manages a commune manager, never a peer or anyone upward or sideways."""
        reach = []
        for path, role in self.grants:
            if role in VERB_ROLES[MANAGE]:
                below = frozenset(r for r, rank in ROLE_RANK.items() if rank < ROLE_RANK[role])
                reach.append((path, below, role))
        return reach

    def may_grant(self, area: Area, role: str) -> bool:
        """Whether the holder may give `role` over `area` and still manage the person."""
        return self.everything or any(
            area.path.startswith(path) and (role in below or (role == same and area.path != path))
            for path, below, same in self._reach()
        )

    def grantable_roles(self) -> set[str]:
        """The roles `may_grant` allows over some area: what a grantor's role field offers."""
        if self.everything:
            return set(Role.values)
        return {role for _path, below, same in self._reach() for role in (*below, same)}

    def grantable(self) -> Q | None:
        """The memberships `may_grant` allows, as a condition on Membership; None for all."""
        if self.everything:
            return None
        condition = Q(pk__in=[])
        for path, below, same in self._reach():
            inside = Q(area__path__startswith=path)
            condition |= inside & (Q(role__in=below) | (Q(role=same) & ~Q(area__path=path)))
        return condition

    @property
    def is_empty(self) -> bool:
        return not self.everything and not self.grants


NO_SCOPE = Scope(everything=False, grants=())


def manageable_users(manager, queryset: QuerySet) -> QuerySet:
    """The people of `queryset` the manager may manage (accounts, passwords, roles,
    device tokens): each of their memberships is one the manager may grant, they hold
    at least one, and they are no superuser. A superuser manages everyone."""
    scope = scope_for(manager)
    if scope.everything:
        return queryset
    if scope.is_empty:
        return queryset.none()
    out_of_reach = Membership.objects.exclude(scope.grantable()).values("user_id")
    return queryset.filter(is_superuser=False, pk__in=Membership.objects.values("user_id")).exclude(pk__in=out_of_reach)


def can_manage_user(manager, user) -> bool:
    """The one rule of who may manage whom; every account path asks it."""
    return manageable_users(manager, User.objects.filter(pk=user.pk)).exists()


def knowers_of_password(person) -> list[int]:
    """Who besides `person` may know their password, so may have acted as them: whoever
    set it, and whoever knew that one's own password then, up the chain. A secret made
    while signed in as `person` is known to them too: a province manager who set a district
    manager's password could sign in as them and issue keys or set passwords for the
    district's workers (pentest 7)."""
    if person is None or person.password_set_by_id is None:
        return []
    return list(dict.fromkeys([person.password_set_by_id, *person.password_known_also_by]))


def still_managed_by(knower, holder, also=()) -> bool:
    """Whether a secret of `holder` that `knower` was shown or set (a GIS key, a password
    a manager reset) still works: only while the knower, and each person of `also` who may
    have acted as them (knowers_of_password, when it was made), is active and may still
    manage the holder; once the holder has roles beyond them, they would act as the holder
    there (pentest 5). None and nobody also: nobody else knows it. A person of `also` since
    deleted counts as one who may not."""
    others = [pk for pk in dict.fromkeys(also) if pk != holder.pk]
    knowers = [knower] if knower is not None else []
    if others:
        found = list(User.objects.filter(pk__in=others))
        if len(found) < len(others):
            return False
        knowers += found
    return all(k.is_active and can_manage_user(k, holder) for k in knowers)


@receiver(pre_delete, sender=User)
def _still_known_once_deleted(sender, instance, **kwargs):
    """A person deleted still knows the passwords they set and the keys they were shown:
    their key on those (set to NULL with them) is kept among the secret's other knowers,
    whom still_managed_by counts, once gone, as people who may not (pentest)."""
    for model, knower, others in ((User, "password_set_by", "password_known_also_by"),
                                  (DeviceToken, "key_seen_by", "key_known_also_by")):  # fmt: skip
        kept = Func(F(others), Value(instance.pk), function="array_append", output_field=ArrayField(BigIntegerField()))
        model._base_manager.filter(**{knower: instance}).update(**{others: kept})


def password_still_usable(user) -> bool:
    """Whether `user`'s password may sign in (still_managed_by whoever may know it)."""
    return still_managed_by(user.password_set_by, user, user.password_known_also_by)


def mark_password_set(user, setter) -> None:
    """Records that `setter` set `user`'s password, a superuser too (they manage everyone
    only while active, as for a key they issue), and who may have been signed in as the
    setter. The holder's own change keeps who knew the password it replaces: that person
    could sign in with it and make the change, then know the new one (pentest 6)."""
    if setter is not None and setter.pk == user.pk:
        return
    also = knowers_of_password(setter)
    User.objects.filter(pk=user.pk).update(password_set_by=setter, password_known_also_by=also)
    user.password_set_by, user.password_known_also_by = setter, also


def people_who_may(verb: str, area: Area) -> QuerySet:
    """The active accounts whose scope allows `verb` on `area` (`scope_for(person).allows`):
    superusers, and whoever holds a role of `verb` over the area or one above it. Whom a
    form offers for work there, so that it offers exactly whom the write then accepts."""
    holders = Membership.objects.filter(
        role__in=VERB_ROLES[verb], area__path__in=[*ancestor_paths(area.path), area.path]
    ).values("user_id")
    return User.objects.filter(Q(is_superuser=True) | Q(pk__in=holders), is_active=True)


def may_import(user) -> bool:
    """Imports register sites: whoever may survey somewhere may import. The import pages
    and the link to them in every page's header both ask this."""
    return scope_for(user).holds(SURVEY)


def may_reload_boundaries(user) -> bool:
    """A boundary reload re-assigns the sites wherever its file reaches, past any one
    area's subtree: the whole country's administrators only (superusers), not the
    administrator role of an area."""
    return scope_for(user).allows_area_or_country(ADMINISTER, None)


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

"""Reads of remediation orders and campaigns: the follow-up lists, a report's order
numbers, the campaign board, and the people an order or a campaign site can go to. Each
reads through the area scope. (What puts a site first in a field worker's due list is
part of the survey's site list, selectors.survey_site_list.)"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.postgres.aggregates import ArrayAgg
from django.core.exceptions import ValidationError
from django.db.models import (
    Aggregate,
    BooleanField,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.db.models.functions import Cast, Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import audit_text
from accounts.models import AuditEntry, Membership, Role, User
from accounts.scope import ADMINISTER, SURVEY, VIEW, ancestor_paths, people_who_may, scope_for
from areas.models import Area
from common.numbers import share

from . import selectors
from .filters import (
    ORDER_PERIOD_LABELS,
    choice_param,
    chosen_area,
    chosen_site,
    order_param,
    order_period_param,
    order_period_q,
    order_q,
    protected_q,
    within_area,
)
from .models import Site
from .models_remediation import Campaign, CampaignAssignment, OrderState, RemediationOrder
from .rules import checked_since, day_start

SITE_PARAMS = {"bbox", "area", "kind", "signage", "barrier", "state", "due"}
# The follow-up lists, in the order a manager works them.
FOLLOW_UP_LISTS = ["overdue", "due_week", "done", "unverified"]


def orders_for(user, verb: str = VIEW, within: str | None = None) -> QuerySet:
    """The user's orders, those of sites in the area at path `within` and below if given;
    those of a deleted site leave with it."""
    orders = RemediationOrder.objects.filter(site__deleted_at__isnull=True).select_related(
        "site__area", "follow_up", "opened_by"
    )
    scope = scope_for(user)
    return scope.restrict(orders, verb) if within is None else scope.restrict_within(orders, verb, within)


def orders_and_restorable(user) -> QuerySet:
    """The orders the user may see (orders_for), and any where they administer, deleted or
    of a deleted site: deleted records stay visible to the administrators who may restore
    them (selectors.sites_and_restorable)."""
    return orders_for(user) | scope_for(user).restrict(RemediationOrder.all_objects.select_related("site"), ADMINISTER)


# How order lists run: by deadline, then opening, then id (a stable page order).
LIST_ORDER = ("deadline", "opened_at", "id")


def listed_ids(orders: QuerySet) -> QuerySet:
    """A list's orders as ids in LIST_ORDER, to page through; order_rows reads a page's
    rows. Sorting ids alone lets PostgreSQL take a province's sites from their area index;
    sorting whole rows (sites included) made it read every site of the country
    (bench/NOTES.md)."""
    return orders.order_by(*LIST_ORDER).values_list("pk", flat=True)


def listed_page(orders: QuerySet, offset: int, limit: int) -> tuple[list, int]:
    """A page of a list's ids (listed_ids) and how many orders the list holds, read by one
    statement (count(*) OVER (), taken before the LIMIT): a count and then the page found
    the list's orders twice (bench/NOTES.md). A page past the end has no row to carry the
    count: then it is counted on its own."""
    rows = list(
        orders.order_by(*LIST_ORDER)
        .annotate(listed=Window(Count("pk")))
        .values_list("pk", "listed")[offset : offset + limit]
    )
    return [pk for pk, _n in rows], rows[0][1] if rows else orders.count()


def with_overdue(orders: QuerySet) -> QuerySet:
    """The orders, each saying (`overdue`) whether the overdue list holds it today, by that
    list's rule (filters.order_q): a page never marks overdue an order the lists leave out,
    a deleted one (which a submitted report's list still shows) included."""
    overdue = order_q("overdue", timezone.localdate()) & Q(deleted_at__isnull=True)
    return orders.annotate(overdue=ExpressionWrapper(overdue, BooleanField()))


def site_orders(site: Site, count: int = 10) -> QuerySet:
    """A site's latest orders, each saying whether it is overdue (with_overdue), for the
    pages that show them with the site (the map's panel, the site's admin page)."""
    return with_overdue(site.orders.select_related("follow_up").order_by("-opened_at"))[:count]


def order_rows(ids) -> list[RemediationOrder]:
    """The orders with these ids, in that order, with what a list shows of them (not the
    geometries: a commune's boundary read for each row cost more than the rest)."""
    ids = list(ids)
    found = with_overdue(
        RemediationOrder.objects.select_related("site__area", "follow_up", "opened_by").defer(
            "site__location", "site__outline", "site__area__geom"
        )
    ).in_bulk(ids)
    return [found[pk] for pk in ids]


def filter_orders(orders: QuerySet, request) -> QuerySet:
    """The site filters (area, bbox, kind, signage, barrier, state, due) on the order's
    site, and the order's own: `order` (a state or a follow-up list), `follow_up` (user
    name), `site` (id)."""
    params = request.GET
    # The area on the order's own join to its site's area: as a subquery of the area's
    # sites PostgreSQL read them twice (bench/NOTES.md). The other site filters read the
    # site's own columns.
    orders = within_area(orders, request, "site__area__path")
    if (SITE_PARAMS - {"area"}) & set(params):
        orders = orders.filter(site__in=selectors.sites_matching(request).values("pk"))
    order = order_param(request)
    if order:
        orders = orders.filter(order_q(order, timezone.localdate()))
    period = order_period_param(request)
    if period:
        orders = orders.filter(order_period_q(*period, timezone.localdate()))
    if choice_param(params, "directly", ["true"]):
        # The orders of sites lying in the area itself, not below it (a report's row).
        if not params.get("area"):
            raise ValidationError({"directly": _("Name the area (area=<code>).")})
        orders = orders.filter(site__area=chosen_area(request))
    if params.get("follow_up"):
        orders = orders.filter(follow_up__username=params["follow_up"])
    if params.get("campaign"):
        campaign = campaigns_for(request.user).filter(pk=_number(params["campaign"], "campaign")).first()
        if campaign is None:  # or one the user may not see: the same words, as for an area
            message = _("No campaign of yours has this number: give the number of a campaign you may see.")
            raise ValidationError({"campaign": message})
        orders = orders.filter(pk__in=campaign_orders(campaign).values("pk"))
    site = chosen_site(request)
    return orders if site is None else orders.filter(site_id=site)


@dataclass
class FollowUpRow:
    key: str  # area code or user name
    label: str
    counts: dict = field(default_factory=dict)
    # The orders of sites lying in the area `key` itself, in none of its children: its
    # links carry directly=true, as a report's row of such sites does.
    directly: bool = False

    @property
    def cells(self) -> list[tuple[str, int]]:
        """(list, count) in FOLLOW_UP_LISTS order, as a table's row shows them."""
        return [(name, self.counts[name]) for name in FOLLOW_UP_LISTS]


def follow_up_counts(orders: QuerySet, today: dt.date) -> dict[str, int]:
    return orders.aggregate(**{name: Count("pk", filter=order_q(name, today)) for name in FOLLOW_UP_LISTS})


def child_code(root_path: str) -> Func:
    """The code of the child area of the area at `root_path` that holds an order's site:
    the next code in the site's area path ("" for a site lying in that area itself)."""
    below = Substr(F("site__area__path"), len(root_path) + 1)
    return Func(below, Value("/"), Value(1), function="split_part", output_field=CharField())


@dataclass
class FollowUpTables:
    total: FollowUpRow
    by_area: list[FollowUpRow]
    by_person: list[FollowUpRow]


def follow_up_tables(user, roots: list[Area], today: dt.date) -> FollowUpTables:
    """The follow-up lists counted in all, per child area of each of `roots` (areas the
    user sees, whose subtrees do not overlap) and per follow-up person: one grouped
    statement per root, by child area and person, summed here (a few hundred rows for a
    province). Each such statement finds the root's orders through its sites once; three
    statements (all, by area, by person) did it three times (bench/NOTES.md)."""
    counts = {name: Count("pk", filter=order_q(name, today)) for name in FOLLOW_UP_LISTS}
    total = dict.fromkeys(FOLLOW_UP_LISTS, 0)
    by_area, by_person = [], {}
    for root in roots:
        grouped = (
            orders_for(user, within=root.path)
            .annotate(child=child_code(root.path))
            .values("child", "follow_up_id")
            .annotate(**counts)
            .order_by()
        )
        areas: dict[str, dict] = {}
        for g in grouped:
            # A site directly in `root` (no child holds it) counts under the root itself.
            for into in (
                total,
                areas.setdefault(g["child"] or root.code, {}),
                by_person.setdefault(g["follow_up_id"], {}),
            ):
                for name in FOLLOW_UP_LISTS:
                    into[name] = into.get(name, 0) + g[name]
        names = dict(Area.objects.filter(parent=root).values_list("code", "name"))
        by_area += [
            FollowUpRow(code, names[code], areas[code])
            if code in names
            else FollowUpRow(code, _("Directly in %(area)s") % {"area": root.name}, areas[code], directly=True)
            for code in sorted(areas)
            if any(areas[code].values())
        ]
    people = User.objects.filter(pk__in=[pk for pk in by_person if pk is not None]).in_bulk()
    person_rows = []
    for pk, person_counts in by_person.items():
        if any(person_counts.values()):
            person = people.get(pk)
            name = (f"{person.last_name} {person.first_name}".strip() or person.username) if person else "–"
            person_rows.append(FollowUpRow(person.username if person else "", name, person_counts))
    # By user name, the orders nobody follows up last.
    person_rows.sort(key=lambda row: (row.key == "", row.key))
    return FollowUpTables(FollowUpRow("", "", total), by_area, person_rows)


class Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


DAYS_TO_VERIFY = Func(
    F("verified_at") - F("opened_at"), template="extract(epoch FROM %(expressions)s) / 86400", output_field=FloatField()
)


def order_numbers(
    orders: QuerySet, root_path: str, start: dt.date, end: dt.date, today: dt.date, *, with_ids: bool = False
) -> tuple[dict[str, dict], dict]:
    """A report's order columns for the period start..end under the area at `root_path`
    ("/": the country): per child area code ("" for sites in that area itself) and in
    all, the orders opened, overdue and verified (filters.order_period_q, the lists the
    numbers link to) and the median days from opening to verification of those verified.
    `orders` lie under `root_path` (orders_for(user, within=root_path)). `with_ids`: each
    count's orders too ("opened_ids"...), read by the same statement, for a submission
    to keep the lists behind its numbers."""
    events = {event: order_period_q(event, start, end, today) for event in ORDER_PERIOD_LABELS}
    aggregates = {event: Count("pk", filter=q) for event, q in events.items()}
    aggregates["median_days_to_verify"] = Median(DAYS_TO_VERIFY, filter=events["verified"])
    if with_ids:
        aggregates |= {f"{event}_ids": ArrayAgg(Cast("pk", CharField()), filter=q) for event, q in events.items()}
    within = orders.filter(events["opened"] | events["overdue"] | events["verified"])
    by_child = {
        row.pop("child"): row
        for row in within.annotate(child=child_code(root_path)).values("child").annotate(**aggregates).order_by()
    }
    return by_child, within.aggregate(**aggregates)


# ---------- campaigns ----------


def campaigns_for(user) -> QuerySet:
    """Campaigns over the user's areas or over an area above them."""
    return scope_for(user).restrict_overlapping(Campaign.objects.select_related("area", "created_by"), VIEW)


def campaigns_and_restorable(user) -> QuerySet:
    """The campaigns the user may see (campaigns_for), and any where they administer,
    deleted ones too (orders_and_restorable)."""
    return campaigns_for(user) | scope_for(user).restrict(Campaign.all_objects.select_related("area"), ADMINISTER)


def window_start(campaign: Campaign) -> dt.datetime:
    return day_start(campaign.starts_on)


def window_end(campaign: Campaign) -> dt.datetime:
    return day_start(campaign.ends_on + dt.timedelta(days=1))


BOARD_COLUMNS = [
    "sites", "checked", "protected_before", "protected_now", "unassigned", "orders_opened", "orders_verified",
]  # fmt: skip


@dataclass
class BoardRow:
    area: Area
    counts: dict


def percent_checked(counts: dict) -> Decimal | None:
    """A board row's (or the total's) progress: the share of its sites checked since the
    window opened, in percent to one decimal rounded as the reports round a share, as the
    page and the files show it."""
    return share(counts["checked"], counts["sites"])


def campaign_assignments(campaign: Campaign) -> QuerySet:
    """The campaign's sites, as the board counts and lists them: a deleted site leaves
    them, as it leaves every list and count (and the order list its orders)."""
    return CampaignAssignment.objects.filter(campaign=campaign, site__deleted_at__isnull=True)


def campaign_orders(campaign: Campaign) -> QuerySet:
    """The orders a campaign brought: opened within its window for one of its sites."""
    return RemediationOrder.objects.filter(
        Exists(campaign_assignments(campaign).filter(site_id=OuterRef("site_id"))),
        opened_at__gte=window_start(campaign),
        opened_at__lt=window_end(campaign),
    )


def campaign_board(campaign: Campaign, user) -> tuple[list[BoardRow], dict]:
    """Per commune (the area each site lay in when the campaign started): sites assigned,
    checked since the window opened, protected at the start and now, sites with nobody
    assigned, orders opened within the window and how many of those are verified. And
    the totals. The rows are the user's communes, of the sites the user sees now."""
    scope = scope_for(user)
    # The communes first, by the assignments' own (campaign, area) index: a province's
    # share of a national campaign is then read through its assignments, not through every
    # site of the country (bench/NOTES.md; the site's own area alone cannot be reached
    # from the assignments).
    assignments = scope.restrict(campaign_assignments(campaign), VIEW).filter(
        area__in=scope.restrict(Area.objects.all(), VIEW).values("pk")
    )
    by_area = {
        row["area_id"]: row
        for row in assignments.values("area_id").annotate(
            sites=Count("pk"),
            checked=Count("pk", filter=checked_since(campaign.starts_on, "site__last_checked_at")),
            protected_before=Count("pk", filter=Q(protected_at_start=True)),
            protected_now=Count("pk", filter=protected_q("site__") & Q(site__closed_at__isnull=True)),
            unassigned=Count("pk", filter=Q(worker__isnull=True)),
        )
    }
    orders = campaign_orders(campaign).filter(site__area_id__in=list(by_area))
    for row in orders.values("site__area_id").annotate(
        opened=Count("pk"), verified=Count("pk", filter=Q(state=OrderState.VERIFIED))
    ):
        if row["site__area_id"] in by_area:
            by_area[row["site__area_id"]].update(orders_opened=row["opened"], orders_verified=row["verified"])
    areas = Area.objects.defer("geom").in_bulk(list(by_area))  # names, not boundaries
    rows = []
    for area_id, counts in by_area.items():
        counts.setdefault("orders_opened", 0)
        counts.setdefault("orders_verified", 0)
        rows.append(BoardRow(areas[area_id], {k: counts[k] for k in BOARD_COLUMNS}))
    rows.sort(key=lambda r: r.area.path)
    totals = {k: sum(r.counts[k] for r in rows) for k in BOARD_COLUMNS}
    return rows, totals


def people_who_survey(area: Area) -> QuerySet:
    """Whom a page offers to inspect sites of `area` (accounts.scope.people_who_may, the
    rule the follow-up person and the campaign worker are then checked by), by name."""
    return people_who_may(SURVEY, area).order_by("last_name", "first_name", "username")


def managers_of(area: Area) -> list:
    """The area managers nearest above a site's area (its own, else the closest area above
    that has any): whom reminders about its orders copy."""
    paths = [area.path, *reversed(ancestor_paths(area.path))]
    managers = Membership.objects.filter(role=Role.AREA_MANAGER, area__path__in=paths, user__is_active=True)
    by_path: dict[str, set] = {}
    for pk, path in managers.values_list("user_id", "area__path"):
        by_path.setdefault(path, set()).add(pk)
    for path in paths:
        if by_path.get(path):
            return list(User.objects.filter(pk__in=by_path[path]).order_by("username"))
    return []


def _number(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValidationError({name: _("Give a number.")}) from None


# ---------- an order's history ----------

# The audit trail's columns a manager reads in an order's history, in this order.
HISTORY_FIELDS = {
    "state": gettext_lazy("State"),
    "requirements": gettext_lazy("Required"),
    "party_name": gettext_lazy("Responsible party"),
    "deadline": gettext_lazy("Deadline"),
    "follow_up_id": gettext_lazy("Followed up by"),
    "notice_number": gettext_lazy("Notice"),
}
# What a change of state means, in the order's life (hazards/orders.py).
STATE_EVENTS = {
    (OrderState.OPEN, OrderState.ACKNOWLEDGED): gettext_lazy("Acknowledged by the owner"),
    (OrderState.OPEN, OrderState.DONE): gettext_lazy("Reported done by the owner"),
    (OrderState.ACKNOWLEDGED, OrderState.DONE): gettext_lazy("Reported done by the owner"),
    (OrderState.DONE, OrderState.OPEN): gettext_lazy("Reopened by an inspection"),
}


@dataclass
class HistoryLine:
    at: dt.datetime
    actor: str
    what: str
    changes: list[tuple[str, str, str]]  # (what changed, before, after), each as a person reads it


def _history_event(action: str, changes: dict) -> str:
    if action == "insert":
        return _("Order opened")
    if action == "delete":
        return _("Order deleted")
    if "deleted_at" in changes:
        return _("Order deleted") if changes["deleted_at"][1] else _("Order restored")
    if "state" in changes:
        before, after = changes["state"]
        if after == OrderState.VERIFIED:
            return _("Verified by an inspection")
        if (before, after) in STATE_EVENTS:
            return str(STATE_EVENTS[(before, after)])
    if changes.get("notice_number", ["", ""])[1]:
        return _("Notice issued")
    return _("Order changed")


def order_history(order: RemediationOrder, limit: int = 50) -> list[HistoryLine]:
    """The order's audit trail, newest first, in words and the reader's dates: what
    happened and, of what a manager follows, what changed from what to what."""
    entries = list(
        AuditEntry.objects.filter(table="hazards_remediationorder", object_id=str(order.pk)).select_related("actor")[
            :limit
        ]
    )
    person_ids = {v for e in entries for v in e.changes.get("follow_up_id", []) if v is not None}
    people = {u.pk: u.get_full_name() or u.username for u in User.objects.filter(pk__in=person_ids)}

    def shown(column: str, value) -> str:
        if value in (None, "", []):
            return ""
        if column == "follow_up_id":
            return people.get(value, str(value))
        return audit_text.value_text(RemediationOrder._meta.db_table, column, value)

    lines = []
    for entry in entries:
        changes = [
            (str(label), shown(column, entry.changes[column][0]), shown(column, entry.changes[column][1]))
            for column, label in HISTORY_FIELDS.items()
            if column in entry.changes
            and shown(column, entry.changes[column][1]) != shown(column, entry.changes[column][0])
        ]
        actor = (entry.actor.get_full_name() or entry.actor.username) if entry.actor else ""
        lines.append(HistoryLine(entry.at, actor, _history_event(entry.action, entry.changes), changes))
    return lines

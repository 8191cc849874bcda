"""The site filters shared by the REST API, the exports, the planner map's list and its
tiles: bbox, area, kind, signage, barrier, state, due and remediation order. The map's
low-zoom grid (mapping.SiteCell) carries the same kind, signage, barrier and area
columns, so one function filters both (the grid by state, mapping.SiteStateCell, only
area and state); `state_of` says how each model's rows get their state."""

import datetime as dt
import uuid

from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.lookups import Exact, GreaterThan, Range
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.scope import VIEW, scope_for
from areas.geometry import parse_bbox
from areas.models import Area

from .models import Barrier, Signage, SiteKind
from .models_remediation import WAITING_FOR_OWNER, OrderState, RemediationOrder
from .rules import Due, LocalDate, SiteState

SITE_OPEN = Q(closed_at__isnull=True)

# The five map symbols, in legend order.
STATE_LABELS = dict(SiteState.choices)
STATES = list(STATE_LABELS)


SITE_STATE = F("state")


def state_is(state: str, state_of=SITE_STATE) -> Q:
    """Rows in `state`: sites by their state column, other rows (the map grid) by the
    same rule over their own columns (`state_of`, a StateOf)."""
    return Q(Exact(state_of, Value(state)))


def protected_q(prefix: str = "") -> Q:
    """Protected sites (their state column), for a site reached through `prefix`."""
    return Q(**{f"{prefix}state": SiteState.PROTECTED})


# A remediation order's follow-up lists, and the map's order filter: the four states, and
# the lists a manager works from. Due this week: the deadline within the next seven days.
ORDER_LABELS = {
    "open": gettext_lazy("Open"),
    "acknowledged": gettext_lazy("Acknowledged"),
    "done": gettext_lazy("Done, awaiting verification"),
    "verified": gettext_lazy("Verified"),
    "unverified": gettext_lazy("Not yet verified"),
    "due_week": gettext_lazy("Due this week"),
    "overdue": gettext_lazy("Overdue"),
}
DUE_SOON_DAYS = 7


# An order is followed up while its site is open and not deleted: the order of a site
# closed (filled in, works finished) waits for nothing, and leaves every list of orders
# not yet verified and the reminders, keeping its state; it comes back if the site reopens.
FOLLOWED_UP = Q(site__closed_at__isnull=True, site__deleted_at__isnull=True)


def order_q(value: str, today) -> Q:
    """Orders in one of ORDER_LABELS' lists on `today`."""
    if value == OrderState.VERIFIED:
        return Q(state=value)
    if value in OrderState.values:
        return Q(state=value) & FOLLOWED_UP
    waiting = Q(state__in=WAITING_FOR_OWNER) & FOLLOWED_UP
    return {
        "unverified": ~Q(state=OrderState.VERIFIED) & FOLLOWED_UP,
        "due_week": waiting & Q(deadline__gte=today, deadline__lt=today + dt.timedelta(days=DUE_SOON_DAYS)),
        "overdue": waiting & Q(deadline__lt=today),
    }[value]


def order_param(request) -> str | None:
    return choice_param(request.GET, "order", list(ORDER_LABELS))


# A report's order numbers for a period (local days, both ends included), each the count
# of one list: orders opened in it, verified in it, and overdue in it (their deadline
# fell in the period and has passed, and by the end of that day the owner had neither
# reported the work done nor had it verified). Each depends only on dates an order keeps,
# so a past period gives the same numbers when run again.
ORDER_PERIOD_LABELS = {
    "opened": gettext_lazy("Orders opened"),
    "overdue": gettext_lazy("Orders overdue"),
    "verified": gettext_lazy("Orders verified"),
}


def order_period_q(event: str, start: dt.date, end: dt.date, today: dt.date) -> Q:
    """Orders in one of ORDER_PERIOD_LABELS' lists for the period start..end (the
    registry's days of their instants)."""
    if event == "opened":
        return Q(Range(LocalDate("opened_at"), (start, end)))
    if event == "verified":
        return Q(state=OrderState.VERIFIED) & Q(Range(LocalDate("verified_at"), (start, end)))
    late = (Q(done_at__isnull=True) | Q(GreaterThan(LocalDate("done_at"), F("deadline")))) & (
        Q(verified_at__isnull=True) | Q(GreaterThan(LocalDate("verified_at"), F("deadline")))
    )
    # A site closed by the deadline (filled in, works finished) needed the work no more.
    late &= Q(site__closed_at__isnull=True) | Q(site__closed_at__gt=F("deadline"))
    last_passed = min(end, today - dt.timedelta(days=1))
    return Q(deadline__gte=start, deadline__lte=last_passed) & late


def order_period_param(request) -> tuple[str, dt.date, dt.date] | None:
    """`in_period` (one of ORDER_PERIOD_LABELS) with `from` and `to` (YYYY-MM-DD)."""
    event = choice_param(request.GET, "in_period", list(ORDER_PERIOD_LABELS))
    if event is None:
        return None
    days, errors = {}, {}
    for name in ("from", "to"):
        try:
            days[name] = dt.date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            errors[name] = _("Give the period as from=YYYY-MM-DD and to=YYYY-MM-DD.")
    if errors:
        raise ValidationError(errors)
    start, end = days["from"], days["to"]
    if end < start:
        raise ValidationError({"to": _("The period cannot end before it starts.")})
    return event, start, end


def choice_param(params, name: str, allowed) -> str | None:
    value = params.get(name)
    if value and value not in allowed:
        raise ValidationError({name: _("Choose one of: %(choices)s.") % {"choices": ", ".join(allowed)}})
    return value or None


def chosen_area(request) -> Area | None:
    """The area the `area` parameter names (None when it is not given), among those the
    user may see. A code no area has is refused, not answered with an empty list, and one
    of an area outside the user's areas with the same words: the answer never tells that
    such an area exists (a record there is not found, accounts/scope.py)."""
    code = request.GET.get("area")
    if not code:
        return None
    visible = scope_for(request.user).restrict(Area.objects.all(), VIEW)
    # No area's code holds a NUL, which PostgreSQL refuses in text.
    area = None if "\x00" in code else visible.filter(code=code).first()
    if area is None:
        raise ValidationError({"area": _("No area of yours has this code: give the code of an area you may see.")})
    return area


def chosen_site(request) -> uuid.UUID | None:
    """The id the `site` parameter gives (None when it is not given), of a site the user
    may see: another is refused as chosen_area refuses an area."""
    value = request.GET.get("site")
    if not value:
        return None
    try:
        pk = uuid.UUID(value)
    except ValueError:
        raise ValidationError({"site": _("Give a site id (UUID).")}) from None
    # selectors.py builds on this module's filters, so it is imported only when called.
    from .selectors import sites

    if not sites(request.user).filter(pk=pk).exists():
        raise ValidationError({"site": _("No site of yours has this id: give the id of a site you may see.")})
    return pk


def within_area(queryset, request, lookup: str):
    area = chosen_area(request)
    return queryset if area is None else queryset.filter(**{f"{lookup}__startswith": area.path})


# The filters on a site's own columns, which the map's grid by state does not carry.
ATTRIBUTE_FILTERS = (("kind", SiteKind.values), ("signage", Signage.values), ("barrier", Barrier.values))


def attribute_filtered(request) -> bool:
    """Whether the request filters by kind, signage or barrier."""
    return any(choice_param(request.GET, name, values) for name, values in ATTRIBUTE_FILTERS)


def filter_common(queryset, request, state_of=SITE_STATE):
    """Area, kind, signage, barrier and state: the filters the grid can answer too
    (`state_of` as state_is takes it)."""
    params = request.GET
    queryset = within_area(queryset, request, "area__path")
    for name, values in ATTRIBUTE_FILTERS:
        value = choice_param(params, name, values)
        if value:
            queryset = queryset.filter(**{name: value})
    state = choice_param(params, "state", STATES)
    return queryset.filter(state_is(state, state_of)) if state else queryset


def due_param(request) -> bool | None:
    due = choice_param(request.GET, "due", ["true", "false"])
    return None if due is None else due == "true"


def filter_sites(sites, request, at=None):
    """Every site filter: the common ones, bbox and due (unverified, due for inspection) at
    `at` (the current time, or an SQL expression of an instant or a registry day, for a
    query prepared once)."""
    params = request.GET
    if params.get("bbox"):
        sites = sites.filter(location__intersects=parse_bbox(params["bbox"]))
    sites = filter_common(sites, request)
    due = due_param(request)
    if due is not None:
        condition = Due(timezone.now() if at is None else at)
        sites = sites.filter(condition) if due else sites.exclude(condition)
    order = order_param(request)
    if order:
        orders = RemediationOrder.objects.filter(order_q(order, timezone.localdate()), site=OuterRef("pk"))
        sites = sites.filter(Exists(orders))
    return sites

"""The site filters shared by the REST API, the exports, the planner map's list and its
tiles: bbox, area, kind, signage, barrier, state and due. The map's low-zoom grid
(mapping.SiteCell) carries the same kind, signage, barrier and area columns, so one
function filters both; `state_of` says how each model's rows get their state."""

from django.core.exceptions import ValidationError
from django.db.models import F, Q, Value
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scope import VIEW, scope_for
from areas.geometry import parse_bbox
from areas.models import Area

from .models import Barrier, Signage, SiteKind
from .rules import Due, SiteState

SITE_OPEN = Q(closed_at__isnull=True)

# The five map symbols, in legend order.
STATE_LABELS = dict(SiteState.choices)
STATES = list(STATE_LABELS)


SITE_STATE = F("state")


def state_is(state: str, state_of=SITE_STATE) -> Q:
    """Rows in `state`: sites by their state column, other rows (the map grid) by the
    same rule over their own columns (`state_of`, a StateOf)."""
    return Q(Exact(state_of, Value(state)))


def choice_param(params, name: str, allowed) -> str | None:
    value = params.get(name)
    if value and value not in allowed:
        raise ValidationError({name: _("Choose one of: %(choices)s.") % {"choices": ", ".join(allowed)}})
    return value or None


def chosen_area(request) -> Area | None:
    """The `area` parameter, if it names an area the user may see."""
    code = request.GET.get("area")
    if not code:
        return None
    return scope_for(request.user).restrict(Area.objects.all(), VIEW).filter(code=code).first()


def within_area(queryset, request, lookup: str):
    if not request.GET.get("area"):
        return queryset
    area = chosen_area(request)
    return queryset.filter(**{f"{lookup}__startswith": area.path}) if area else queryset.none()


def filter_common(queryset, request, state_of=SITE_STATE):
    """Area, kind, signage, barrier and state: the filters the grid can answer too
    (`state_of` as state_is takes it)."""
    params = request.GET
    queryset = within_area(queryset, request, "area__path")
    for name, values in (("kind", SiteKind.values), ("signage", Signage.values), ("barrier", Barrier.values)):
        value = choice_param(params, name, values)
        if value:
            queryset = queryset.filter(**{name: value})
    state = choice_param(params, "state", STATES)
    return queryset.filter(state_is(state, state_of)) if state else queryset


def due_param(request) -> bool | None:
    due = choice_param(request.GET, "due", ["true", "false"])
    return None if due is None else due == "true"


def filter_sites(sites, request):
    """Every site filter: the common ones, bbox and due (unverified, due for inspection)."""
    params = request.GET
    if params.get("bbox"):
        sites = sites.filter(location__intersects=parse_bbox(params["bbox"]))
    sites = filter_common(sites, request)
    due = due_param(request)
    if due is not None:
        condition = Due(timezone.now())
        sites = sites.filter(condition) if due else sites.exclude(condition)
    return sites

"""The site filters shared by the REST API, the exports, the planner map's list and its
tiles: bbox, area, kind, signage, barrier, state and due. The map's low-zoom grid
(mapping.SiteCell) carries the same kind, signage, barrier and area columns, so one
function filters both; `open_q` says how each model tells an open site."""

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.scope import VIEW, scope_for
from areas.geometry import parse_bbox
from areas.models import Area

from .evidence import due_q
from .models import Barrier, Signage, SiteKind

SITE_OPEN = Q(closed_at__isnull=True)
SIGNED = Q(signage=Signage.IN_PLACE)
FENCED = Q(barrier=Barrier.COMPLETE)

# The five map symbols, in legend order.
STATE_LABELS = {
    "unprotected": gettext_lazy("Unprotected"),
    "signed_only": gettext_lazy("Signed only"),
    "fenced_only": gettext_lazy("Fenced only"),
    "protected": gettext_lazy("Protected"),
    "closed": gettext_lazy("Closed"),
}


def state_q(state: str, open_q: Q = SITE_OPEN) -> Q:
    return {
        "protected": open_q & SIGNED & FENCED,
        "signed_only": open_q & SIGNED & ~FENCED,
        "fenced_only": open_q & FENCED & ~SIGNED,
        "unprotected": open_q & ~SIGNED & ~FENCED,
        "closed": ~open_q,
    }[state]


def site_state(signage: str, barrier: str, closed: bool) -> str:
    if closed:
        return "closed"
    signed, fenced = signage == Signage.IN_PLACE, barrier == Barrier.COMPLETE
    return "protected" if signed and fenced else "signed_only" if signed else "fenced_only" if fenced else "unprotected"


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


def filter_common(queryset, request, open_q: Q = SITE_OPEN):
    """Area, kind, signage, barrier and state: the filters the grid can answer too."""
    params = request.GET
    queryset = within_area(queryset, request, "area__path")
    for name, values in (("kind", SiteKind.values), ("signage", Signage.values), ("barrier", Barrier.values)):
        value = choice_param(params, name, values)
        if value:
            queryset = queryset.filter(**{name: value})
    state = choice_param(params, "state", list(STATE_LABELS))
    return queryset.filter(state_q(state, open_q)) if state else queryset


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
        condition = due_q(timezone.now()) & SITE_OPEN
        sites = sites.filter(condition) if due else sites.exclude(condition)
    return sites

"""The collections /ogc/ serves, kept in a small registry. A collection names its rows,
the unique field that is both its feature id and the order it pages in, its geometry, its
properties (each a value PostgreSQL turns into JSON, and the JSON schema of that value),
the field `datetime` selects on, and the query parameters that filter it. Adding one is a
`register(Collection(...))` here; the views, the OpenAPI document, the queryables and the
schemas follow from it. A collection's rows are the user's, the area scope applied: sites
as hazards/selectors.py reads them, every other table through accounts/scope.py."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.db.models import BooleanField, Choices, ExpressionWrapper, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scope import VIEW, scope_for
from areas.models import Area
from hazards import selectors
from hazards.filters import ORDER_LABELS, choice_param, filter_sites, within_area
from hazards.models import Barrier, CloseReason, Signage, SiteKind
from hazards.models_remediation import OrderState, PartyKind, RemediationOrder, Requirement
from hazards.order_selectors import filter_orders
from hazards.rules import Due, SiteState


@dataclass(frozen=True)
class Property:
    name: str
    value: object  # a field path, an expression, or a function giving one at each request
    schema: dict  # its JSON schema ("nullable": null stands for "no value")
    title: Callable[[], str]
    # For a choice: the choices (value, label), which the QGIS style shows in place of the values.
    choices: type[Choices] | None = None


@dataclass(frozen=True)
class Parameter:
    """A query parameter of the items. A queryable one selects the features whose property
    of the same name equals it (OGC API - Features Part 3)."""

    name: str
    schema: dict
    description: Callable[[], str]
    queryable: bool = False


@dataclass(frozen=True)
class Collection:
    id: str
    title: Callable[[], str]
    description: Callable[[], str]
    rows: Callable[[object], QuerySet]  # the rows a user may see
    key: str  # unique: the feature id, and the order pages follow (keyset paging)
    parse_key: Callable[[str], object]  # a feature id from a URL; ValueError if it cannot be one
    geometry: str
    geometry_type: str  # GeoJSON type, for the schema and the QGIS style
    temporal: str  # the field the datetime parameter selects on
    properties: tuple[Property, ...]
    parameters: tuple[Parameter, ...] = ()
    # Applies the parameters: (rows, a request-like object with .GET and .user) -> rows;
    # raises django's ValidationError for a bad value.
    filter: Callable[[QuerySet, object], QuerySet] = field(default=lambda rows, request: rows)
    # The property the QGIS style colours features by, in the maps' palette (a site state).
    coloured_by: str | None = None


COLLECTIONS: dict[str, Collection] = {}


def register(collection: Collection) -> Collection:
    COLLECTIONS[collection.id] = collection
    return collection


def _text(**extra) -> dict:
    return {"type": "string", **extra}


def _choice(choices: type[Choices], blank: bool = False) -> dict:
    return {"type": "string", "enum": [""] * blank + list(choices.values)}


NULLABLE = {"nullable": True}

# -- sites -----------------------------------------------------------------------------


def _scoped(rows: Callable[[], QuerySet]) -> Callable[[object], QuerySet]:
    """The rows of a table that is not a site's, within the user's areas."""
    return lambda user: scope_for(user).restrict(rows(), VIEW)


def _due():
    return Due(timezone.now())


PROTECTED = ExpressionWrapper(Q(state=SiteState.PROTECTED), output_field=BooleanField())


SITE_PROPERTIES = (
    Property("code", "code", _text(), lambda: _("code")),
    Property("name", "name", _text(), lambda: _("name")),
    Property("kind", "kind", _choice(SiteKind), lambda: _("kind"), SiteKind),
    Property("area_code", "area__code", _text(), lambda: _("area code")),
    Property("area_name", "area__name", _text(), lambda: _("area name")),
    Property("deep_water", "deep_water", {"type": "boolean"}, lambda: _("deep water")),
    Property("depth_m", "depth_m", {"type": "number", **NULLABLE}, lambda: _("depth (m)")),
    Property("signage", "signage", _choice(Signage), lambda: _("signage"), Signage),
    Property("barrier", "barrier", _choice(Barrier), lambda: _("barrier"), Barrier),
    Property("protected", PROTECTED, {"type": "boolean"}, lambda: _("protected")),
    Property("state", "state", _choice(SiteState), lambda: _("state"), SiteState),
    Property("due", _due, {"type": "boolean"}, lambda: _("due for inspection")),
    Property("last_checked_at", "last_checked_at", _text(format="date-time", **NULLABLE), lambda: _("last checked")),
    Property("photo_evidence", "photo_evidence", {"type": "boolean"}, lambda: _("photo evidence")),
    Property("is_temporary", "is_temporary", {"type": "boolean"}, lambda: _("temporary")),
    Property("expected_end", "expected_end", _text(format="date", **NULLABLE), lambda: _("expected end")),
    Property("active_from", "active_from", _text(format="date"), lambda: _("active from")),
    Property("closed_at", "closed_at", _text(format="date", **NULLABLE), lambda: _("closed on")),
    Property("close_reason", "close_reason", _choice(CloseReason, blank=True), lambda: _("close reason"), CloseReason),
    Property("responsible_party", "responsible_party", _text(), lambda: _("responsible party")),
)
SITE_PARAMETERS = (
    Parameter("kind", _choice(SiteKind), lambda: _("Sites of this kind."), queryable=True),
    Parameter("signage", _choice(Signage), lambda: _("Sites with this sign state."), queryable=True),
    Parameter("barrier", _choice(Barrier), lambda: _("Sites with this barrier state."), queryable=True),
    Parameter(
        "state",
        _choice(SiteState),
        lambda: _("Sites in this state (protected: sign in place and barrier complete)."),
        queryable=True,
    ),
    Parameter(
        "due",
        {"type": "boolean"},
        lambda: _("true: sites due for inspection (state not checked recently); false: the others."),
        queryable=True,
    ),
    Parameter("area", _text(), lambda: _("An area code: the sites in that area and the areas below it.")),
)

SITES = register(
    Collection(
        id="sites",
        title=lambda: _("Places with deep water"),
        description=lambda: _(
            "Ponds, lakes, dams, canals, wells, pits and other places with deep water, "
            "with their current sign and barrier state."
        ),
        rows=selectors.sites,
        key="id",
        parse_key=uuid.UUID,
        geometry="location",
        geometry_type="Point",
        temporal="last_checked_at",
        properties=SITE_PROPERTIES,
        parameters=SITE_PARAMETERS,
        filter=filter_sites,
        coloured_by="state",
    )
)

# The outlines drawn for some sites (a pond's shore): a layer of their own, since a layer
# has one geometry type. A feature's id is its site's, so the two layers join on it.
register(
    replace(
        SITES,
        id="site-outlines",
        title=lambda: _("Outlines of places with deep water"),
        description=lambda: _(
            "The outline of each site that has one (a pond's or a lake's shore), with the site's "
            "attributes; its feature id is the site's."
        ),
        rows=lambda user: selectors.sites(user).filter(outline__isnull=False),
        geometry="outline",
        geometry_type="Polygon",
    )
)

# -- remediation orders ------------------------------------------------------------------


def _order_rows() -> QuerySet:
    # An order leaves with its deleted site, as in every list of orders (orders_for).
    return RemediationOrder.objects.filter(site__deleted_at__isnull=True)


register(
    Collection(
        id="orders",
        title=lambda: _("Remediation orders"),
        description=lambda: _(
            "What each site's responsible party must put right (sign, barrier, cover, fill in), "
            "by when, and whether an inspection has verified it; at the site's place."
        ),
        rows=_scoped(_order_rows),
        key="id",
        parse_key=uuid.UUID,
        geometry="site__location",
        geometry_type="Point",
        temporal="opened_at",
        properties=(
            Property("site_id", "site_id", _text(format="uuid"), lambda: _("site id")),
            Property("site_code", "site__code", _text(), lambda: _("site code")),
            Property("site_name", "site__name", _text(), lambda: _("site name")),
            Property("area_code", "site__area__code", _text(), lambda: _("area code")),
            Property("state", "state", _choice(OrderState), lambda: _("order state"), OrderState),
            Property(
                "requirements",
                "requirements",
                {"type": "array", "items": _choice(Requirement)},
                lambda: _("required"),
            ),
            Property("deadline", "deadline", _text(format="date"), lambda: _("deadline")),
            Property("party_kind", "party_kind", _choice(PartyKind), lambda: _("kind of responsible party"), PartyKind),
            Property("party_name", "party_name", _text(), lambda: _("responsible party")),
            Property("follow_up", "follow_up__username", _text(**NULLABLE), lambda: _("followed up by")),
            Property("opened_at", "opened_at", _text(format="date-time"), lambda: _("opened at")),
            Property("verified_at", "verified_at", _text(format="date-time", **NULLABLE), lambda: _("verified at")),
            Property("notice_number", "notice_number", _text(), lambda: _("notice number")),
        ),
        parameters=(
            Parameter(
                "order",
                {"type": "string", "enum": list(ORDER_LABELS)},
                lambda: _("Orders in this state, or in this follow-up list (unverified, due_week, overdue)."),
            ),
            Parameter("follow_up", _text(), lambda: _("The user name of the follow-up person.")),
            Parameter("area", _text(), lambda: _("An area code: the orders of sites in that area and below it.")),
        ),
        filter=filter_orders,
    )
)

# -- areas -----------------------------------------------------------------------------


def _filter_areas(rows: QuerySet, request) -> QuerySet:
    level = choice_param(request.GET, "level", Area.Level.values)
    rows = rows.filter(level=level) if level else rows
    return within_area(rows, request, "path")


register(
    Collection(
        id="areas",
        title=lambda: _("Administrative areas"),
        description=lambda: _("Provinces, districts and communes as loaded into the registry."),
        rows=_scoped(Area.objects.all),
        key="code",
        parse_key=str,
        geometry="geom",
        geometry_type="MultiPolygon",
        temporal="updated_at",
        properties=(
            Property("code", "code", _text(), lambda: _("code")),
            Property("name", "name", _text(), lambda: _("name")),
            Property("level", "level", _choice(Area.Level), lambda: _("level"), Area.Level),
            Property("unit_type", "unit_type", _text(), lambda: _("unit type")),
            Property("parent_code", "parent__code", _text(**NULLABLE), lambda: _("parent area code")),
        ),
        parameters=(
            Parameter("level", _choice(Area.Level), lambda: _("Areas of this level."), queryable=True),
            Parameter("area", _text(), lambda: _("An area code: that area and the areas below it.")),
        ),
        filter=_filter_areas,
    )
)

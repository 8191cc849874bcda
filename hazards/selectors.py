"""Reads of sites and inspections: the querysets the pages, the APIs, the exports, the
tiles and the priority list start from. Each passes the one area-scope check
(accounts/scope.py) and, where a request's filters apply, the shared site filters
(filters.py); views only shape what these return. The survey's compact site list is
made here whole, as its speed matters (a tablet fetches it on its first load and keeps
it for offline work), with what goes first in its due list (remediation orders and
campaigns; their own reads are in order_selectors.py)."""

import datetime as dt
import uuid

from django.db.models import (
    Case,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import LessThan
from django.utils import timezone

from accounts.scope import SURVEY, VIEW, scope_for

from .filters import SITE_OPEN, filter_sites
from .models import Inspection, Site
from .models_remediation import CampaignAssignment, OrderState, RemediationOrder
from .rules import Due, LocalDate, SiteState


def sites(user, action: str = VIEW) -> QuerySet:
    """Every site the user may `action` (VIEW, SURVEY, EDIT, ...)."""
    return scope_for(user).restrict(Site.objects.all(), action)


def filtered_sites(user, request) -> QuerySet:
    """The sites the user may see under the request's filters (bbox, area, kind, signage,
    barrier, state, due)."""
    return filter_sites(sites(user), request)


def filtered_site_rows(user, request, fields: list[str]) -> QuerySet:
    """filtered_sites as one dict each of `fields` and `due`, by code."""
    return filtered_sites(user, request).order_by("code").values(*fields, due=Due(timezone.now()))


def sites_with_due(user) -> QuerySet:
    """The user's sites with their area and whether each is due now (`due`), by code."""
    return sites(user).select_related("area").annotate(due=Due(timezone.now())).order_by("code")


def site_with_due(user, site_id: uuid.UUID) -> Site | None:
    return sites_with_due(user).filter(pk=site_id).first()


def unprotected_open_sites(user, request) -> QuerySet:
    """The candidates of the priority list: open sites not protected, under the filters."""
    return filtered_sites(user, request).filter(SITE_OPEN).exclude(state=SiteState.PROTECTED)


def inspections(user) -> QuerySet:
    """The inspections of the user's sites, newest first, with inspector and photos."""
    latest_first = Inspection.objects.select_related("inspector").prefetch_related("photos").order_by("-observed_at")
    return scope_for(user).restrict(latest_first, VIEW)


def site_history(site: Site) -> QuerySet:
    """A site's inspections, newest first, for a person who may see the site."""
    return site.inspections.select_related("inspector").prefetch_related("photos").order_by("-observed_at")


# Metres matter, centimetres do not: five decimals of a degree are about 1.1 m.
COORDINATE_DECIMALS = 5
SURVEY_SITE_COLUMNS = [
    "id", "code", "name", "kind", "state", "signage", "barrier", "checked", "due", "first", "order_state",
    "order_deadline", "lon", "lat",
]  # fmt: skip
# What puts a site first in the due list, highest first: an owner says the work is done
# and only an inspection can verify it; then the campaign sites sent to this worker.
AWAITING_VERIFICATION = 2
CAMPAIGN_SITE = 1
NEVER = dt.date(1, 1, 1)  # the day of the last check of a site never checked


class _Coordinate(Func):
    """A point's longitude (ST_X) or latitude (ST_Y), rounded in the database."""

    template = f"round(%(function)s(%(expressions)s)::numeric, {COORDINATE_DECIMALS})::float8"
    output_field = FloatField()


def _campaign_site(user, today: dt.date) -> Exists:
    """The site is the user's in a campaign whose window is open, and not checked since
    the window opened."""
    return Exists(
        CampaignAssignment.objects.filter(
            site=OuterRef("pk"),
            worker=user,
            campaign__deleted_at__isnull=True,
            campaign__starts_on__lte=today,
            campaign__ends_on__gte=today,
        ).filter(LessThan(Coalesce(LocalDate(OuterRef("last_checked_at")), Value(NEVER)), F("campaign__starts_on")))
    )


def survey_sites(user, now: dt.datetime) -> dict:
    """The open sites the user surveys as rows of SURVEY_SITE_COLUMNS: checked is the
    day of the last check (Vietnam time) or null, due is 1 when the state is unverified
    (hazards/rules.py) or the site goes first, state is the site's (hazards/rules.py);
    first ranks what the due list shows first (AWAITING_VERIFICATION, CAMPAIGN_SITE, 0),
    order_state and order_deadline are those of the site's order not yet verified, if
    any. Every value is made by the database as text or a number: converting ten
    thousand rows' ids, times and points in Python took seconds. Rows go by place
    (geohash), so neighbours' coordinates share their leading digits and compress."""
    unverified = RemediationOrder.objects.filter(site=OuterRef("pk")).exclude(state=OrderState.VERIFIED)
    awaiting = Exists(unverified.filter(state=OrderState.DONE))
    campaign_site = _campaign_site(user, timezone.localdate(now))
    rows = (
        sites(user, SURVEY)
        .filter(SITE_OPEN)
        .annotate(
            text_id=Cast("id", TextField()),
            checked=Cast(LocalDate("last_checked_at"), TextField()),
            due=Case(When(Q(Due(now)) | awaiting | campaign_site, then=Value(1)), default=Value(0)),
            first=Case(
                When(awaiting, then=Value(AWAITING_VERIFICATION)),
                When(campaign_site, then=Value(CAMPAIGN_SITE)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            order_state=Subquery(unverified.values("state")[:1]),
            order_deadline=Cast(Subquery(unverified.values("deadline")[:1]), TextField()),
            lon=_Coordinate(F("location"), function="ST_X"),
            lat=_Coordinate(F("location"), function="ST_Y"),
        )
        .order_by(Func(F("location"), function="ST_GeoHash"))
        .values_list("text_id", *SURVEY_SITE_COLUMNS[1:])
    )
    return {"columns": SURVEY_SITE_COLUMNS, "sites": [list(row) for row in rows]}

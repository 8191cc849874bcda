"""Reads of sites, inspections and photos: the querysets the pages, the APIs, the exports,
the tiles, the priority list and the tablets' sync start from; where a request's filters
apply, the shared site filters (filters.py); views only shape what these return. The
survey's site list is made here whole, as its speed matters (a tablet fetches it on its
first load and keeps it for offline work), with what goes first in its due list
(remediation orders and campaigns; their own reads are in order_selectors.py).

A selector that takes the user first passes the one area-scope check (accounts/scope.py)
for that user. One that takes no user reads without it, so a call without a user shows
where the caller answers for the scope, having checked the record or area it names
(tests/hazards/test_site_reads.py holds this list to the code):
- sites_under: the sites of an area its caller's check let it act on (a campaign over it);
- sites_matching: a condition on records the caller's scope has already restricted (the
  orders of a list);
- named_sites: the sites a record the reader may see names (a submitted report's frozen
  rows), deleted or moved since;
- imported_sites: the sites the imports of audit entries the reader may see wrote (a
  submitted report's changes since);
- site_inspections, site_history, site_photos: a site's inspections and photos, for a
  reader whose own check let them see the site (its page, an order's notice);
- photos_added_since: what a submitted report, whose own check passed, lists as changed
  since, restricted by the sites it counts;
- stored_sites, stored_inspections, stored_photo: whether the id a tablet's record or an
  imported row gives is already taken, whoever's record it is (an id is one record's
  across the country); sync.py and import_update.py then refuse one outside the sender's
  scope without showing what it holds."""

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    Case,
    Exists,
    F,
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
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.scope import ADMINISTER, SURVEY, VIEW, scope_for

from .filters import SITE_OPEN, filter_sites
from .models import Barrier, ClosureProposal, Inspection, Photo, Signage, Site, SurveyListRest
from .models_remediation import UNVERIFIED, CampaignAssignment, OrderState, RemediationOrder
from .rules import Due, LocalDate, SiteState, checked_since


def sites(user, action: str = VIEW, *, deleted: bool = False) -> QuerySet:
    """Every site the user may `action` (VIEW, SURVEY, EDIT, ...); the deleted ones too
    when `deleted`."""
    return scope_for(user).restrict((Site.all_objects if deleted else Site.objects).all(), action)


def sites_under(area) -> QuerySet:
    """The sites of `area` and the areas below it (None: the country), for a caller whose
    own check let it act on that area (a campaign over it)."""
    return Site.objects.filter(area__path__startswith=area.path) if area else Site.objects.all()


def sites_and_restorable(user) -> QuerySet:
    """The sites the user may see, and the deleted ones where they may restore them
    (ADMINISTER), not across all they view: the admin's site list, whose "deleted" filter
    shows those."""
    deleted = sites(user, ADMINISTER, deleted=True).filter(deleted_at__isnull=False)
    return sites(user) | deleted


def filtered_sites(user, request, at=None) -> QuerySet:
    """The sites the user may see under the request's filters (bbox, area, kind, signage,
    barrier, state, due at `at`: the current time, or an SQL expression of an instant or a
    registry day, for a query prepared once)."""
    return filter_sites(sites(user), request, at=at)


def sites_matching(request) -> QuerySet:
    """The sites the request's filters name, whoever may see them: a condition on records
    the caller's scope has already restricted (the orders of a list)."""
    return filter_sites(Site.objects.all(), request)


def filtered_site_rows(user, request, fields: list[str]) -> QuerySet:
    """filtered_sites as one dict each of `fields` and `due`, by code."""
    return filtered_sites(user, request).order_by("code").values(*fields, due=Due(timezone.now()))


def sites_with_due(user, *, deleted: bool = False) -> QuerySet:
    """The user's sites with their area and whether each is due now (`due`), by code."""
    return sites(user, deleted=deleted).select_related("area").annotate(due=Due(timezone.now())).order_by("code")


def site_with_due(user, site_id: uuid.UUID, *, deleted: bool = False) -> Site | None:
    return sites_with_due(user, deleted=deleted).filter(pk=site_id).first()


def named_sites(site_ids) -> QuerySet:
    """The sites, deleted ones too, that a record the reader may already see names (a
    submitted report's frozen rows): that record's own scope check covers them, and a site
    deleted or moved since still has its code and name there."""
    return Site.all_objects.filter(pk__in=site_ids)


def imported_sites(entries: QuerySet) -> QuerySet:
    """The sites, deleted ones too, that the imports logged as these audit entries wrote."""
    return Site.all_objects.filter(import_entry_id__in=entries)


def unprotected_open_sites(user, request) -> QuerySet:
    """The candidates of the priority list: open sites not protected, under the filters."""
    return filtered_sites(user, request).filter(SITE_OPEN).exclude(state=SiteState.PROTECTED)


def inspections(user) -> QuerySet:
    """The inspections of the user's sites, newest first, with inspector and photos."""
    latest_first = Inspection.objects.select_related("inspector").prefetch_related("photos").order_by("-observed_at")
    return scope_for(user).restrict(latest_first, VIEW)


def own_closure_proposals(user) -> QuerySet:
    """The closure proposals the user made on sites they may see, newest first, with the
    manager who decided each."""
    proposals = ClosureProposal.objects.filter(proposed_by=user, site__deleted_at__isnull=True)
    return scope_for(user).restrict(proposals.select_related("site", "decided_by"), VIEW).order_by("-received_at")


def site_inspections(site: Site) -> QuerySet:
    """A site's inspections, for a reader whose own check let them see the site (a page
    of the site, a remediation order's notice)."""
    return Inspection.objects.filter(site=site)


def site_history(site: Site) -> QuerySet:
    """A site's inspections, newest first, for a person who may see the site."""
    return site_inspections(site).select_related("inspector").prefetch_related("photos").order_by("-observed_at")


def site_photos(site_id) -> QuerySet:
    """The photos of a site's inspections, for the same readers as site_inspections."""
    return Photo.objects.filter(inspection__site_id=site_id, inspection__deleted_at__isnull=True)


def photos_added_since(moment, site_ids=None) -> QuerySet:
    """Photos added since `moment`, of any site or of `site_ids`: what a submitted report
    (whose own check passed) lists as changed since, restricted to its area by the sites
    it counts."""
    photos = Photo.objects.filter(created_at__gte=moment)
    return photos if site_ids is None else photos.filter(inspection__site_id__in=site_ids)


def inspection(user, inspection_id, action: str = VIEW) -> Inspection | None:
    """The inspection, when it is of a site the user may `action` (a tablet's photo is
    attached to an inspection the sender surveys)."""
    return scope_for(user).restrict(Inspection.objects.all(), action).filter(pk=inspection_id).first()


def inspections_and_restorable(user) -> QuerySet:
    """The inspections the user may see: live ones of live sites they view, and any where
    they administer (deleted records stay visible to the administrators who may restore
    them), each with its site (which names it)."""
    scope = scope_for(user)
    seen = scope.restrict(Inspection.objects.all(), VIEW) | scope.restrict(Inspection.all_objects.all(), ADMINISTER)
    return seen.select_related("site")


def photos_and_restorable(user) -> QuerySet:
    """The photos the user may see, as inspections_and_restorable: of a live inspection of
    a live site they view, or of any inspection where they administer; each with its
    inspection and site (which name it)."""
    scope = scope_for(user)
    live = Photo.objects.filter(inspection__deleted_at__isnull=True, inspection__site__deleted_at__isnull=True)
    seen = scope.restrict(live, VIEW) | scope.restrict(Photo.objects.all(), ADMINISTER)
    return seen.select_related("inspection__site")


def photos_of_file(user, name: str) -> QuerySet:
    """The photos whose image or thumbnail is the stored file `name` that the user may see
    (photos_and_restorable)."""
    return photos_and_restorable(user).filter(Q(image=name) | Q(thumbnail=name))


def stored_sites(site_ids) -> dict:
    """The stored sites, deleted ones too, with their area, by id, of those ids."""
    return Site.all_objects.select_related("area").in_bulk(site_ids)


def stored_inspections(inspection_ids) -> dict:
    """The stored inspections, deleted ones too, with their site and its area, by id, of those ids."""
    return Inspection.all_objects.select_related("site__area").in_bulk(inspection_ids)


def stored_photo(photo_id) -> Photo | None:
    return Photo.objects.filter(pk=photo_id).first()


# What puts a site first in the due list, highest first: an owner says the work is done
# and only an inspection can verify it; then the campaign sites sent to this worker.
AWAITING_VERIFICATION = 2
CAMPAIGN_SITE = 1
# Changes whenever the list's layout changes, so no tablet reads a copy of another layout.
SITE_LIST_FORMAT = 2
# Coordinates as integers of 1e-5 degree (about 1.1 m: metres matter, centimetres do not).
COORDINATE_SCALE = 100_000
# What a tablet needs to name a site, beyond its place and state: checked is the day of
# the last check or null; first ranks what the due list shows first (AWAITING_VERIFICATION,
# CAMPAIGN_SITE, 0); order_state and order_deadline are those of the site's order not yet
# verified, or null.
DETAIL_COLUMNS = ["code", "name", "kind", "checked", "first", "order_state", "order_deadline"]
# Signage and barrier travel as one digit each: an index into their values.
assert max(len(Signage.values), len(Barrier.values)) <= 10


class _Scaled(Func):
    """A point's longitude (ST_X) or latitude (ST_Y) as an integer of 1/COORDINATE_SCALE degree."""

    template = f"round(%(function)s(%(expressions)s) * {COORDINATE_SCALE})::int"
    output_field = IntegerField()


def _index_of(values: list[str], column: str) -> Func:
    """The 0-based position of the column's value in `values`."""
    position = Func(Value(values), F(column), function="array_position", output_field=IntegerField())
    return position - 1


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
        ).exclude(checked_since(F("campaign__starts_on"), OuterRef("last_checked_at")))
    )


def _site_rows(user, now: dt.datetime) -> QuerySet:
    """One row per open site the user surveys, each rule read from its home: the scope
    (accounts/scope.py), open (filters.py), due and the registry's day (rules.py). A site
    is due when its state is unverified or it goes first."""
    unverified = RemediationOrder.objects.filter(site=OuterRef("pk"), state__in=UNVERIFIED)
    awaiting = Exists(unverified.filter(state=OrderState.DONE))
    campaign_site = _campaign_site(user, timezone.localdate(now))
    return (
        sites(user, SURVEY)
        .filter(SITE_OPEN)
        .annotate(
            id_text=Cast("id", TextField()),
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
            sign_index=_index_of(Signage.values, "signage"),
            barrier_index=_index_of(Barrier.values, "barrier"),
            x=_Scaled(F("location"), function="ST_X"),
            y=_Scaled(F("location"), function="ST_Y"),
            place=Func(F("location"), function="ST_GeoHash", output_field=TextField()),
        )
        .order_by()
        .values("id_text", *DETAIL_COLUMNS, "due", "sign_index", "barrier_index", "x", "y", "place")
    )


def _array(value: str, condition: str = "true") -> str:
    """SQL for a JSON array of `value` over the rows meeting `condition`, in order, with no
    spaces (json_agg writes ", " between elements)."""
    elements = f"string_agg(coalesce(to_json({value})::text, 'null'), ',' ORDER BY n) FILTER (WHERE {condition})"
    return f"('[' || coalesce({elements}, '') || ']')::json"


def _digits(value: str) -> str:
    """SQL for a string of one digit per row, in order."""
    return f"coalesce(string_agg(({value})::text, '' ORDER BY n), '')"


def _details(condition: str) -> str:
    """The DETAIL_COLUMNS of the rows meeting `condition`, one JSON array per column, in order."""
    return "json_build_object(" + ", ".join(f"'{name}', {_array(name, condition)}" for name in DETAIL_COLUMNS) + ")"


# Both parts made by PostgreSQL from the rows above in one statement (one snapshot; made
# in Python, a busy commune's list was slow, bench/NOTES.md). Sites go by place
# (geohash), so a site's coordinates are sent as the difference to the previous site's:
# small numbers that compress well. Signage, barrier and due are one digit per site in a
# string. Columns, not rows: a column of like values compresses better. Only constants
# are formatted in.
LIST_SQL = f"""
WITH s AS ({{rows}}),
o AS (
    SELECT s.*, row_number() OVER w AS n,
           x - coalesce(lag(x) OVER w, 0) AS dx, y - coalesce(lag(y) OVER w, 0) AS dy
    FROM s WINDOW w AS (ORDER BY place, id_text)
)
SELECT
    json_build_object(
        'format', {SITE_LIST_FORMAT}, 'count', count(*), 'scale', {COORDINATE_SCALE},
        'signage_values', %s::json, 'barrier_values', %s::json,
        'x', {_array("dx")}, 'y', {_array("dy")},
        'signage', {_digits("sign_index")}, 'barrier', {_digits("barrier_index")}, 'due', {_digits("due")},
        'due_sites', {_details("due = 1")}
    )::text,
    json_build_object(
        'format', {SITE_LIST_FORMAT}, 'id', {_array("id_text")}, 'other_sites', {_details("due = 0")}
    )::text
FROM o
"""  # noqa: S608


@dataclass(frozen=True)
class SiteList:
    """The user's site list in its two parts, as JSON. `first` is what the tablet needs to
    draw the map and the due list: every site's place (x, y: integers of 1/scale degree,
    each the difference to the previous site's), signage and barrier (a digit each, an
    index into signage_values and barrier_values: the tablet derives the state by the
    server's state table), due (a digit), and the due sites' DETAIL_COLUMNS in the order of
    their due digits. `rest` follows: every site's id, and the other sites' DETAIL_COLUMNS
    in order. `version` names the pair: the second part is asked for by the version of
    the first, so the two always fit together."""

    first: bytes
    rest: bytes

    @property
    def version(self) -> str:
        return hashlib.sha256(self.first + b"\n" + self.rest).hexdigest()[:32]


def survey_site_list(user, now: dt.datetime) -> SiteList:
    """The open sites the user surveys, for the tablet (SiteList)."""
    sql, params = _site_rows(user, now).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            LIST_SQL.format(rows=sql),
            [*params, json.dumps(Signage.values), json.dumps(Barrier.values)],
        )
        first, rest = cursor.fetchone()
    return SiteList(first.encode(), rest.encode())


# How long a site list's second part is kept for the request that follows its first part
# (within seconds; on a slow network the first part's 50 KB take a few).
REST_KEPT = dt.timedelta(minutes=5)


def survey_site_list_first(user, now: dt.datetime) -> SiteList:
    """survey_site_list, its second part kept for the tablet's next request (survey_site_list_rest)."""
    sites = survey_site_list(user, now)
    SurveyListRest.objects.update_or_create(
        user=user,
        defaults={
            "version": sites.version,
            "scope": " ".join(scope_for(user).readable_roots()),
            "rest": sites.rest,
            "made_at": now,
        },
    )
    return sites


def survey_site_list_rest(user, version: str, now: dt.datetime) -> bytes | None:
    """The second part of the user's site list of `version`, None when the list is no
    longer that version. The part kept with the first is read while fresh and made for the
    user's scope of now; else the list is made again (the whole statement)."""
    kept = SurveyListRest.objects.filter(
        user=user, version=version, scope=" ".join(scope_for(user).readable_roots()), made_at__gt=now - REST_KEPT
    ).first()
    if kept is not None:
        return bytes(kept.rest)
    sites = survey_site_list(user, now)
    return sites.rest if sites.version == version else None

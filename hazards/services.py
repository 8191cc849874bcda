"""Every write to sites and inspections. Each function validates, checks the actor's
area scope, runs in one transaction and keeps the derived fields (area, current state)
right. Errors are ValidationError with messages a person can act on."""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import act_as
from accounts.scope import ADMINISTER, EDIT, SURVEY, OutOfScope, scope_for
from areas.assignment import area_containing, areas_containing
from areas.geometry import clean_outline, clean_point
from areas.models import Area
from common.numbers import typed_decimal
from common.text import clean_text

from . import lifecycle
from .current_state import refresh_current_state
from .models import (
    Barrier,
    Inspection,
    Photo,
    Signage,
    Site,
    SiteKind,
)
from .orders import orders_apply_inspections
from .photos import content_hash, process_photo

# A depth is more than MIN_DEPTH_M (not equal) and at most MAX_DEPTH_M; the survey's
# forms check the same before saving (hazards/survey.py record_limits).
MIN_DEPTH_M = Decimal("0")
MAX_DEPTH_M = Decimal("300")
# A depth is kept to the centimetre (rounded half up), and checked as kept.
DEPTH_PLACES = 2
# A site's point may sit on the edge of its outline (a dam), but not far from it.
OUTLINE_POINT_TOLERANCE_DEG = 0.001
# A device clock within this of the server's is taken as right: the offset measured at a
# sync includes the time the request took, and a clock drifts by seconds.
DEVICE_CLOCK_TOLERANCE = dt.timedelta(minutes=2)
# No inspection predates the registry; a reset tablet clock reports 1970 or 2000.
CLOCK_EPOCH = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)


def choice(value: str, choices, field: str, label: str) -> str:
    if value not in choices.values:
        raise ValidationError(
            {
                field: _("Unknown %(label)s %(value)s; choose one of: %(choices)s.")
                % {"label": label, "value": value, "choices": ", ".join(choices.values)}
            }
        )
    return value


def depth_out_of_range() -> str:
    return _("The depth must be between 0 and %(max)s m.") % {"max": MAX_DEPTH_M}


def clean_depth(value, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        depth = typed_decimal(value) if isinstance(value, str) else Decimal(str(value))
    except (ArithmeticError, ValueError):
        raise ValidationError({field: _("The depth must be a number of metres.")}) from None
    # Kept to the centimetre, and checked as kept: 4 mm is no depth (it was stored as 0).
    # A number far beyond the limit is refused as it is (1e40 has more digits than quantize keeps).
    if depth.is_finite() and abs(depth) <= MAX_DEPTH_M * 2:
        depth = depth.quantize(Decimal(1).scaleb(-DEPTH_PLACES), rounding=ROUND_HALF_UP)
    if not depth.is_finite() or depth <= MIN_DEPTH_M or depth > MAX_DEPTH_M:
        raise ValidationError({field: depth_out_of_range()})
    return depth


def clean_name(value: str) -> str:
    name = clean_text(value, "name", _("name"))
    if not name:
        raise ValidationError({"name": _("Give the site a name (e.g. “Ao nhà ông Ba”).")})
    if len(name) > 200:
        raise ValidationError({"name": _("The name is too long (at most 200 characters).")})
    return name


def _geometry(field: str, cleaner, geom: GEOSGeometry):
    try:
        return cleaner(geom)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


def outside_every_area() -> str:
    return _(
        "This location is outside every loaded area. Check the point, or ask an administrator to load the boundaries."
    )


def outside_scope(area: Area) -> str:
    return _("This location is in %(area)s, outside the areas you work in.") % {"area": area.name}


def _allowed_area(scope, area: Area | None) -> Area:
    """The area owning a site's point, if the scope may register sites there."""
    if area is None:
        raise ValidationError({"location": outside_every_area()})
    if not scope.allows(SURVEY, area):
        raise ValidationError({"location": outside_scope(area)})
    return area


def _owner_area(actor, point) -> Area:
    return _allowed_area(scope_for(actor), area_containing(point))


def check_outline(outline, point) -> None:
    if outline is not None and outline.distance(point) > OUTLINE_POINT_TOLERANCE_DEG:
        raise ValidationError({"outline": _("The outline must contain the site's point or lie right next to it.")})


def _active_from(day: dt.date) -> dt.date:
    # A site is registered once it exists; planned works are registered when they start.
    if day > timezone.localdate():
        raise ValidationError({"active_from": _("A site cannot become active in the future.")})
    return day


def site_code_sql(number: str) -> str:
    """SQL for a site's code (HZ-000123) from the SQL expression `number` (a value of
    hazards_site_code_seq): one format for single registrations and imports."""
    return f"'HZ-' || lpad({number}::text, greatest(6, length({number}::text)), '0')"


def _next_codes(count: int) -> list[str]:
    """`count` new site codes, in one round trip."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {site_code_sql('n')} FROM (SELECT nextval('hazards_site_code_seq') AS n "  # noqa: S608
            "FROM generate_series(1, %s)) AS numbers ORDER BY n",
            [count],
        )
        return [code for (code,) in cursor.fetchall()]


@dataclass(kw_only=True)
class SiteDraft:
    """A site to register, as site_register takes it."""

    kind: str
    name: str
    location: GEOSGeometry
    outline: GEOSGeometry | None = None
    deep_water: bool = True
    depth_m: object = None  # a number or its text; clean_depth reads it
    responsible_party: str = ""
    notes: str = ""
    is_temporary: bool = False
    expected_end: dt.date | None = None
    active_from: dt.date | None = None
    site_id: uuid.UUID | None = None
    client_fingerprint: str = ""


def _checked_site(actor, draft: SiteDraft, code: str, area: Area) -> Site:
    """The row of a new site, every value checked (ValidationError otherwise), unsaved."""
    choice(draft.kind, SiteKind, "kind", _("kind"))
    point = _geometry("location", clean_point, draft.location)
    outline = _geometry("outline", clean_outline, draft.outline) if draft.outline is not None else None
    check_outline(outline, point)
    active_from = _active_from(draft.active_from or timezone.localdate())
    if draft.expected_end and draft.expected_end < active_from:
        raise ValidationError({"expected_end": _("The expected end date is before the date the site became active.")})
    return Site(
        id=draft.site_id or uuid.uuid4(),
        code=code,
        kind=draft.kind,
        name=clean_name(draft.name),
        location=point,
        outline=outline,
        area=area,
        deep_water=bool(draft.deep_water),
        depth_m=clean_depth(draft.depth_m, "depth_m"),
        responsible_party=clean_text(draft.responsible_party, "responsible_party", _("responsible party"))[:200],
        notes=clean_text(draft.notes, "notes", _("notes"), lines=True),
        is_temporary=bool(draft.is_temporary),
        expected_end=draft.expected_end,
        active_from=active_from,
        created_by=actor,
        client_fingerprint=draft.client_fingerprint,
    )


@transaction.atomic
def sites_register(*, actor, drafts: list[SiteDraft]) -> list[Site | ValidationError]:
    """Registers many sites at once (a tablet's batch): for each draft the new site, or
    the ValidationError that refused it; one statement writes them all. The area of each
    point comes from areas_containing, in one statement as well."""
    act_as(actor)
    scope = scope_for(actor)
    results: list[Site | ValidationError | None] = [None] * len(drafts)
    points = {}
    for index, draft in enumerate(drafts):
        try:
            points[index] = _geometry("location", clean_point, draft.location)
        except ValidationError as exc:
            results[index] = exc
    placed = {}
    for index, area in zip(points, areas_containing(list(points.values())), strict=True):
        try:
            placed[index] = _allowed_area(scope, area)
        except ValidationError as exc:
            results[index] = exc
    for (index, area), code in zip(placed.items(), _next_codes(len(placed)), strict=True):
        try:
            results[index] = _checked_site(actor, drafts[index], code, area)
        except ValidationError as exc:
            results[index] = exc
    Site.objects.bulk_create([site for site in results if isinstance(site, Site)])
    return results


def site_register(*, actor, **fields) -> Site:
    """Registers one site; `fields` are SiteDraft's. ValidationError when refused."""
    (site,) = sites_register(actor=actor, drafts=[SiteDraft(**fields)])
    if isinstance(site, ValidationError):
        raise site
    return site


# What a person may change on a site, each with the check that cleans its value; the
# admin's site form shows these fields, in this order.
EDITABLE_FIELDS = {
    "kind": lambda value: choice(value, SiteKind, "kind", _("kind")),
    "name": clean_name,
    "location": lambda value: _geometry("location", clean_point, value),
    "outline": lambda value: _geometry("outline", clean_outline, value) if value else None,
    "deep_water": bool,
    "depth_m": lambda value: clean_depth(value, "depth_m"),
    "responsible_party": lambda value: clean_text(value, "responsible_party", _("responsible party")),
    "notes": lambda value: clean_text(value, "notes", _("notes"), lines=True),
    "is_temporary": bool,
    "expected_end": lambda value: value,
    "active_from": _active_from,
}


@transaction.atomic
def site_update(*, actor, site: Site, effective_from: dt.date | None = None, **changes) -> Site:
    """Changes the given fields (EDITABLE_FIELDS) and saves those whose value changed; a
    new location derives the site's area again. A change of its area (by moving it), deep
    water or temporary flag takes effect from `effective_from` (today unless given):
    reports of earlier days keep the details it had then (hazards/lifecycle.py). Closing
    and reopening are hazards/lifecycle.py's."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    act_as(actor)
    site = Site.objects.select_for_update().get(pk=site.pk)
    scope_for(actor).require_record(EDIT, site)
    before = lifecycle.counted_details(site)
    cleaned = {name: EDITABLE_FIELDS[name](value) for name, value in changes.items()}
    changed = [name for name, value in cleaned.items() if getattr(site, name) != value]
    for name in changed:
        if name == "active_from":
            lifecycle.change_start(site, cleaned[name])  # the first stretch of its life starts then
        else:
            setattr(site, name, cleaned[name])
    if site.expected_end and site.expected_end < site.active_from:
        raise ValidationError({"expected_end": _("The expected end date is before the date the site became active.")})
    if "location" in changed:
        site.area = _owner_area(actor, site.location)
        scope_for(actor).require(EDIT, site.area)
        changed.append("area")
    check_outline(site.outline, site.location)
    since = site.current_since
    lifecycle.record_change(site, before=before, effective_from=effective_from, actor=actor)
    if site.current_since != since:
        changed.append("current_since")
    if changed:
        site.save(update_fields=[*changed, "updated_at"])
    return site


def counted_time(
    inspected_at: dt.datetime, received_at: dt.datetime, clock_offset: dt.timedelta | None = None
) -> tuple[dt.datetime, bool]:
    """When an inspection counts (observed_at) and whether the device's clock was off.

    `clock_offset` is the server's time minus the device's, measured when the record
    arrived (None when the device did not say). A clock off by more than the tolerance
    has its offset added to the device time: a tablet three days behind shifts its
    inspections by three days, never by years. A time that is still impossible (after it
    arrived, or before the registry existed: the clock was changed between the inspection
    and the sync) counts as the time it arrived. Both cases are flagged."""
    suspect = clock_offset is not None and abs(clock_offset) > DEVICE_CLOCK_TOLERANCE
    try:
        counted = inspected_at + clock_offset if suspect else inspected_at
    except OverflowError:
        return received_at, True
    if counted > received_at + DEVICE_CLOCK_TOLERANCE or counted < CLOCK_EPOCH:
        return received_at, True
    return counted, suspect


@dataclass(kw_only=True)
class InspectionDraft:
    """An inspection to record, as inspection_record takes it (with the site's id)."""

    site_id: uuid.UUID
    inspected_at: dt.datetime
    signage: str
    barrier: str
    water_present: bool = True
    water_depth_m: object = None  # a number or its text; clean_depth reads it
    notes: str = ""
    gps_fix: GEOSGeometry | None = None
    gps_accuracy_m: float | None = None
    inspection_id: uuid.UUID | None = None
    # The device clock's measured offset (counted_time).
    clock_offset: dt.timedelta | None = None
    client_fingerprint: str = ""


def check_inspection(draft: InspectionDraft) -> tuple[GEOSGeometry | None, Decimal | None]:
    """What an inspection must be whatever its site (ValidationError otherwise); returns
    its GPS fix and water depth, checked."""
    choice(draft.signage, Signage, "signage", _("signage state"))
    choice(draft.barrier, Barrier, "barrier", _("barrier state"))
    if draft.inspected_at is None or timezone.is_naive(draft.inspected_at):
        raise ValidationError({"inspected_at": _("Give the inspection time with its time zone.")})
    gps_fix = _geometry("gps_fix", clean_point, draft.gps_fix) if draft.gps_fix is not None else None
    if draft.gps_accuracy_m is not None and not (0 <= float(draft.gps_accuracy_m) <= 100_000):
        raise ValidationError({"gps_accuracy_m": _("The GPS accuracy must be a distance in metres.")})
    return gps_fix, clean_depth(draft.water_depth_m, "water_depth_m")


def _checked_inspection(actor, draft: InspectionDraft, site: Site, spans: list, received_at: dt.datetime) -> Inspection:
    """The row of a new inspection of `site` (open for `spans`, lifecycle.open_spans),
    every value checked, unsaved."""
    gps_fix, water_depth_m = check_inspection(draft)
    observed_at, suspect = counted_time(draft.inspected_at, received_at, draft.clock_offset)
    # Field evidence dated before a closure is kept; after it, refused with the reason.
    lifecycle.admit_inspection_day(site, timezone.localdate(observed_at), spans)
    return Inspection(
        id=draft.inspection_id or uuid.uuid4(),
        site=site,
        inspected_at=draft.inspected_at,
        received_at=received_at,
        observed_at=observed_at,
        clock_suspect=suspect,
        inspector=actor,
        signage=draft.signage,
        barrier=draft.barrier,
        water_present=bool(draft.water_present),
        water_depth_m=water_depth_m,
        notes=clean_text(draft.notes, "notes", _("notes"), lines=True),
        gps_fix=gps_fix,
        gps_accuracy_m=draft.gps_accuracy_m,
        client_fingerprint=draft.client_fingerprint,
    )


@transaction.atomic
def inspections_record(*, actor, drafts: list[InspectionDraft]) -> list[Inspection | ValidationError | OutOfScope]:
    """Records many inspections at once (a tablet's batch): for each draft the new
    inspection, ValidationError, or OutOfScope when its site is not the actor's to
    survey. A fixed number of statements check and write them all, however many: the
    sites' lifespans are read at once, one statement writes the inspections, one more
    derives the state of their sites."""
    act_as(actor)
    # Locked, in one order, so that concurrent inspections of a site cannot both think
    # they are the latest, and two batches cannot deadlock.
    sites = (
        scope_for(actor)
        .restrict(Site.objects.filter(pk__in={draft.site_id for draft in drafts}), SURVEY)
        .select_for_update(of=("self",))
        .order_by("pk")
        .in_bulk()
    )
    spans = lifecycle.open_spans(sites.values())
    received_at = timezone.now()
    results: list[Inspection | ValidationError | OutOfScope] = []
    for draft in drafts:
        site = sites.get(draft.site_id)
        try:
            results.append(
                OutOfScope() if site is None else _checked_inspection(actor, draft, site, spans[site.pk], received_at)
            )
        except ValidationError as exc:
            results.append(exc)
    written = Inspection.objects.bulk_create([row for row in results if isinstance(row, Inspection)])
    # A site is active from its first observation: an earlier one moves its start back.
    first_days: dict = {}
    for row in written:
        day = timezone.localdate(row.observed_at)
        site = sites[row.site_id]
        first_days[site] = min(day, first_days.get(site, day))
    lifecycle.extend_starts(first_days)
    refresh_current_state({row.site_id for row in written})
    orders_apply_inspections(written)
    return results


def inspection_record(*, actor, site: Site, **fields) -> Inspection:
    """Records one inspection of `site`; `fields` are InspectionDraft's. ValidationError
    when refused, OutOfScope when the site is not the actor's to survey."""
    (inspection,) = inspections_record(actor=actor, drafts=[InspectionDraft(site_id=site.pk, **fields)])
    if isinstance(inspection, Exception):
        raise inspection
    return inspection


@transaction.atomic
def photo_attach(
    *, actor, inspection: Inspection, data: bytes, photo_id: uuid.UUID | None = None
) -> tuple[Photo, bool]:
    """Store a photo for an inspection once: the same content sent again for the same
    inspection returns the stored photo. Returns (photo, created)."""
    # Named here, not only by the request: a tablet's token is read after the middleware
    # that names a session's user, and the photo and the site's new state are its acts.
    act_as(actor)
    scope_for(actor).require_record(SURVEY, inspection)
    existing = Photo.objects.filter(inspection=inspection, sha256=content_hash(data)).first()
    if existing:
        return existing, False
    processed = process_photo(data)
    photo = Photo(
        id=photo_id or uuid.uuid4(),
        inspection=inspection,
        sha256=processed.sha256,
        width=processed.width,
        height=processed.height,
    )
    photo.image.save("photo.jpg", ContentFile(processed.image), save=False)
    photo.thumbnail.save("thumb.jpg", ContentFile(processed.thumbnail), save=False)
    photo.save()
    refresh_current_state([inspection.site_id])
    return photo, True


# Deleting is soft: a deleted record leaves every list, map and report, stays in the
# audit trail, can be restored by an administrator and is never resurrected by a tablet.


def _mark_deleted(record, actor, *, deleted: bool, extra_fields=()) -> None:
    record.deleted_at, record.deleted_by = (timezone.now(), actor) if deleted else (None, None)
    record.save(update_fields=["deleted_at", "deleted_by", *extra_fields])


@transaction.atomic
def site_delete(*, actor, site: Site) -> Site:
    act_as(actor)
    site = Site.objects.select_for_update().get(pk=site.pk)
    scope_for(actor).require_record(EDIT, site)
    _mark_deleted(site, actor, deleted=True, extra_fields=["updated_at"])
    return site


@transaction.atomic
def site_restore(*, actor, site: Site) -> Site:
    act_as(actor)
    site = Site.all_objects.select_for_update().get(pk=site.pk)
    scope_for(actor).require(ADMINISTER, site.area)
    _mark_deleted(site, actor, deleted=False, extra_fields=["updated_at"])
    return site


@transaction.atomic
def inspection_delete(*, actor, inspection: Inspection, deleted: bool = True) -> Inspection:
    """Delete an inspection softly, or with deleted=False restore it (administrators);
    either way the site's current state is derived again."""
    act_as(actor)
    site = Site.objects.select_for_update().get(pk=inspection.site_id)
    scope = scope_for(actor)
    if deleted:
        scope.require_record(EDIT, site)
    else:
        scope.require(ADMINISTER, site.area)
    _mark_deleted(inspection, actor, deleted=deleted)
    refresh_current_state([site.pk])
    return inspection

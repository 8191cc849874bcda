"""Every write to sites and inspections. Each function validates, checks the actor's
area scope, runs in one transaction and keeps the derived fields (area, current state)
right. Errors are ValidationError with messages a person can act on."""

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import act_as
from accounts.scope import ADMINISTER, EDIT, SURVEY, scope_for
from areas.assignment import area_containing
from areas.geometry import clean_outline, clean_point
from areas.models import Area

from .job_kinds import KINDS
from .log_context import current_request_id
from .models import Barrier, CloseReason, ImportFilePart, ImportRun, Inspection, JobRun, Photo, Signage, Site, SiteKind
from .photos import content_hash, process_photo

MAX_DEPTH_M = Decimal("300")
# A site's point may sit on the edge of its outline (a dam), but not far from it.
OUTLINE_POINT_TOLERANCE_DEG = 0.001
# A device clock within this of the server's is taken as right: the offset measured at a
# sync includes the time the request took, and a clock drifts by seconds.
DEVICE_CLOCK_TOLERANCE = dt.timedelta(minutes=2)
# No inspection predates the registry; a reset tablet clock reports 1970 or 2000.
CLOCK_EPOCH = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)


def _choice(value: str, choices, field: str, label: str) -> str:
    if value not in choices.values:
        raise ValidationError(
            {
                field: _("Unknown %(label)s %(value)s; choose one of: %(choices)s.")
                % {"label": label, "value": value, "choices": ", ".join(choices.values)}
            }
        )
    return value


def clean_depth(value, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        depth = Decimal(str(value))
    except ArithmeticError:
        raise ValidationError({field: _("The depth must be a number of metres.")}) from None
    if not depth.is_finite() or depth <= 0 or depth > MAX_DEPTH_M:
        raise ValidationError({field: _("The depth must be between 0 and %(max)s m.") % {"max": MAX_DEPTH_M}})
    return depth.quantize(Decimal("0.01"))


def clean_name(value: str) -> str:
    name = (value or "").strip()
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


def _owner_area(actor, point) -> Area:
    area = area_containing(point)
    if area is None:
        raise ValidationError({"location": outside_every_area()})
    if not scope_for(actor).allows(SURVEY, area):
        raise ValidationError({"location": outside_scope(area)})
    return area


def _check_outline(outline, point) -> None:
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


def _next_code() -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {site_code_sql('n')} FROM nextval('hazards_site_code_seq') AS n")  # noqa: S608
        return cursor.fetchone()[0]


@transaction.atomic
def site_register(
    *,
    actor,
    kind: str,
    name: str,
    location: GEOSGeometry,
    outline: GEOSGeometry | None = None,
    deep_water: bool = True,
    depth_m=None,
    responsible_party: str = "",
    notes: str = "",
    is_temporary: bool = False,
    expected_end: dt.date | None = None,
    active_from: dt.date | None = None,
    site_id: uuid.UUID | None = None,
    client_fingerprint: str = "",
) -> Site:
    act_as(actor)
    _choice(kind, SiteKind, "kind", _("kind"))
    point = _geometry("location", clean_point, location)
    outline = _geometry("outline", clean_outline, outline) if outline is not None else None
    _check_outline(outline, point)
    active_from = _active_from(active_from or timezone.localdate())
    if expected_end and expected_end < active_from:
        raise ValidationError({"expected_end": _("The expected end date is before the date the site became active.")})
    area = _owner_area(actor, point)
    return Site.objects.create(
        id=site_id or uuid.uuid4(),
        code=_next_code(),
        kind=kind,
        name=clean_name(name),
        location=point,
        outline=outline,
        area=area,
        deep_water=bool(deep_water),
        depth_m=clean_depth(depth_m, "depth_m"),
        responsible_party=(responsible_party or "").strip()[:200],
        notes=notes or "",
        is_temporary=bool(is_temporary),
        expected_end=expected_end,
        active_from=active_from,
        created_by=actor,
        client_fingerprint=client_fingerprint,
    )


def _stripped(value) -> str:
    return (value or "").strip()


# What a person may change on a site, each with the check that cleans its value; the
# admin's site form shows these fields, in this order.
EDITABLE_FIELDS = {
    "kind": lambda value: _choice(value, SiteKind, "kind", _("kind")),
    "name": clean_name,
    "location": lambda value: _geometry("location", clean_point, value),
    "outline": lambda value: _geometry("outline", clean_outline, value) if value else None,
    "deep_water": bool,
    "depth_m": lambda value: clean_depth(value, "depth_m"),
    "responsible_party": _stripped,
    "notes": _stripped,
    "is_temporary": bool,
    "expected_end": lambda value: value,
    "active_from": _active_from,
}


@transaction.atomic
def site_update(*, actor, site: Site, **changes) -> Site:
    """Changes the given fields (EDITABLE_FIELDS) and saves those whose value changed; a
    new location derives the site's area again."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    act_as(actor)
    site = Site.objects.select_for_update().get(pk=site.pk)
    scope_for(actor).require_record(EDIT, site)
    cleaned = {name: EDITABLE_FIELDS[name](value) for name, value in changes.items()}
    changed = [name for name, value in cleaned.items() if getattr(site, name) != value]
    for name in changed:
        setattr(site, name, cleaned[name])
    if site.expected_end and site.expected_end < site.active_from:
        raise ValidationError({"expected_end": _("The expected end date is before the date the site became active.")})
    if "location" in changed:
        site.area = _owner_area(actor, site.location)
        scope_for(actor).require(EDIT, site.area)
        changed.append("area")
    _check_outline(site.outline, site.location)
    if changed:
        site.save(update_fields=[*changed, "updated_at"])
    return site


@transaction.atomic
def site_close(
    *, actor, site: Site, reason: str, closed_at: dt.date | None = None, duplicate_of: Site | None = None
) -> Site:
    act_as(actor)
    site = Site.objects.select_for_update().get(pk=site.pk)
    scope = scope_for(actor)
    scope.require_record(EDIT, site)
    _choice(reason, CloseReason, "close_reason", _("close reason"))
    if site.closed_at:
        raise ValidationError(_("This site was already closed on %(date)s.") % {"date": site.closed_at})
    closed_at = closed_at or timezone.localdate()
    if closed_at < site.active_from:
        raise ValidationError(
            {"closed_at": _("A site cannot close before it became active (%(date)s).") % {"date": site.active_from}}
        )
    if closed_at > timezone.localdate():
        raise ValidationError({"closed_at": _("The closing date cannot be in the future.")})
    if reason == CloseReason.DUPLICATE:
        if duplicate_of is None:
            raise ValidationError({"duplicate_of": _("Name the site this one duplicates.")})
        scope.require_record("view", duplicate_of)
        if duplicate_of.pk == site.pk or duplicate_of.closed_at:
            raise ValidationError({"duplicate_of": _("A site is a duplicate of another, active site.")})
    elif duplicate_of is not None:
        raise ValidationError({"duplicate_of": _("Only a site closed as a duplicate names another site.")})
    site.closed_at, site.close_reason, site.duplicate_of = closed_at, reason, duplicate_of
    site.save(update_fields=["closed_at", "close_reason", "duplicate_of", "updated_at"])
    return site


@transaction.atomic
def site_reopen(*, actor, site: Site) -> Site:
    act_as(actor)
    site = Site.objects.select_for_update().get(pk=site.pk)
    scope_for(actor).require_record(EDIT, site)
    if not site.closed_at:
        raise ValidationError(_("This site is not closed."))
    site.closed_at, site.close_reason, site.duplicate_of = None, "", None
    site.save(update_fields=["closed_at", "close_reason", "duplicate_of", "updated_at"])
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


@transaction.atomic
def inspection_record(
    *,
    actor,
    site: Site,
    inspected_at: dt.datetime,
    signage: str,
    barrier: str,
    water_present: bool = True,
    water_depth_m=None,
    notes: str = "",
    gps_fix: GEOSGeometry | None = None,
    gps_accuracy_m: float | None = None,
    inspection_id: uuid.UUID | None = None,
    clock_offset: dt.timedelta | None = None,
    client_fingerprint: str = "",
) -> Inspection:
    """Records an inspection; `clock_offset` is the device clock's measured offset
    (counted_time)."""
    act_as(actor)
    # Lock the site so concurrent inspections cannot both think they are the latest.
    site = Site.objects.select_for_update().get(pk=site.pk)
    scope_for(actor).require_record(SURVEY, site)
    if site.closed_at:
        raise ValidationError(
            _("Site %(code)s was closed on %(date)s; it takes no new inspections.")
            % {"code": site.code, "date": site.closed_at}
        )
    _choice(signage, Signage, "signage", _("signage state"))
    _choice(barrier, Barrier, "barrier", _("barrier state"))
    if inspected_at is None or timezone.is_naive(inspected_at):
        raise ValidationError({"inspected_at": _("Give the inspection time with its time zone.")})
    if gps_fix is not None:
        gps_fix = _geometry("gps_fix", clean_point, gps_fix)
    if gps_accuracy_m is not None and not (0 <= float(gps_accuracy_m) <= 100_000):
        raise ValidationError({"gps_accuracy_m": _("The GPS accuracy must be a distance in metres.")})
    received_at = timezone.now()
    observed_at, suspect = counted_time(inspected_at, received_at, clock_offset)
    inspection = Inspection.objects.create(
        id=inspection_id or uuid.uuid4(),
        site=site,
        inspected_at=inspected_at,
        received_at=received_at,
        observed_at=observed_at,
        clock_suspect=suspect,
        inspector=actor,
        signage=signage,
        barrier=barrier,
        water_present=bool(water_present),
        water_depth_m=clean_depth(water_depth_m, "water_depth_m"),
        notes=notes or "",
        gps_fix=gps_fix,
        gps_accuracy_m=gps_accuracy_m,
        client_fingerprint=client_fingerprint,
    )
    refresh_current_state(site)
    return inspection


def refresh_current_state(site: Site) -> None:
    """The site's current state is its latest inspection's (by counted time, then arrival)."""
    latest = site.inspections.order_by("-observed_at", "-received_at").first()
    Site.objects.filter(pk=site.pk).update(
        signage=latest.signage if latest else Signage.NONE,
        barrier=latest.barrier if latest else Barrier.NONE,
        last_checked_at=latest.observed_at if latest else None,
        photo_evidence=bool(latest and latest.photos.exists()),
    )


@transaction.atomic
def photo_attach(
    *, actor, inspection: Inspection, data: bytes, photo_id: uuid.UUID | None = None
) -> tuple[Photo, bool]:
    """Store a photo for an inspection once: the same content sent again for the same
    inspection returns the stored photo. Returns (photo, created)."""
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
    refresh_current_state(inspection.site)
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
    refresh_current_state(site)
    return inspection


# An uploaded file is copied into the database in parts of this size (bytes).
IMPORT_PART_BYTES = 8 * 1024 * 1024


@transaction.atomic
def import_run_start(
    *,
    actor,
    path: Path,
    mapping: dict,
    dry_run: bool,
    language: str,
    words: dict | None = None,
    system: int | None = None,
) -> ImportRun:
    """Queues the import (or the check) of an uploaded file for the worker: the run, its
    file copied into the database (the worker may be on another machine) and the job, all
    or none."""
    from .tasks import import_file  # the job runs the import code, which uses this module

    run = ImportRun.objects.create(
        created_by=actor,
        upload_id=path.parent.name,
        file_name=path.name,
        mapping=mapping,
        words=words or {},
        system=system,
        dry_run=dry_run,
        language=language,
    )
    # A Shapefile is read with the files beside it; the zip it came in is not needed.
    for member in sorted(p for p in path.parent.iterdir() if p.is_file() and p.suffix.lower() != ".zip"):
        with open(member, "rb") as source:
            for seq, data in enumerate(iter(lambda source=source: source.read(IMPORT_PART_BYTES), b"")):
                ImportFilePart.objects.create(run=run, name=member.name, seq=seq, data=data)
    import_file.defer(run_id=str(run.pk), request_id=current_request_id.get())
    return run


@transaction.atomic
def job_start(*, actor, kind: str, params: dict, language: str) -> JobRun:
    """Queues long work of a registered kind (job_kinds.py) for the worker: the run and its
    job, both or neither. Asked again while the same work still waits or runs, it answers
    that run rather than doing it twice (a person clicking again)."""
    from .tasks import run_job  # the job runs the kinds' code, which may use this module

    if kind not in KINDS:
        raise ValueError(f"no job kind {kind!r}")
    waiting = [JobRun.Status.QUEUED, JobRun.Status.RUNNING]
    unfinished = JobRun.objects.filter(
        created_by=actor, kind=kind, params=params, language=language, status__in=waiting
    )
    if found := unfinished.order_by("-created_at").first():
        return found
    run = JobRun.objects.create(
        created_by=actor, kind=kind, params=params, language=language, request_id=current_request_id.get()
    )
    run_job.defer(run_id=str(run.pk), request_id=run.request_id)
    return run

"""Receiving records from tablets that may have been offline for hours.

Records carry the UUIDs the tablet gave them. The same record sent again gets the same
answer and creates nothing, also when both copies arrive at once; a different record
under a stored UUID gets 409 and the stored one is left alone. Each record is stored or
refused on its own, with a reason in the worker's language that says what to fix.

The tablet states its clock when it sends (X-Device-Time): the difference to the
server's clock is the device's offset, applied to the times of what it sends
(services.counted_time)."""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.scope import SURVEY, OutOfScope, scope_for

from . import services
from .models import Inspection, Photo, Site
from .photos import content_hash
from .serializers import InspectionIn, SiteIn

# The most records of each type one batch may hold.
BATCH_LIMIT = 1000


@dataclass
class Outcome:
    status: int
    body: dict
    replay: bool = False


def fingerprint(record: dict) -> str:
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def clock_offset(device_time: str | None, received_at: dt.datetime) -> dt.timedelta | None:
    """The server's clock minus the device's, from the device's statement of its clock
    when it sent the request; None when it made none. ValidationError when the statement
    is not a time with its zone."""
    if not device_time:
        return None
    try:
        stated = parse_datetime(device_time.strip())
    except ValueError:
        stated = None
    if stated is None or timezone.is_naive(stated):
        raise ValidationError(
            _(
                "The tablet's clock (header X-Device-Time) must be a date and time with its time zone, "
                "e.g. 2026-05-01T08:30:00+07:00. Update the app; nothing was stored."
            )
        )
    return received_at - stated


def _messages(errors) -> list[str]:
    """Every message in DRF's or Django's nested errors, in order."""
    if isinstance(errors, dict):
        return [message for value in errors.values() for message in _messages(value)]
    if isinstance(errors, list | tuple):
        return [message for value in errors for message in _messages(value)]
    return [str(errors)]


def invalid(errors) -> Outcome:
    """A refused record: `detail` is the whole reason to show, `errors` the same by field."""
    if isinstance(errors, ValidationError):
        errors = errors.message_dict if hasattr(errors, "error_dict") else {"non_field_errors": errors.messages}
    detail = _("The record was refused: %(reasons)s") % {"reasons": " ".join(_messages(errors))}
    return Outcome(400, {"code": "invalid", "detail": detail, "errors": errors})


def not_a_record() -> Outcome:
    return invalid({"non_field_errors": [_("A record must be a JSON object; this one is not. Update the app.")]})


def _conflict(record_id, *, site: bool) -> Outcome:
    if site:
        detail = _(
            "Another site was already stored under this record's id; it was kept and this record was not stored. "
            "Keep the record on the tablet and show it to your area manager."
        )
    else:
        detail = _(
            "Another inspection was already stored under this record's id; it was kept and this record was not "
            "stored. Keep the record on the tablet and show it to your area manager."
        )
    return Outcome(409, {"code": "id_conflict", "id": str(record_id), "detail": detail})


def _gone(*, site: bool) -> Outcome:
    if site:
        detail = _("A manager deleted this site, so it takes nothing more. Discard the record, or ask your manager.")
    else:
        detail = _("A manager deleted this inspection; it cannot be sent again. Discard the record.")
    return Outcome(410, {"code": "deleted", "detail": detail})


def _not_found(*, site: bool) -> Outcome:
    if site:
        detail = _(
            "This site is not in the areas you work in. Check that you are signed in as yourself, "
            "or ask your manager to give you its area."
        )
    else:
        detail = _(
            "This inspection is not in the areas you work in. Check that you are signed in as yourself, "
            "or ask your manager to give you its area."
        )
    return Outcome(404, {"code": "not_found", "detail": detail})


def site_body(site: Site, inspection_id) -> dict:
    return {
        "id": str(site.pk),
        "code": site.code,
        "area": {"code": site.area.code, "name": site.area.name},
        "inspection": str(inspection_id) if inspection_id else None,
    }


def inspection_body(inspection: Inspection) -> dict:
    return {
        "id": str(inspection.pk),
        "site": str(inspection.site_id),
        "clock_suspect": inspection.clock_suspect,
        "counted_at": inspection.observed_at.astimezone(dt.UTC).isoformat(),
    }


def _inspection_args(data: dict) -> dict:
    return {
        "inspected_at": data["inspected_at"],
        "signage": data["signage"],
        "barrier": data["barrier"],
        "water_present": data["water_present"],
        "water_depth_m": data.get("water_depth_m"),
        "notes": data.get("notes", ""),
        "gps_fix": data.get("gps_fix"),
        "gps_accuracy_m": data.get("gps_accuracy_m"),
        "inspection_id": data["id"],
    }


def _stored_site(actor, data: dict, stamp: str) -> Outcome | None:
    """The answer for a site whose id is already stored: the same record again is a
    replay, another is a conflict; None when the id is new."""
    existing = Site.all_objects.select_related("area").filter(pk=data["id"]).first()
    if existing is None:
        return None
    if not scope_for(actor).allows(SURVEY, existing.area):
        return _not_found(site=True)
    if existing.deleted_at:
        return _gone(site=True)
    if existing.client_fingerprint == stamp:
        nested = data.get("inspection")
        return Outcome(201, site_body(existing, nested and nested["id"]), replay=True)
    return _conflict(data["id"], site=True)


def _stored_inspection(actor, data: dict, stamp: str) -> Outcome | None:
    """As _stored_site, for an inspection."""
    existing = Inspection.all_objects.select_related("site__area").filter(pk=data["id"]).first()
    if existing is None:
        return None
    if not scope_for(actor).allows(SURVEY, existing.site.area):
        return _not_found(site=False)
    if existing.deleted_at or existing.site.deleted_at:
        return _gone(site=False)
    if existing.client_fingerprint == stamp:
        return Outcome(201, inspection_body(existing), replay=True)
    return _conflict(data["id"], site=False)


def receive_site(*, actor, record, clock_offset: dt.timedelta | None = None) -> Outcome:
    if not isinstance(record, dict):
        return not_a_record()
    parsed = SiteIn(data=record)
    if not parsed.is_valid():
        return invalid(parsed.errors)
    data = parsed.validated_data
    stamp = fingerprint(record)
    nested = data.get("inspection")
    stored = _stored_site(actor, data, stamp)
    if stored is not None:
        return stored
    received_at = timezone.now()
    # A site is active from its first observation, on the device's corrected clock.
    first_seen = services.counted_time(nested["inspected_at"], received_at, clock_offset)[0] if nested else None
    try:
        with transaction.atomic():
            site = services.site_register(
                actor=actor,
                site_id=data["id"],
                kind=data["kind"],
                name=data["name"],
                location=data["location"],
                deep_water=data["deep_water"],
                depth_m=data.get("depth_m"),
                responsible_party=data.get("responsible_party", ""),
                notes=data.get("notes", ""),
                is_temporary=data["is_temporary"],
                expected_end=data.get("expected_end"),
                active_from=timezone.localdate(first_seen) if first_seen else None,
                client_fingerprint=stamp,
            )
            if nested:
                services.inspection_record(
                    actor=actor, site=site, clock_offset=clock_offset, **_inspection_args(nested)
                )
    except ValidationError as exc:
        return invalid(exc)
    except IntegrityError:
        # Stored meanwhile by a request that arrived at the same time (the key's check
        # waited for it), or the nested inspection's id is taken.
        stored = _stored_site(actor, data, stamp)
        return stored if stored is not None else _conflict(nested["id"] if nested else data["id"], site=not nested)
    return Outcome(201, site_body(site, nested and nested["id"]))


def receive_inspection(*, actor, record, clock_offset: dt.timedelta | None = None) -> Outcome:
    if not isinstance(record, dict):
        return not_a_record()
    parsed = InspectionIn(data=record)
    if not parsed.is_valid():
        return invalid(parsed.errors)
    data = parsed.validated_data
    if "site" not in data:
        return invalid({"site": [_("Name the site that was inspected (its id). Update the app.")]})
    stamp = fingerprint(record)
    stored = _stored_inspection(actor, data, stamp)
    if stored is not None:
        return stored
    site = scope_for(actor).restrict(Site.all_objects.all(), SURVEY).filter(pk=data["site"]).first()
    if site is None:
        return _not_found(site=True)
    if site.deleted_at:
        return _gone(site=True)
    try:
        with transaction.atomic():
            inspection = services.inspection_record(
                actor=actor, site=site, clock_offset=clock_offset, client_fingerprint=stamp, **_inspection_args(data)
            )
    except ValidationError as exc:
        return invalid(exc)
    except IntegrityError:
        # Stored meanwhile by a request that arrived at the same time.
        return _stored_inspection(actor, data, stamp) or _conflict(data["id"], site=False)
    return Outcome(201, inspection_body(inspection))


def record_id(record) -> str | None:
    """The id a record was sent with, for its outcome; None when it has no usable one."""
    value = record.get("id") if isinstance(record, dict) else None
    return value if isinstance(value, str) else None


def read_batch(body) -> tuple[list, list]:
    """The site and inspection records of a batch body, unread; ValidationError when the
    body is not a batch."""
    if not isinstance(body, dict):
        raise ValidationError(_('A batch must be a JSON object with the lists "sites" and "inspections".'))
    lists = []
    for name in ("sites", "inspections"):
        records = body.get(name, [])
        if not isinstance(records, list):
            raise ValidationError(_('"%(name)s" must be a list of records.') % {"name": name})
        if len(records) > BATCH_LIMIT:
            raise ValidationError(
                _("A batch holds at most %(limit)d %(name)s: send the rest in another batch.")
                % {"limit": BATCH_LIMIT, "name": name}
            )
        lists.append(records)
    return lists[0], lists[1]


def receive_batch(*, actor, body, clock_offset: dt.timedelta | None = None) -> list[dict]:
    """One outcome per record, sites first (an inspection may name a site of the batch)."""
    sites, inspections = read_batch(body)
    results = []
    for kind, records, receive in (("site", sites, receive_site), ("inspection", inspections, receive_inspection)):
        for index, record in enumerate(records):
            outcome = receive(actor=actor, record=record, clock_offset=clock_offset)
            results.append(
                {
                    "id": record_id(record),
                    "type": kind,
                    "index": index,
                    "status": outcome.status,
                    "replay": outcome.replay,
                    "body": outcome.body,
                }
            )
    return results


def photo_body(photo: Photo) -> dict:
    return {
        "id": str(photo.pk),
        "inspection": str(photo.inspection_id),
        "sha256": photo.sha256,
        "width": photo.width,
        "height": photo.height,
    }


def receive_photo(*, actor, photo_id, inspection_id, data: bytes) -> Outcome:
    inspection = scope_for(actor).restrict(Inspection.objects.all(), SURVEY).filter(pk=inspection_id).first()
    if inspection is None:
        return _not_found(site=False)
    stored = Photo.objects.filter(pk=photo_id).first()
    if stored is not None:
        if stored.inspection_id == inspection.pk and stored.sha256 == content_hash(data):
            return Outcome(201, photo_body(stored), replay=True)
        return Outcome(
            409,
            {
                "code": "id_conflict",
                "id": str(photo_id),
                "detail": _(
                    "Another photo was already stored under this photo's id; it was kept and this photo was not "
                    "stored. Keep the record on the tablet and show it to your area manager."
                ),
            },
        )
    try:
        photo, created = services.photo_attach(actor=actor, inspection=inspection, data=data, photo_id=photo_id)
    except ValidationError as exc:
        status = 413 if exc.code == "too_large" else 400
        return Outcome(status, {"code": exc.code or "invalid", "detail": " ".join(exc.messages)})
    except OutOfScope:
        return _not_found(site=False)
    return Outcome(201, photo_body(photo), replay=not created)

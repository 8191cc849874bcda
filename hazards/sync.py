"""Receiving records from tablets that may have been offline for hours.

Records carry the UUIDs the tablet gave them. The same record sent again gets the same
answer and creates nothing; a different record under a stored UUID gets 409 and the
stored one is left alone. Each record is all-or-nothing on its own."""

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

# A tablet whose clock differs from the server's by more than this is not trusted for ordering.
DEVICE_CLOCK_TOLERANCE = dt.timedelta(minutes=10)


@dataclass
class Outcome:
    status: int
    body: dict
    replay: bool = False


def fingerprint(record: dict) -> str:
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def device_clock_off(device_time: str | None) -> bool:
    """True when the tablet states its clock and it is far from the server's."""
    if not device_time:
        return False
    stated = parse_datetime(device_time)
    if stated is None or timezone.is_naive(stated):
        return True
    return abs(stated - timezone.now()) > DEVICE_CLOCK_TOLERANCE


def _conflict(kind: str, record_id) -> Outcome:
    return Outcome(
        409,
        {
            "code": "id_conflict",
            "id": str(record_id),
            "detail": _("A different %(kind)s with this id is already stored; it was left unchanged.") % {"kind": kind},
        },
    )


def _invalid(errors) -> Outcome:
    if isinstance(errors, ValidationError):
        errors = errors.message_dict if hasattr(errors, "error_dict") else {"non_field_errors": errors.messages}
    return Outcome(400, {"code": "invalid", "detail": _("The record was refused."), "errors": errors})


def _gone(what: str) -> Outcome:
    return Outcome(
        410, {"code": "deleted", "detail": _("This %(what)s was deleted; it cannot be sent again.") % {"what": what}}
    )


def _not_found(what: str) -> Outcome:
    return Outcome(404, {"code": "not_found", "detail": _("No %(what)s with this id in your areas.") % {"what": what}})


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


def receive_site(*, actor, record: dict, clock_off: bool = False) -> Outcome:
    parsed = SiteIn(data=record)
    if not parsed.is_valid():
        return _invalid(parsed.errors)
    data = parsed.validated_data
    stamp = fingerprint(record)
    nested = data.get("inspection")
    existing = Site.all_objects.select_related("area").filter(pk=data["id"]).first()
    if existing is not None:
        if not scope_for(actor).allows(SURVEY, existing.area):
            return _not_found(_("site"))
        if existing.deleted_at:
            return _gone(_("site"))
        if existing.client_fingerprint == stamp:
            return Outcome(201, site_body(existing, nested and nested["id"]), replay=True)
        return _conflict(_("site"), data["id"])
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
                client_fingerprint=stamp,
            )
            if nested:
                services.inspection_record(
                    actor=actor, site=site, device_clock_off=clock_off, **_inspection_args(nested)
                )
    except ValidationError as exc:
        return _invalid(exc)
    except IntegrityError:
        return _conflict(_("inspection"), nested["id"] if nested else data["id"])
    return Outcome(201, site_body(site, nested and nested["id"]))


def receive_inspection(*, actor, record: dict, clock_off: bool = False) -> Outcome:
    parsed = InspectionIn(data=record)
    if not parsed.is_valid():
        return _invalid(parsed.errors)
    data = parsed.validated_data
    if "site" not in data:
        return _invalid({"site": [_("Name the site that was inspected.")]})
    stamp = fingerprint(record)
    existing = Inspection.all_objects.select_related("site__area").filter(pk=data["id"]).first()
    if existing is not None:
        if not scope_for(actor).allows(SURVEY, existing.site.area):
            return _not_found(_("inspection"))
        if existing.deleted_at or existing.site.deleted_at:
            return _gone(_("inspection"))
        if existing.client_fingerprint == stamp:
            return Outcome(201, inspection_body(existing), replay=True)
        return _conflict(_("inspection"), data["id"])
    site = scope_for(actor).restrict(Site.all_objects.all(), SURVEY).filter(pk=data["site"]).first()
    if site is None:
        return _not_found(_("site"))
    if site.deleted_at:
        return _gone(_("site"))
    try:
        with transaction.atomic():
            inspection = services.inspection_record(
                actor=actor, site=site, device_clock_off=clock_off, client_fingerprint=stamp, **_inspection_args(data)
            )
    except ValidationError as exc:
        return _invalid(exc)
    except IntegrityError:
        return _conflict(_("inspection"), data["id"])
    return Outcome(201, inspection_body(inspection))


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
        return _not_found(_("inspection"))
    stored = Photo.objects.filter(pk=photo_id).first()
    if stored is not None:
        if stored.inspection_id == inspection.pk and stored.sha256 == content_hash(data):
            return Outcome(201, photo_body(stored), replay=True)
        return _conflict(_("photo"), photo_id)
    try:
        photo, created = services.photo_attach(actor=actor, inspection=inspection, data=data, photo_id=photo_id)
    except ValidationError as exc:
        status = 413 if exc.code == "too_large" else 400
        return Outcome(status, {"code": exc.code or "invalid", "detail": " ".join(exc.messages)})
    except OutOfScope:
        return _not_found(_("inspection"))
    return Outcome(201, photo_body(photo), replay=not created)

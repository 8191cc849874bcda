"""Shapes of what tablets send and receive. Types only: the rules live in the services.
Each field's errors name the field and say what to send instead, in the worker's
language: they reach the tablet as the reason a record was refused."""

import math

from django.contrib.gis.geos import Point
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from common.numbers import format_number_lazy

from .models import Inspection, Site

MISSING = _("{field}: missing. Fill it in and send again.")
# What each kind of field says when the value is not of its type.
NOT_OF_TYPE = {
    "text": _("{field} must be text."),
    "number": _("{field} must be a number."),
    "yes_no": _("{field} must be yes or no (true or false)."),
    "moment": _("{field} must be a date and time with its time zone, e.g. 2026-05-01T08:30:00+07:00."),
    "date": _("{field} must be a date, e.g. 2026-05-01."),
    "id": _("{field} is not a valid id (a UUID). The app makes it: update the app, then send again."),
    "record": _("{field} must be a record (a JSON object)."),
}
# The error codes of DRF's fields that mean "not of this type".
TYPE_CODES = ["invalid", "date", "datetime", "make_aware", "overflow", "max_string_length", "not_a_dict"]


def _label(model, name: str):
    return capfirst(model._meta.get_field(name).verbose_name)


def said(label, kind: str, max_length: int | None = None) -> dict:
    """DRF error messages for a field called `label` of kind `kind` (NOT_OF_TYPE's keys)."""
    missing = format_lazy(MISSING, field=label)
    messages = {"required": missing, "null": missing, "blank": missing}
    messages.update(dict.fromkeys(TYPE_CODES, format_lazy(NOT_OF_TYPE[kind], field=label)))
    # DRF's CharField refuses these characters (PostgreSQL cannot store a NUL in text).
    messages["null_characters_not_allowed"] = format_lazy(
        _("{field} contains the character NUL (code 0): remove it, then send again."), field=label
    )
    messages["surrogate_characters_not_allowed"] = format_lazy(
        _("{field} contains a character that is not valid Unicode: retype it, then send again."), field=label
    )
    if max_length:
        messages["max_length"] = format_lazy(
            _("{field} is too long: at most {limit} characters."), field=label, limit=format_number_lazy(max_length)
        )
    return messages


def bounded_text(max_length: int, **options):
    """DRF's CharField with its own refusal of a longer text, but the limit written as the
    reader writes a count (DRF writes "4000")."""
    too_long = format_lazy(
        _("Ensure this field has no more than {max_length} characters."), max_length=format_number_lazy(max_length)
    )
    return serializers.CharField(max_length=max_length, error_messages={"max_length": too_long}, **options)


def text(model, name: str, max_length: int, kind: str = "text", **options):
    """Free text, or a number as text or number (kind="number") that the services read."""
    label = _label(model, name)
    return serializers.CharField(max_length=max_length, error_messages=said(label, kind, max_length), **options)


def yes_no(model, name: str, **options):
    return serializers.BooleanField(error_messages=said(_label(model, name), "yes_no"), **options)


class TextUUIDField(serializers.UUIDField):
    """A UUID written as text: DRF's field would also take an integer (5 as
    00000000-0000-0000-0000-000000000005), which no tablet sends."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def record_id(label=None, **options):
    return TextUUIDField(error_messages=said(label or _("The record's id"), "id"), **options)


class GeoJSONPoint(serializers.Field):
    """A GeoJSON Point: {"type": "Point", "coordinates": [longitude, latitude]} in WGS 84,
    two finite numbers. Read here, not by GDAL, so that every malformed value gets a
    reason; the range and country checks are the services'."""

    def __init__(self, *, label, **options):
        missing = format_lazy(MISSING, field=label)
        super().__init__(error_messages={"required": missing, "null": missing}, **options)
        self.field_label = label

    def refuse(self, reason):
        raise serializers.ValidationError(
            format_lazy(_("{field} is not valid: {reason}"), field=self.field_label, reason=reason)
        )

    def to_internal_value(self, data):
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            self.refuse(_('it must be a GeoJSON point: type "Point" with coordinates [longitude, latitude].'))
        if data["type"] != "Point":
            self.refuse(_("it must be a point, not a %(type)s.") % {"type": data["type"][:40]})
        coordinates = data.get("coordinates")
        if not isinstance(coordinates, list) or len(coordinates) != 2:
            self.refuse(_("its coordinates must be two numbers: longitude, then latitude (no height)."))
        for axis, value in zip((_("the longitude"), _("the latitude")), coordinates, strict=True):
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                self.refuse(_("%(axis)s is not a number.") % {"axis": axis})
        # An integer too large for a float is as far out of range as infinity.
        longitude, latitude = (float(v) if abs(v) < 1e300 else math.copysign(math.inf, v) for v in coordinates)
        return Point(longitude, latitude, srid=4326)

    def to_representation(self, value):
        return {"type": "Point", "coordinates": list(value.coords)}


class GeoJSONPointSchema(OpenApiSerializerFieldExtension):
    target_class = GeoJSONPoint

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["Point"]},
                "coordinates": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
            },
            "required": ["type", "coordinates"],
        }


class InspectionIn(serializers.Serializer):
    id = record_id()
    site = record_id(_label(Inspection, "site"), required=False)
    inspected_at = serializers.DateTimeField(error_messages=said(_label(Inspection, "inspected_at"), "moment"))
    signage = text(Inspection, "signage", 20)
    barrier = text(Inspection, "barrier", 20)
    water_present = yes_no(Inspection, "water_present", default=True)
    water_depth_m = text(Inspection, "water_depth_m", 20, "number", required=False, allow_null=True, allow_blank=True)
    notes = text(Inspection, "notes", 4000, required=False, allow_blank=True, default="")
    gps_fix = GeoJSONPoint(label=_label(Inspection, "gps_fix"), required=False, allow_null=True)
    gps_accuracy_m = serializers.FloatField(
        required=False, allow_null=True, error_messages=said(_label(Inspection, "gps_accuracy_m"), "number")
    )


class SiteIn(serializers.Serializer):
    id = record_id()
    kind = text(Site, "kind", 30)
    name = text(Site, "name", 200, allow_blank=True)
    location = GeoJSONPoint(label=_label(Site, "location"))
    deep_water = yes_no(Site, "deep_water", default=True)
    depth_m = text(Site, "depth_m", 20, "number", required=False, allow_null=True, allow_blank=True)
    responsible_party = text(Site, "responsible_party", 200, required=False, allow_blank=True, default="")
    notes = text(Site, "notes", 4000, required=False, allow_blank=True, default="")
    is_temporary = yes_no(Site, "is_temporary", default=False)
    expected_end = serializers.DateField(
        required=False, allow_null=True, error_messages=said(_label(Site, "expected_end"), "date")
    )
    inspection = InspectionIn(required=False, error_messages=said(capfirst(Inspection._meta.verbose_name), "record"))


class ClosureProposalIn(serializers.Serializer):
    id = serializers.UUIDField()
    site = serializers.UUIDField()
    reason = bounded_text(30)
    observed_at = serializers.DateTimeField(help_text="when the worker saw the site (device time)")
    note = bounded_text(4000, required=False, allow_blank=True, default="")


class BatchIn(serializers.Serializer):
    """The documented shape of a batch. It is read record by record (hazards/sync.py),
    so that a bad record is refused on its own."""

    sites = SiteIn(many=True, required=False, max_length=1000)
    inspections = InspectionIn(many=True, required=False, max_length=1000)


class OutcomeOut(serializers.Serializer):
    id = serializers.CharField(allow_null=True, help_text="the record's id as sent; null when it sent none")
    type = serializers.ChoiceField(choices=["site", "inspection"])
    index = serializers.IntegerField(help_text="the record's position in its list")
    status = serializers.IntegerField(help_text="the HTTP status the record would get on its own")
    replay = serializers.BooleanField(help_text="true when the record was already stored (sent before)")
    body = serializers.DictField()

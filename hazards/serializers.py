"""Shapes of what tablets send and receive. Types only: the rules live in the services."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField


class GeoJSONPoint(GeometryField):
    """A GeoJSON Point: [longitude, latitude] in WGS 84."""


class GeoJSONPointSchema(OpenApiSerializerFieldExtension):
    target_class = GeoJSONPoint
    priority = 1  # ahead of drf-spectacular's own GeometryField mapping, which needs a model

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
    id = serializers.UUIDField()
    site = serializers.UUIDField(required=False)
    inspected_at = serializers.DateTimeField()
    signage = serializers.CharField(max_length=20)
    barrier = serializers.CharField(max_length=20)
    water_present = serializers.BooleanField(default=True)
    water_depth_m = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=20)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    gps_fix = GeoJSONPoint(required=False, allow_null=True)
    gps_accuracy_m = serializers.FloatField(required=False, allow_null=True)


class SiteIn(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField(max_length=30)
    name = serializers.CharField(max_length=200, allow_blank=True)
    location = GeoJSONPoint()
    deep_water = serializers.BooleanField(default=True)
    depth_m = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=20)
    responsible_party = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    is_temporary = serializers.BooleanField(default=False)
    expected_end = serializers.DateField(required=False, allow_null=True)
    inspection = InspectionIn(required=False)


class BatchIn(serializers.Serializer):
    sites = serializers.ListField(child=serializers.DictField(), required=False, default=list, max_length=1000)
    inspections = serializers.ListField(child=serializers.DictField(), required=False, default=list, max_length=1000)


class OutcomeOut(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.ChoiceField(choices=["site", "inspection"])
    status = serializers.IntegerField(help_text="the HTTP status the record would get on its own")
    body = serializers.DictField()

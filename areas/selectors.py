"""Reads of the area tree shared by the pages that draw areas on a map, and an area path
as a person reads it."""

import json

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db.models import Func, QuerySet, Value

from .models import Area


class SimplifiedGeom(Func):
    function = "ST_SimplifyPreserveTopology"
    output_field = GeometryField(srid=4326)


def areas_geojson(areas: QuerySet, tolerance_deg: float = 0.0001, properties=None) -> dict:
    """A FeatureCollection of the areas, simplified in PostGIS (0.0001° is about 10 m).
    `properties(area)` adds to each feature's code, name, level and depth."""
    features = []
    for area in areas.annotate(shape=AsGeoJSON(SimplifiedGeom("geom", Value(tolerance_deg)), precision=5)).only(
        "code", "name", "level", "depth"
    ):
        props = {"code": area.code, "name": area.name, "level": area.level, "depth": area.depth}
        if properties:
            props.update(properties(area))
        features.append({"type": "Feature", "geometry": json.loads(area.shape), "properties": props})
    return {"type": "FeatureCollection", "features": features}


def path_trail(path: str) -> str:
    """The areas a path ("/99/991/") names, from the top, as a person reads them: "Tỉnh
    Sông Xanh (99) › Huyện Đồi Thông (991)"; "" for an empty path."""
    codes = [code for code in path.split("/") if code]
    return " › ".join(str(area) for area in Area.objects.filter(code__in=codes).order_by("depth"))

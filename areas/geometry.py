"""Checks for geometry arriving at the edge (files, forms, tablets). They refuse; they
never repair in a way that changes what the geometry is."""

import json

from django.conf import settings
from django.contrib.gis.geos import GEOSException, GEOSGeometry, LinearRing, MultiPolygon, Point, Polygon
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from common.numbers import format_number

from . import geojson_reader

WGS84 = 4326
# A site outline larger than this is a mistake (a whole commune drawn), not a pond.
MAX_OUTLINE_AREA_DEG2 = 0.01
MAX_OUTLINE_VERTICES = 5000


def _check_common(geom: GEOSGeometry) -> None:
    if geom.srid not in (None, WGS84):
        raise ValidationError(
            _("Coordinates must be longitude/latitude in WGS 84 (EPSG:4326), not EPSG:%(srid)s.") % {"srid": geom.srid}
        )
    if geom.hasz:
        raise ValidationError(_("Coordinates must be 2D (longitude, latitude) without height."))
    if geom.empty:
        raise ValidationError(_("The geometry is empty."))
    check_extent(*geom.extent)


def check_extent(lon_min: float, lat_min: float, lon_max: float, lat_max: float) -> None:
    """Coordinates inside the country, else why not: swapped, out of range, elsewhere.
    Takes numbers so a million imported rows need no geometry objects."""
    b_lon_min, b_lat_min, b_lon_max, b_lat_max = settings.COUNTRY_BOUNDS
    if lon_min >= b_lon_min and lon_max <= b_lon_max and lat_min >= b_lat_min and lat_max <= b_lat_max:
        return
    if lon_min >= b_lat_min and lon_max <= b_lat_max and lat_min >= b_lon_min and lat_max <= b_lon_max:
        raise ValidationError(
            _("The coordinates look swapped: give longitude first, then latitude (e.g. 105.8, 21.0).")
        )
    if lon_min < -180 or lon_max > 180 or lat_min < -90 or lat_max > 90:
        raise ValidationError(_("Coordinates are out of range: longitude must be within ±180 and latitude within ±90."))
    raise ValidationError(
        _("The location (%(lon).5f, %(lat).5f) is outside the country.") % {"lon": lon_min, "lat": lat_min}
    )


def not_a_point(geometry_type: str) -> ValidationError:
    return ValidationError(_("A location must be a point, not a %(type)s.") % {"type": geometry_type})


def clean_point(geom: GEOSGeometry) -> Point:
    if not isinstance(geom, Point):
        raise not_a_point(geom.geom_type)
    _check_common(geom)
    geom.srid = WGS84
    return geom


def clean_outline(geom: GEOSGeometry) -> Polygon:
    if not isinstance(geom, Polygon):
        raise ValidationError(_("An outline must be a polygon, not a %(type)s.") % {"type": geom.geom_type})
    _check_common(geom)
    if not geom.valid:
        raise ValidationError(_("The outline is not a valid polygon: %(reason)s.") % {"reason": geom.valid_reason})
    if geom.num_points > MAX_OUTLINE_VERTICES:
        raise ValidationError(
            _("The outline has too many vertices (more than %(n)s).") % {"n": format_number(MAX_OUTLINE_VERTICES)}
        )
    if geom.area > MAX_OUTLINE_AREA_DEG2:
        raise ValidationError(_("The outline is too large for one site (over about 100 km²)."))
    geom.srid = WGS84
    return geom


def _not_readable() -> ValidationError:
    return ValidationError(_("the polygon's coordinates are not valid"))


def _polygon(rings) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise _not_readable()
    return Polygon(*(LinearRing(ring) for ring in rings))


def _from_geojson(text: str) -> GEOSGeometry:
    try:
        geometry = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the decoder goes
        raise _not_readable() from None
    if not isinstance(geometry, dict):
        raise _not_readable()
    try:
        geojson_reader.check_crs(geometry)
    except geojson_reader.ForeignCRS as exc:
        raise ValidationError(
            _("the polygon declares the coordinate system %(crs)s: only WGS 84 longitude/latitude is read, "
              "and a link is never followed") % {"crs": exc.crs}
        ) from None  # fmt: skip
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        return _polygon(coordinates)
    if kind == "MultiPolygon" and isinstance(coordinates, list) and coordinates:
        return MultiPolygon(*(_polygon(rings) for rings in coordinates))
    raise ValidationError(_("An outline must be a polygon, not a %(type)s.") % {"type": str(kind)[:40]})


def geometry_from_text(text: str) -> GEOSGeometry:
    """A geometry a file writes as text: WKT (EWKT, hex WKB) or a GeoJSON geometry, in WGS 84.
    Read by GEOS alone: Django hands GeoJSON to GDAL, which would resolve a crs member
    (a link is a network request; Django refuses it with SuspiciousOperation, which no
    caller expects), so the JSON is read here and its crs held to the GeoJSON reader's
    rule. Anything else GEOS cannot take is a ValidationError a row can report."""
    try:
        geometry = _from_geojson(text) if text.lstrip().startswith("{") else GEOSGeometry(text)
    except (GEOSException, ValueError, TypeError, IndexError):
        raise _not_readable() from None
    if geometry.srid is None:
        geometry.srid = WGS84
    return geometry


def clean_boundary(geom: GEOSGeometry) -> MultiPolygon:
    """An area boundary: a valid (Multi)Polygon; a Polygon is wrapped as a one-part MultiPolygon."""
    if isinstance(geom, Polygon):
        geom = MultiPolygon(geom, srid=geom.srid)
    if not isinstance(geom, MultiPolygon):
        raise ValidationError(
            _("A boundary must be a polygon or multipolygon, not a %(type)s.") % {"type": geom.geom_type}
        )
    _check_common(geom)
    if not geom.valid:
        raise ValidationError(_("The boundary is not a valid polygon: %(reason)s.") % {"reason": geom.valid_reason})
    geom.srid = WGS84
    return geom


def parse_bbox(text: str) -> Polygon:
    """A bbox query parameter: min longitude, min latitude, max longitude, max latitude.
    Refused under its name, as every parameter is."""
    try:
        numbers = [float(v) for v in text.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) != 4:
        raise ValidationError(
            {"bbox": _("bbox must be four numbers: min longitude, min latitude, max longitude, max latitude.")}
        )
    west, south, east, north = numbers
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ValidationError({"bbox": _("bbox is out of range or its corners are swapped.")})
    box = Polygon.from_bbox(numbers)
    box.srid = WGS84
    return box

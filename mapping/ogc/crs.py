"""The coordinate reference systems /ogc/ offers (OGC API - Features Part 2): geometries
are stored in WGS 84 longitude/latitude (CRS84); EPSG:4326 is the same datum with
latitude first, as that CRS defines its axes; EPSG:3857 is the web map's projection.
Only these are ever handed to PostGIS or GDAL: a client's own CRS text never is."""

from dataclasses import dataclass

from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.contrib.gis.geos import Polygon
from django.core.exceptions import ValidationError
from django.db.models import Func
from django.utils.translation import gettext as _

from areas.geometry import parse_bbox

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"


@dataclass(frozen=True)
class Crs:
    uri: str
    srid: int
    latitude_first: bool
    precision: int  # decimals written: 7 for degrees (about 1 cm), 2 for metres

    def geojson(self, field: str) -> AsGeoJSON:
        """The field's geometry as GeoJSON text in this CRS, built by PostGIS."""
        geometry = field if self.srid == 4326 else Transform(field, self.srid)
        if self.latitude_first:
            geometry = Func(geometry, function="ST_FlipCoordinates")
        return AsGeoJSON(geometry, precision=self.precision)

    def bbox(self, text: str) -> Polygon:
        """A bbox parameter in this CRS's axis order, as a WGS 84 polygon to filter by."""
        numbers = text.split(",")
        if self.latitude_first and len(numbers) == 4:
            south, west, north, east = numbers
            numbers = [west, south, east, north]
        if self.srid == 4326:
            return parse_bbox(",".join(numbers))
        try:
            west, south, east, north = (float(n) for n in numbers)
        except ValueError:
            raise ValidationError({"bbox": _("bbox must be four numbers in the order of bbox-crs.")}) from None
        half = 20037508.342789244  # half the width of the web mercator plane, in metres
        if not -half <= west <= east <= half or not -half <= south <= north <= half:
            raise ValidationError({"bbox": _("bbox is out of range or its corners are swapped.")})
        box = Polygon.from_bbox((west, south, east, north))
        box.srid = self.srid
        return box.transform(4326, clone=True)


OFFERED = {
    crs.uri: crs for crs in (Crs(CRS84, 4326, False, 7), Crs(EPSG4326, 4326, True, 7), Crs(EPSG3857, 3857, False, 2))
}
# Short names people type, for the same CRS.
ALIASES = {"CRS84": CRS84, "OGC:CRS84": CRS84, "EPSG:4326": EPSG4326, "EPSG:3857": EPSG3857}


def chosen(value: str | None, parameter: str) -> Crs:
    """The CRS a `crs` or `bbox-crs` parameter names (CRS84 when absent)."""
    if not value:
        return OFFERED[CRS84]
    named = value.strip().removeprefix("[").removesuffix("]")  # a safe CURIE: [EPSG:4326]
    uri = ALIASES.get(named.upper(), named)
    if uri not in OFFERED:
        message = _("%(parameter)s must be one of: %(offered)s.")
        raise ValidationError({parameter: message % {"parameter": parameter, "offered": ", ".join(OFFERED)}})
    return OFFERED[uri]

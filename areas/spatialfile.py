"""Opening a GeoJSON, Shapefile or GeoPackage file given by an administrator (boundaries,
schools): one layer, in WGS 84, with features. Problems are reported one line each."""

from pathlib import Path

from django.contrib.gis.gdal import DataSource, GDALException
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .geometry import WGS84

MAX_REPORTED_ERRORS = 50
# GDAL labels a GeoJSON with heights as WGS 84 3D (4979); its heights are refused per feature.
WGS84_CODES = {WGS84, 4979}


class SpatialFileError(Exception):
    """The file cannot be loaded; `problems` lists each bad feature, one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def fail(message: str, **params) -> SpatialFileError:
    return SpatialFileError([message % params])


def open_layer(path: Path, layer: str | None):
    where = path.name
    try:
        source = DataSource(str(path))
    except GDALException:
        raise fail(_("%(file)s: not a readable GeoJSON, Shapefile or GeoPackage file."), file=where) from None
    if layer is None and len(source) > 1:
        names = ", ".join(lyr.name for lyr in source)
        raise fail(_("%(file)s has several layers (%(names)s): choose one with --layer."), file=where, names=names)
    try:
        lyr = source[layer] if layer else source[0]
    except (IndexError, GDALException):
        raise fail(_("%(file)s has no layer named %(layer)s."), file=where, layer=layer) from None
    if len(lyr) == 0:
        raise fail(_("%(file)s has no features."), file=where)
    if lyr.srs is not None and lyr.srs.srid not in WGS84_CODES:
        raise fail(
            _("%(file)s is in %(crs)s, not WGS 84 (EPSG:4326). Reproject: ogr2ogr -t_srs EPSG:4326 out.gpkg %(file)s"),
            file=where,
            crs=lyr.srs.name,
        )
    return lyr


def geometry_of(feature):
    try:
        geom = feature.geom.geos
    except GDALException:
        raise ValidationError(_("it has no geometry")) from None
    geom.srid = WGS84  # open_layer checked the layer's SRS (WGS 84, 2D or 3D)
    return geom

"""Opening a GeoJSON, Shapefile or GeoPackage file (boundaries, schools, site lists):
one layer, in WGS 84, with features. Problems are reported one line each.

No file may make the server fetch anything. GDAL 3.6 cannot be told to stay off the
network (Django's gis.W001), and it fetches a GeoJSON crs given as a link, and the
sources of a VRT or a KML whatever the file is named. So GDAL opens a file only with
the one driver its suffix names, after its first bytes show that format; a GeoJSON file
is first read whole by areas/geojson_reader.py, which stops at any crs but WGS 84.
GeoPackage and Shapefile spatial references are parsed by GDAL as WKT only, never
fetched (tests/security/test_no_network.py proves each case against a listening socket)."""

import logging
import sqlite3
from contextlib import closing
from ctypes import c_char_p
from pathlib import Path

from django.contrib.gis.gdal import DataSource, GDALException
from django.contrib.gis.gdal.driver import Driver
from django.contrib.gis.gdal.prototypes import ds as capi
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from . import geojson_reader
from .geometry import WGS84

log = logging.getLogger(__name__)

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


GEOJSON_SUFFIXES = (".geojson", ".json")
# The GDAL driver each suffix may be read with, and how such a file starts.
DRIVERS = {
    ".geojson": ("GeoJSON", None),
    ".json": ("GeoJSON", None),
    ".gpkg": ("GPKG", b"SQLite format 3\x00"),
    ".shp": ("ESRI Shapefile", b"\x00\x00\x27\x0a"),
}


def unreadable(path: Path) -> SpatialFileError:
    return fail(_("%(file)s: not a readable GeoJSON, Shapefile or GeoPackage file."), file=path.name)


def check_geojson(path: Path) -> None:
    """Read a GeoJSON file whole with the registry's reader: it must be GeoJSON text and
    declare no crs but WGS 84."""
    try:
        for _feature in geojson_reader.features(path):
            pass
    except geojson_reader.ForeignCRS as exc:
        raise foreign_crs(path, exc.crs) from None
    except (geojson_reader.GeoJSONError, UnicodeDecodeError):
        raise unreadable(path) from None


def foreign_crs(path: Path, crs: str) -> SpatialFileError:
    return fail(
        _(
            "%(file)s declares the coordinate system %(crs)s, not WGS 84 (EPSG:4326): only WGS 84 "
            "longitude/latitude is read and links are never followed. "
            "Reproject: ogr2ogr -t_srs EPSG:4326 out.geojson %(file)s"
        ),
        file=path.name,
        crs=crs,
    )


def gdal_driver(path: Path) -> str:
    """The one GDAL driver that may read `path`, once its suffix and first bytes agree
    (and, for GeoJSON, once check_geojson has read it)."""
    driver, magic = DRIVERS.get(path.suffix.lower(), (None, None))
    if driver is None:
        raise unreadable(path)
    if magic is None:
        check_geojson(path)
    else:
        with open(path, "rb") as handle:
            if handle.read(len(magic)) != magic:
                raise unreadable(path)
    return driver


def check_tables_only(path: Path) -> None:
    """A GeoPackage holds tables of data only (and their rtree spatial indexes). A view,
    another virtual table or a column computed as it is read is a program that SQLite runs
    when GDAL reads the file or counts a layer: a view over an endless recursive query held
    a web thread for good (pentest P8); a column computed as 300 MB of text left GDAL out
    of memory, and under its limit it then wrote the row without the value or with it
    empty, as the address space fell. Only SQLite's catalogue is read here, which runs
    nothing."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)) as db:
            found = db.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
            # table_xinfo's "hidden" is 2 for a column computed when it is read (VIRTUAL).
            computed = db.execute(
                "SELECT m.name, c.name FROM sqlite_master AS m, pragma_table_xinfo(m.name) AS c "
                "WHERE m.type = 'table' AND c.hidden = 2"
            ).fetchall()
    except sqlite3.Error:
        raise unreadable(path) from None
    for kind, name, sql in found:
        text = " ".join((sql or "").split()).upper()
        if kind == "view" or (text.startswith("CREATE VIRTUAL TABLE") and " USING RTREE" not in text):
            raise fail(
                _("%(file)s holds “%(name)s”, a view or a virtual table, not a table of data: save its layers "
                  "as tables (in QGIS: Export → Save Features As) and import that."),
                file=path.name,
                name=name,
            )  # fmt: skip
    if computed:
        name, column = computed[0]
        raise fail(
            _("%(file)s holds “%(name)s”, whose column “%(column)s” is computed, not data: save its layers "
              "as tables (in QGIS: Export → Save Features As) and import that."),
            file=path.name,
            name=name,
            column=column,
        )  # fmt: skip


def open_source(path: Path) -> DataSource:
    """The file opened by GDAL with its one allowed driver."""
    driver = gdal_driver(path)
    if driver == "GPKG":
        check_tables_only(path)
    allowed = (c_char_p * 2)(driver.encode(), None)
    Driver.ensure_registered()
    try:
        pointer = capi.open_ds(str(path).encode(), capi.GDAL_OF_READONLY | capi.GDAL_OF_VECTOR, allowed, None, None)
        return DataSource(pointer, capi.get_dataset_driver(pointer))
    except GDALException:
        raise unreadable(path) from None


def open_layer(path: Path, layer: str | None, *, wgs84_only: bool = True):
    """The file's one layer (or `layer`); in WGS 84 unless `wgs84_only` is false (the
    caller then identifies its system with areas/crs.py)."""
    where = path.name
    source = open_source(path)
    if layer is None and len(source) > 1:
        names = ", ".join(lyr.name for lyr in source)
        raise fail(_("%(file)s has several layers (%(names)s): choose one with --layer."), file=where, names=names)
    try:
        lyr = source[layer] if layer else source[0]
    except (IndexError, GDALException):
        raise fail(_("%(file)s has no layer named %(layer)s."), file=where, layer=layer) from None
    if len(lyr) == 0:
        raise fail(_("%(file)s has no features."), file=where)
    if wgs84_only and lyr.srs is not None and lyr.srs.srid not in WGS84_CODES:
        raise fail(
            _("%(file)s is in %(crs)s, not WGS 84 (EPSG:4326). Reproject: ogr2ogr -t_srs EPSG:4326 out.gpkg %(file)s"),
            file=where,
            crs=lyr.srs.name,
        )
    return lyr


def unreadable_geometry(exc: Exception) -> str:
    """What a person is told of a feature whose geometry GDAL or GEOS cannot read (their
    own words, which name C functions and pointers, are logged)."""
    log.info("Geometry refused: %s", exc)
    return _(
        "its geometry cannot be read: check the layer's geometries in QGIS "
        "(Vector → Geometry Tools → Check Validity), save it again and load that"
    )


def geometry_of(feature):
    try:
        geom = feature.geom.geos
    except GDALException:
        raise ValidationError(_("it has no geometry")) from None
    geom.srid = WGS84  # open_layer checked the layer's SRS (WGS 84, 2D or 3D)
    return geom

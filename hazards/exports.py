"""Export of the sites in scope with their current state: GeoJSON and CSV streamed
straight from a server-side cursor, XLSX written row by row, and GeoPackage, Shapefile
and KML converted by GDAL from our own GeoJSON. Memory stays flat whatever the count."""

import csv
import io
import os
import subprocess
import tempfile
import zipfile
from pathlib import Path

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, F, FloatField, Func, Q, TextField, Value
from django.db.models.functions import Cast, Round
from django.utils import timezone
from openpyxl import Workbook

from .rules import Due, SiteState


class X(Func):
    function = "ST_X"
    output_field = FloatField()


class Y(Func):
    function = "ST_Y"
    output_field = FloatField()


class JSONBuild(Func):
    """json_build_object: plain json, several times faster to build than jsonb (which
    Django's JSONObject makes) for a million features."""

    function = "json_build_object"
    output_field = TextField()

    def __init__(self, **fields):
        pairs = []
        for key, value in fields.items():
            pairs += [Value(key), F(value) if isinstance(value, str) else value]
        super().__init__(*pairs)


COLUMNS = [
    "id", "code", "name", "kind", "area_code", "area_name", "longitude", "latitude", "deep_water", "depth_m",
    "signage", "barrier", "state", "protected", "due", "last_checked_at", "is_temporary", "active_from", "closed_at",
    "close_reason", "responsible_party",
]  # fmt: skip
CHUNK = 5000
OGR2OGR = "/usr/bin/ogr2ogr"  # Debian's gdal-bin
OGR_FORMATS = {"gpkg": ("GPKG", "sites.gpkg"), "kml": ("KML", "sites.kml"), "shp": ("ESRI Shapefile", "sites.shp")}


def rows(queryset):
    """One dict per site, read in chunks through a server-side cursor."""
    now = timezone.now()
    values = queryset.annotate(longitude=X("location"), latitude=Y("location")).values(
        "id", "code", "name", "kind", "area__code", "area__name", "longitude", "latitude", "deep_water", "depth_m",
        "signage", "barrier", "state", "last_checked_at", "is_temporary", "active_from", "closed_at",
        "close_reason", "responsible_party", due=Due(now),
    )  # fmt: skip
    for site in values.iterator(chunk_size=CHUNK):
        yield {
            "id": str(site["id"]),
            "code": site["code"],
            "name": site["name"],
            "kind": site["kind"],
            "area_code": site["area__code"],
            "area_name": site["area__name"],
            "longitude": round(site["longitude"], 7),
            "latitude": round(site["latitude"], 7),
            "deep_water": site["deep_water"],
            "depth_m": float(site["depth_m"]) if site["depth_m"] is not None else None,
            "signage": site["signage"],
            "barrier": site["barrier"],
            "state": site["state"],
            "protected": site["state"] == SiteState.PROTECTED,
            "due": site["due"],
            "last_checked_at": site["last_checked_at"].isoformat() if site["last_checked_at"] else None,
            "is_temporary": site["is_temporary"],
            "active_from": site["active_from"].isoformat(),
            "closed_at": site["closed_at"].isoformat() if site["closed_at"] else None,
            "close_reason": site["close_reason"],
            "responsible_party": site["responsible_party"],
        }


def geojson_chunks(queryset):
    """Each feature is built by PostgreSQL (json_build_object) and arrives as text by COPY:
    Python only joins them, so the export runs near the speed of COPY itself."""
    feature = JSONBuild(
        type=Value("Feature"),
        id=Cast("id", TextField()),
        geometry=Func(AsGeoJSON("location", precision=7), template="%(expressions)s::json", output_field=TextField()),
        properties=JSONBuild(
            id=Cast("id", TextField()), code="code", name="name", kind="kind", area_code="area__code",
            area_name="area__name", longitude=Round(X("location"), 7), latitude=Round(Y("location"), 7),
            deep_water="deep_water", depth_m="depth_m", signage="signage", barrier="barrier", state="state",
            protected=ExpressionWrapper(Q(state=SiteState.PROTECTED), output_field=BooleanField()),
            due=Due(timezone.now()), last_checked_at="last_checked_at",
            is_temporary="is_temporary", active_from="active_from", closed_at="closed_at",
            close_reason="close_reason", responsible_party="responsible_party",
        ),
    )  # fmt: skip
    texts = queryset.annotate(feature_text=Cast(feature, TextField())).values_list("feature_text", flat=True)
    yield b'{"type": "FeatureCollection", "features": [\n'
    yield from _joined(_copied(texts))
    yield b"\n]}\n"


# CSV with a quote and a delimiter that JSON text never holds (json_build_object escapes
# control characters): each line is a feature exactly as PostgreSQL built it.
COPY_LINES = "COPY ({query}) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
SPOOL_BLOCK = 1024 * 1024


def _copied(texts):
    """The feature lines, written by COPY into a temporary file (on disk, so memory stays
    flat) and read back in blocks. COPY moves text several times faster than fetching
    a million rows through a cursor."""
    try:
        sql, params = texts.query.sql_with_params()
    except EmptyResultSet:  # nothing in scope
        return
    with tempfile.TemporaryFile() as spool, connection.cursor() as cursor:
        # psycopg's COPY binds the parameters on the client: COPY itself takes none.
        with cursor.cursor.copy(COPY_LINES.format(query=sql), params) as copy:
            spool.writelines(copy)
        spool.seek(0)
        while block := spool.read(SPOOL_BLOCK):
            yield block


def _joined(blocks):
    """Feature lines joined with commas: every newline but the last becomes ",\n"."""
    previous = None
    for block in blocks:
        if previous is not None:
            yield previous.replace(b"\n", b",\n")
        previous = block
    if previous:
        yield previous.rstrip(b"\n").replace(b"\n", b",\n")


def csv_stream(dict_rows, columns: list[str]):
    """CSV in chunks of CHUNK rows, from any iterable of dicts."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    out.write("\ufeff")  # Excel reads Vietnamese names correctly with a byte-order mark
    writer.writeheader()
    for count, row in enumerate(dict_rows, start=1):
        writer.writerow(row)
        if count % CHUNK == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()


def csv_chunks(queryset):
    return csv_stream(rows(queryset), COLUMNS)


def _unlinked(path: Path):
    """An open handle on a file that is already deleted: gone once the response is sent."""
    handle = open(path, "rb")  # noqa: SIM115 - the response closes it
    os.unlink(path)
    return handle


def xlsx_file(queryset):
    book = Workbook(write_only=True)
    sheet = book.create_sheet("sites")
    sheet.append(COLUMNS)
    for row in rows(queryset):
        sheet.append([row[c] for c in COLUMNS])
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    book.save(path)
    return _unlinked(Path(path))


def ogr_file(queryset, fmt: str):
    """Convert our own GeoJSON with GDAL (never a file from outside)."""
    driver, name = OGR_FORMATS[fmt]
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        source = work / "sites.geojson"
        with open(source, "wb") as handle:
            for chunk in geojson_chunks(queryset):
                handle.write(chunk)
        target = work / name
        options = ["-lco", "ENCODING=UTF-8"] if fmt == "shp" else []
        command = [OGR2OGR, "-f", driver, *options, "-nln", "sites", target, source]
        subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - our own files, fixed arguments
        if fmt == "shp":
            archive = work / "sites.zip"
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
                for part in sorted(work.glob("sites.*")):
                    if part.suffix not in (".geojson", ".zip"):
                        zipped.write(part, part.name)
            target = archive
        final = Path(tempfile.mkstemp(suffix=target.suffix)[1])
        os.replace(target, final)
    return _unlinked(final)

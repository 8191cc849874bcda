"""Export of the sites in scope with their current state: GeoJSON and CSV streamed
straight from a server-side cursor, XLSX written row by row, and GeoPackage, Shapefile
and KML converted by GDAL from our own GeoJSON. Memory stays flat whatever the count."""

import csv
import datetime as dt
import io
import json
import os
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, FloatField, Func, Q, TextField, Value
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from common.spreadsheets import csv_value, xlsx_cell

from .models import Barrier, CloseReason, Signage, SiteKind
from .rules import Due, SiteState, time_zone_offset


class X(Func):
    function = "ST_X"
    output_field = FloatField()


class Y(Func):
    function = "ST_Y"
    output_field = FloatField()


class Degrees7(Func):
    """A coordinate rounded to 7 decimals (about 1 cm) in double precision: the division
    gives the double nearest that decimal, which JSON prints as the decimal. Rounding
    through numeric, as Round does, is slower (bench/NOTES.md)."""

    template = "round(%(expressions)s * 1e7) / 1e7"
    output_field = FloatField()


class AsText7(Func):
    """A geometry as WKT with 7 decimals (about 1 cm), as the coordinates are written."""

    template = "ST_AsText(%(expressions)s, 7)"
    output_field = TextField()


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


@dataclass(frozen=True)
class Field:
    """One field of every export: its name, its name in a Shapefile (at most 10
    characters, unique), its type and what it holds, for the field map sent with the
    XLSX and the Shapefile (people open them without reading our API). A field not
    `in_layer` is left out of the GIS layers' attributes (the outline is a layer there)."""

    name: str
    shapefile: str
    type: str
    meaning: str
    in_layer: bool = True


def values_of(choices):
    """The values a field of these choices holds, each with its label in the reader's
    language ("pond (Pond), lake (Lake or reservoir), …"), as its description in the field
    map lists them: taken from the model's choices, so a value added there is listed here."""
    pairs = [part for pair in choices.choices for part in pair]
    return format_lazy(", ".join(["{} ({})"] * len(choices.choices)), *pairs)


# Times are in the registry's time zone (settings.TIME_ZONE), with its offset; days are its days.
FIELDS = [
    Field("id", "id", "text (UUID)", gettext_lazy("The site's identifier, the same in every export and the API")),
    Field("code", "code", "text", gettext_lazy("The site's readable code (HZ-…)")),
    Field("name", "name", "text", gettext_lazy("Name")),
    Field("kind", "kind", "text", format_lazy(gettext_lazy("Kind: {values}"), values=values_of(SiteKind))),
    Field("area_code", "area_code", "text",
          gettext_lazy("Official code of the lowest area holding it (leading zeros kept)")),
    Field("area_name", "area_name", "text", gettext_lazy("Name of that area")),
    Field("longitude", "longitude", "number", gettext_lazy("Longitude, WGS 84 (EPSG:4326), 7 decimals")),
    Field("latitude", "latitude", "number", gettext_lazy("Latitude, WGS 84 (EPSG:4326), 7 decimals")),
    Field("deep_water", "deep_water", "true/false", gettext_lazy("Deep water: counts toward the target while active")),
    Field("depth_m", "depth_m", "number", gettext_lazy("Depth in metres, where measured")),
    Field("signage", "signage", "text",
          format_lazy(gettext_lazy("Sign at the latest inspection: {values}"), values=values_of(Signage))),
    Field("barrier", "barrier", "text",
          format_lazy(gettext_lazy("Barrier at the latest inspection: {values}"), values=values_of(Barrier))),
    Field("state", "state", "text", format_lazy(gettext_lazy("State: {values}"), values=values_of(SiteState))),
    Field("protected", "protected", "true/false", gettext_lazy("Sign in place and barrier complete")),
    Field("due", "due", "true/false", gettext_lazy("Due for inspection: not checked within the set interval")),
    Field("last_checked_at", "checked_at", "date and time",
          format_lazy(gettext_lazy("Latest inspection, in the registry's time ({offset})"), offset=time_zone_offset())),
    Field("is_temporary", "temporary", "true/false", gettext_lazy("Temporary site (works, a pit): checked more often")),
    Field("active_from", "active_fr", "date", gettext_lazy("Day from which the site counts")),
    Field("closed_at", "closed_on", "date", gettext_lazy("Day the site was closed, if it was")),
    Field("close_reason", "close_why", "text",
          format_lazy(gettext_lazy("Why it was closed: {values}"), values=values_of(CloseReason))),
    Field("responsible_party", "resp_party", "text", gettext_lazy("Who is responsible for the site")),
    Field("outline", "outlines", "polygon",
          gettext_lazy("The site's outline, where drawn, WGS 84, 7 decimals: WKT in CSV and XLSX, a GeoJSON geometry "
                       "in GeoJSON; the layer “outlines” (joined on id) in GeoPackage and Shapefile"),
          in_layer=False),
]  # fmt: skip
COLUMNS = [f.name for f in FIELDS]
LAYER_FIELDS = [f for f in FIELDS if f.in_layer]
# Excel keeps at most this many characters in a cell: a longer outline is left out of the
# XLSX (the field map says where it is).
XLSX_CELL_CHARACTERS = 32_767
CHUNK = 5000
OGR2OGR = "/usr/bin/ogr2ogr"  # Debian's gdal-bin
OGR_FORMATS = {"gpkg": ("GPKG", "sites.gpkg"), "kml": ("KML", "sites.kml"), "shp": ("ESRI Shapefile", "sites.shp")}


def rows(queryset):
    """One dict per site with typed values (times in Vietnam time), read in chunks
    through a server-side cursor."""
    now = timezone.now()
    values = queryset.annotate(longitude=X("location"), latitude=Y("location")).values(
        "id", "code", "name", "kind", "area__code", "area__name", "longitude", "latitude", "deep_water", "depth_m",
        "signage", "barrier", "state", "last_checked_at", "is_temporary", "active_from", "closed_at",
        "close_reason", "responsible_party", due=Due(now), outline_wkt=AsText7("outline"),
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
            "last_checked_at": timezone.localtime(site["last_checked_at"]) if site["last_checked_at"] else None,
            "is_temporary": site["is_temporary"],
            "active_from": site["active_from"],
            "closed_at": site["closed_at"],
            "close_reason": site["close_reason"],
            "responsible_party": site["responsible_party"],
            "outline": site["outline_wkt"],
        }


def _feature_blocks(queryset):
    """Each feature is built by PostgreSQL (json_build_object) and arrives as text by COPY:
    Python only joins them, so the export runs near the speed of COPY itself."""
    feature = JSONBuild(
        type=Value("Feature"),
        id=Cast("id", TextField()),
        geometry=Func(AsGeoJSON("location", precision=7), template="%(expressions)s::json", output_field=TextField()),
        properties=JSONBuild(
            id=Cast("id", TextField()), code="code", name="name", kind="kind", area_code="area__code",
            area_name="area__name", longitude=Degrees7(X("location")), latitude=Degrees7(Y("location")),
            deep_water="deep_water", depth_m="depth_m", signage="signage", barrier="barrier", state="state",
            protected=ExpressionWrapper(Q(state=SiteState.PROTECTED), output_field=BooleanField()),
            due=Due(timezone.now()), last_checked_at="last_checked_at",
            is_temporary="is_temporary", active_from="active_from", closed_at="closed_at",
            close_reason="close_reason", responsible_party="responsible_party",
            outline=Func(AsGeoJSON("outline", precision=7), template="%(expressions)s::json", output_field=TextField()),
        ),
    )  # fmt: skip
    texts = queryset.annotate(feature_text=Cast(feature, TextField())).values_list("feature_text", flat=True)
    return _joined(_copied(texts))


def geojson_chunks(queryset):
    yield b'{"type": "FeatureCollection", "features": [\n'
    yield from _feature_blocks(queryset)
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
    db = texts.db  # the router's choice: a replica on export routes, where one is set up
    with tempfile.TemporaryFile() as spool, transaction.atomic(using=db), connections[db].cursor() as cursor:
        # Times written in the registry's time zone, the one its days (registry_local_date) follow.
        cursor.execute("SELECT set_config('TimeZone', registry_time_zone(), true)")
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
        writer.writerow({key: csv_value(value) for key, value in row.items()})
        if count % CHUNK == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()


def _as_text(row: dict) -> dict:
    """Times and days as ISO text (2026-03-01T09:00:00+07:00, 2026-03-01)."""
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()}


def csv_chunks(queryset):
    return csv_stream(map(_as_text, rows(queryset)), COLUMNS)


def _unlinked(path: Path):
    """An open handle on a file that is already deleted: gone once the response is sent."""
    handle = open(path, "rb")  # noqa: SIM115 - the response closes it
    os.unlink(path)
    return handle


# How Excel shows typed cells, day first as in Vietnam.
XLSX_FORMATS = {dt.datetime: "dd/mm/yyyy hh:mm", dt.date: "dd/mm/yyyy"}


def _xlsx_cell(sheet, value):
    """A typed cell: a number, a true/false, a day or a Vietnam time (Excel keeps no time
    zone: the field map says which), text as text."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).replace(tzinfo=None)
    cell = xlsx_cell(sheet, value)
    if type(value) in XLSX_FORMATS:
        cell.number_format = XLSX_FORMATS[type(value)]
    return cell


def _in_a_cell(row: dict) -> dict:
    outline = row["outline"]
    return {**row, "outline": None} if outline and len(outline) > XLSX_CELL_CHARACTERS else row


def xlsx_write(dict_rows, target: Path) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("sites")
    sheet.append(COLUMNS)
    for row in map(_in_a_cell, dict_rows):
        sheet.append([_xlsx_cell(sheet, row[c]) for c in COLUMNS])
    fields = book.create_sheet("fields")
    fields.append([_("field"), _("type"), _("meaning")])
    for f in FIELDS:
        fields.append([f.name, f.type, str(f.meaning)])
    book.save(target)


def xlsx_file(queryset):
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    xlsx_write(rows(queryset), Path(path))
    return _unlinked(Path(path))


# The first feature of the GeoJSON handed to GDAL, never exported: a value of each field's
# type, so that every field is there with its type, also when no site is exported or a
# field is empty in every site (GDAL types a GeoJSON field by its values).
TEMPLATE_ID = "template"
TEMPLATE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [105.0, 21.0]},
    "properties": {
        **dict.fromkeys(COLUMNS, ""),
        **dict.fromkeys(["longitude", "latitude", "depth_m"], 0.5),
        **dict.fromkeys(["deep_water", "protected", "due", "is_temporary"], True),
        **dict.fromkeys(["active_from", "closed_at"], "2000-01-01"),
        "id": TEMPLATE_ID,
        "last_checked_at": "2000-01-01T00:00:00+07:00",
    },
}


def _field_map_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("field"), _("Shapefile field"), _("type"), _("meaning")])
    writer.writerows([f.name, f.shapefile, f.type, str(f.meaning)] for f in FIELDS)
    return "\ufeff" + out.getvalue()


# The outlines layer's first feature, never exported, for the same reason.
OUTLINE_TEMPLATE = {
    "type": "Feature",
    "geometry": {"type": "Polygon", "coordinates": [[[105.0, 21.0], [105.001, 21.0], [105.0, 21.001], [105.0, 21.0]]]},
    "properties": {"id": TEMPLATE_ID, "code": ""},
}
# Formats with a second layer for the outlines: a layer holds one geometry type.
OUTLINE_LAYERS = {"gpkg", "shp"}


def _outline_blocks(queryset):
    """The outlines drawn, as GeoJSON features of their own joined to the sites on id."""
    feature = JSONBuild(
        type=Value("Feature"),
        id=Cast("id", TextField()),
        geometry=Func(AsGeoJSON("outline", precision=7), template="%(expressions)s::json", output_field=TextField()),
        properties=JSONBuild(id=Cast("id", TextField()), code="code"),
    )
    drawn = queryset.filter(outline__isnull=False).order_by()
    return _joined(
        _copied(drawn.annotate(feature_text=Cast(feature, TextField())).values_list("feature_text", flat=True))
    )


def _geojson_for_gdal(path: Path, template: dict, feature_blocks) -> None:
    with open(path, "wb") as handle:
        handle.write(b'{"type": "FeatureCollection", "features": [\n' + json.dumps(template).encode())
        for number, block in enumerate(feature_blocks):
            handle.write(b",\n" + block if number == 0 else block)
        handle.write(b"\n]}\n")


def ogr_write(feature_blocks, fmt: str, target: Path, outline_blocks=()) -> None:
    """Converts our own GeoJSON (the blocks of _feature_blocks) with GDAL (never a file
    from outside) into `target`: every field with its type (TEMPLATE), in a Shapefile
    under its 10-character name, with the field map; the outlines (_outline_blocks) as
    the layer "outlines" in a GeoPackage, outlines.shp beside sites.shp."""
    driver, name = OGR_FORMATS[fmt]
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        source = work / "sites.geojson"
        _geojson_for_gdal(source, TEMPLATE, feature_blocks)
        converted = work / name
        options = ["-lco", "ENCODING=UTF-8"] if fmt == "shp" else []
        names = ", ".join(f'"{f.name}" AS "{f.shapefile if fmt == "shp" else f.name}"' for f in LAYER_FIELDS)
        query = f"SELECT {names} FROM sites WHERE id <> '{TEMPLATE_ID}'"  # noqa: S608 - constants only
        command = [OGR2OGR, "-f", driver, *options, "-nln", "sites", "-sql", query, converted, source]
        subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - our own files, fixed arguments
        if fmt in OUTLINE_LAYERS:
            outlines = work / "outlines.geojson"
            _geojson_for_gdal(outlines, OUTLINE_TEMPLATE, outline_blocks)
            query = f"SELECT id, code FROM outlines WHERE id <> '{TEMPLATE_ID}'"  # noqa: S608 - constants only
            into = [converted, "-update"] if fmt == "gpkg" else [work / "outlines.shp"]
            command = [OGR2OGR, "-f", driver, *options, "-nln", "outlines", "-sql", query, *into, outlines]
            subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - as above
        if fmt == "shp":
            with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zipped:
                for part in sorted([*work.glob("sites.*"), *work.glob("outlines.*")]):
                    if part.suffix != ".geojson":
                        zipped.write(part, part.name)
                zipped.writestr("sites_fields.csv", _field_map_csv())
        else:
            os.replace(converted, target)


def export_name(fmt: str) -> str:
    return f"sites-{timezone.localdate():%Y%m%d}.{'zip' if fmt == 'shp' else fmt}"


def write_export(queryset, fmt: str, folder: Path, progress) -> Path:
    """The export in `fmt` as a file in `folder` (the job behind large exports), telling
    `progress(done, total)` how many sites are written."""
    total = queryset.count()
    progress(0, total)

    def counted(chunks):
        # A feature or a row per line (a line break inside a CSV value counts once more:
        # near enough for a progress bar).
        done = 0
        for chunk in chunks:
            done += chunk.count(b"\n")
            progress(min(done, total), total)
            yield chunk

    def counted_rows(dict_rows):
        for done, row in enumerate(dict_rows, start=1):
            if done % CHUNK == 0:
                progress(done, total)
            yield row

    target = folder / export_name(fmt)
    if fmt in ("geojson", "csv"):
        with open(target, "wb") as out:
            out.writelines(counted(geojson_chunks(queryset) if fmt == "geojson" else csv_chunks(queryset)))
    elif fmt == "xlsx":
        xlsx_write(counted_rows(rows(queryset)), target)
    else:
        ogr_write(counted(_feature_blocks(queryset)), fmt, target, _outline_blocks(queryset))
    return target

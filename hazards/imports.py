"""Import of site lists that provinces already hold: CSV and XLSX with latitude/longitude
columns, GeoJSON, GeoPackage and Shapefile points, and KoboToolbox/ODK CSV exports (their
geopoint column). Every row is checked by the rules a registration follows (the services'
own checks for names, depths, coordinates, clocks; the area and scope rule in SQL);
any bad row stops the whole file, and the report names each bad row and its reason.
Importing the same file again creates nothing new."""

import csv
import datetime as dt
import hashlib
import json
import logging
import re
import subprocess
import tempfile
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from pathlib import Path

from defusedxml import DefusedXmlException
from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from openpyxl.utils.exceptions import InvalidFileException

from areas import crs, geojson_reader
from areas.geometry import MAX_OUTLINE_VERTICES, check_extent, clean_outline, geometry_from_text, not_a_point
from areas.spatialfile import GEOJSON_SUFFIXES, SpatialFileError, foreign_crs, open_layer, open_source
from common.numbers import format_number

from . import archives, exports, file_limits, import_update, kml_reader, services, xlsx_reader, xml_stream
from .file_limits import TooLarge, too_many_rows
from .import_load import ImportLoad, ImportRow, copy_line
from .models import Barrier, Signage, SiteKind
from .readahead import read_ahead

log = logging.getLogger(__name__)

# A fixed namespace: the same row of the same list always gets the same site id.
IMPORT_NAMESPACE = uuid.UUID("6f1c2a0e-3d5b-4c8e-9a7f-2b1d0c9e8f71")
MAX_REPORTED = 200
# The changes an update lists, a line per row (a province's list is a few thousand sites).
MAX_CHANGES_LISTED = 20_000

# Column names people use for each field the registry needs, compared by _column_key
# (case, tone marks, "_", spaces and a unit in brackets do not matter).
COLUMN_NAMES = {
    "latitude": ["latitude", "lat", "vĩ độ", "vido", "y", "northing", "tọa độ x", "toạ độ x"],
    "longitude": ["longitude", "lon", "lng", "long", "kinh độ", "kinhdo", "x", "easting", "tọa độ y", "toạ độ y"],
    "name": ["name", "tên", "tên điểm", "tên điểm nguy cơ", "site_name"],
    "kind": ["kind", "loại", "loại điểm", "loại điểm nguy cơ", "loại hình", "type"],
    "id": ["id", "uuid", "_uuid", "instanceID"],
    "deep_water": ["deep_water", "nước sâu"],
    "depth_m": ["depth_m", "depth", "độ sâu"],
    "signage": ["signage", "biển báo", "biển cảnh báo", "có biển báo"],
    "barrier": ["barrier", "rào chắn", "hàng rào", "có rào chắn"],
    "inspected_at": [
        "inspected_at", "ngày kiểm tra", "ngày khảo sát", "date", "start", "today", "_submission_time",
        "SubmissionDate",
    ],
    "responsible_party": ["responsible_party", "chủ quản", "đơn vị quản lý", "chủ sở hữu", "owner"],
    "notes": ["notes", "ghi chú"],
    "outline": ["outline", "đường bao", "wkt"],
}  # fmt: skip
# A Shapefile's field names are cut to 10 characters: the registry's own exports say
# which (hazards/exports.py), and a list exported as a Shapefile comes back with them.
for _export_field in exports.FIELDS:
    if _export_field.name in COLUMN_NAMES and _export_field.shapefile != _export_field.name:
        COLUMN_NAMES[_export_field.name].append(_export_field.shapefile)
# The columns of a KoboToolbox or ODK Central geopoint question, and the time columns that
# those servers write in UTC without saying so (Kobo's _submission_time; ODK's carries "Z").
GEOPOINT_NAMES = ["geopoint", "_geolocation", "location", "vị trí", "tọa độ", "gps"]
UTC_COLUMNS = ["_submission_time", "SubmissionDate"]
GEOPOINT_PARTS = ["latitude", "longitude", "altitude", "accuracy", "precision"]
# Columns that describe the submission or the row, not the site: not listed as left out.
BOOKKEEPING_COLUMNS = [
    "stt", "số thứ tự", "tt", "_id", "_index", "_status", "_validation_status", "_notes", "_tags", "_submitted_by",
    "__version__", "_version_", "_attachments", "_parent_index", "_parent_table_name", "end", "deviceid",
    "username", "phonenumber", "simserial", "subscriberid", "audit", "KEY", "SubmitterID", "SubmitterName",
    "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion",
]  # fmt: skip
# Words people write for each choice, besides the registry's values and labels (both
# languages). Compared by _key, and without tone marks when that is not ambiguous: "hồ"
# (lake) and "hố" (pit) are both "ho", so only the ASCII spellings listed here decide.
KIND_WORDS = {
    "ao": SiteKind.POND, "ao cá": SiteKind.POND, "ao nuôi cá": SiteKind.POND, "ao làng": SiteKind.POND,
    "hồ": SiteKind.LAKE, "ho": SiteKind.LAKE, "hồ chứa": SiteKind.LAKE, "hồ thủy lợi": SiteKind.LAKE,
    "đập": SiteKind.DAM, "đập tràn": SiteKind.DAM, "kênh": SiteKind.CANAL, "kênh mương": SiteKind.CANAL,
    "mương": SiteKind.CANAL, "giếng": SiteKind.WELL, "giếng khơi": SiteKind.WELL, "giếng đào": SiteKind.WELL,
    "hố": SiteKind.PIT, "hố công trình": SiteKind.PIT, "hố khai thác": SiteKind.PIT, "hố bom": SiteKind.PIT,
    "bến sông": SiteKind.RIVER_LANDING, "bến đò": SiteKind.RIVER_LANDING, "bãi tắm": SiteKind.RIVER_LANDING,
    "sông": SiteKind.RIVER_LANDING, "suối": SiteKind.RIVER_LANDING, "công trình thủy lợi": SiteKind.IRRIGATION_WORKS,
    "khác": SiteKind.OTHER,
}  # fmt: skip
SIGNAGE_WORDS = {
    "có": Signage.IN_PLACE, "không": Signage.NONE, "chưa có": Signage.NONE, "hỏng": Signage.DAMAGED,
    "hư hỏng": Signage.DAMAGED, "bị hỏng": Signage.DAMAGED,
}  # fmt: skip
BARRIER_WORDS = {
    "đầy đủ": Barrier.COMPLETE, "có": Barrier.COMPLETE, "một phần": Barrier.PARTIAL, "không": Barrier.NONE,
    "chưa có": Barrier.NONE,
}  # fmt: skip
TRUE_WORDS = {"1", "true", "yes", "có", "co", "x"}
FALSE_WORDS = {"0", "false", "no", "không", "khong", ""}


class ImportFileError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportResult:
    created: int = 0
    unchanged: int = 0
    updated: int = 0
    rows: int = 0
    problems: list[str] = field(default_factory=list)
    # In update mode, what changed, a line per row ("row 3: HZ-000012 “Ao A”: name ...").
    changes: list[str] = field(default_factory=list)
    # What a person should know although nothing is wrong: columns left out, sheets not read.
    notices: list[str] = field(default_factory=list)


@dataclass
class SourceFile:
    """An opened list: its columns and its rows as (the number people give the row, its
    cells by column), read as they are used so a million-row file never sits in memory.
    `notices` say what of the file is not read."""

    columns: list[str]
    rows: Callable[[], Iterator[tuple[int, dict]]]
    notices: list[str] = field(default_factory=list)
    # The coordinate system of the rows' coordinates (areas/crs.py): a table's, as stated.
    system: int = crs.WGS84
    # How many rows the file holds when that is known without reading it through (a
    # layer's feature count, or a file read whole to list its columns), else None.
    said: int | None = None

    @cached_property
    def count(self) -> int:
        """How many rows the file holds: a pass over the whole file unless `said`, so
        only a job asks (the preview of a million-row file would cost minutes a page)."""
        return self.said if self.said is not None else sum(1 for _row in self.rows())


def _empty(value) -> bool:
    return value is None or value == ""


# Where a header is looked for: sheets often start with the committee's name, the title
# and the date ("UBND XÃ ...", "DANH SÁCH ...") above it.
HEADER_SEARCH_ROWS = 30
NUMBERING_CELL = re.compile(r"\(?\d{1,3}\)?")


def _recognised_header(top: list) -> int | None:
    """The index of the first row of `top` that names at least two of the registry's fields."""
    for index, cells in enumerate(top):
        names = [str(c).strip() for c in cells if not _empty(c)]
        if len(names) >= 2 and len(guess_mapping(names)) >= 2:
            return index
    return None


def _numbering(cells) -> bool:
    """A row numbering the columns under a header, as official forms have: (1) (2) (3)..."""
    filled = [str(c).strip() for c in cells if not _empty(c)]
    return len(filled) >= 3 and all(NUMBERING_CELL.fullmatch(c) for c in filled)


def _distinct(names: list[str]) -> list[str]:
    """A name used again becomes "name (2)", "name (3)": a row is read by its column names,
    so under one name the later column's value hid the earlier's (pentest 6)."""
    seen, out = set(), []
    for name in names:
        shown, n = name, 1
        while shown and shown in seen:
            n += 1
            shown = f"{name} ({n})"
        seen.add(shown)
        out.append(shown)
    return out


def _table_source(
    path: Path, table: Callable[[], Iterator], system: int | None, notices=(), delimited: bool = False
) -> SourceFile:
    """A table (rows of cells from `table()`, read afresh on each call) under a header row:
    the first row naming two of the registry's fields, else the first row that is not empty.
    `delimited` (CSV): a row filled beyond the header is a problem of its row (OVERFLOW)."""
    table = _within_limits(path, table)
    reader = table()
    top = list(islice(reader, HEADER_SEARCH_ROWS))
    reader.close()  # the file (or workbook) is read again from the top for the rows
    at = _recognised_header(top)
    if at is None:
        at = next((i for i, cells in enumerate(top) if not all(map(_empty, cells))), None)
    if at is None:
        raise ImportFileError([_("%(file)s is empty.") % {"file": path.name}])
    names = _distinct([" ".join(str(h).split()) if not _empty(h) else "" for h in top[at]])
    skip = at + 1 + (at + 1 < len(top) and _numbering(top[at + 1]))

    def rows():
        for number, values in enumerate(table(), start=1):
            if number <= skip:
                continue
            if number - skip > file_limits.MAX_ROWS:
                raise _file_problem(path, too_many_rows())
            values = list(values) + [None] * (len(names) - len(values))
            if all(map(_empty, values)):
                continue
            row = {n: v for n, v in zip(names, values, strict=False) if n}
            if delimited and not all(map(_empty, values[len(names) :])):
                row[OVERFLOW] = (len(values), len(names))
            yield number, row

    source = SourceFile([n for n in names if n], rows, list(notices), system or crs.WGS84)
    if source.system != crs.WGS84:
        label = crs.SYSTEMS[source.system].label
        source.notices.append(_("Coordinates converted to WGS 84 from %(system)s.") % {"system": label})
    return source


def _file_problem(path: Path, exc: TooLarge) -> ImportFileError:
    return ImportFileError([_("%(file)s: %(reason)s.") % {"file": path.name, "reason": exc}])


def _within_limits(path: Path, read: Callable[[], Iterator]) -> Callable[[], Iterator]:
    """`read` whose TooLarge (hazards/file_limits.py) is a problem of the file, said to the
    person as the other problems of a file are; a row or column too many is refused too."""

    def rows():
        try:
            for values in read():
                if len(values) > file_limits.MAX_COLUMNS:
                    raise TooLarge(
                        _("a row has %(count)d columns; the most one import takes is %(n)d")
                        % {"count": len(values), "n": file_limits.MAX_COLUMNS}
                    )
                yield values
        except TooLarge as exc:
            raise _file_problem(path, exc) from None

    return rows


def _lines(handle) -> Iterator[str]:
    """A text file's lines, none longer than MAX_ROW_BYTES characters (a line is read
    whole before the csv module splits it)."""
    for number, line in enumerate(iter(lambda: handle.readline(file_limits.MAX_ROW_BYTES + 1), ""), start=1):
        if len(line) > file_limits.MAX_ROW_BYTES:
            raise TooLarge(
                _("its line %(line)d is longer than %(n)s characters")
                % {"line": number, "n": format_number(file_limits.MAX_ROW_BYTES)}
            )
        yield line


def _decoded(path: Path, lines: Iterator) -> Iterator:
    try:
        yield from lines
    except UnicodeDecodeError:
        raise ImportFileError(
            [_("%(file)s is not UTF-8 text: save it as “CSV UTF-8” and import it again.") % {"file": path.name}]
        ) from None
    except csv.Error as exc:  # a field over csv's limit (128 KB), a broken quote: its words logged
        log.info("CSV refused: %s", exc)
        raise ImportFileError(
            [_("%(file)s cannot be read as CSV: a quoted cell is not closed, or is longer than %(n)s characters. "
               "Save it again as “CSV UTF-8” and import it again.")
             % {"file": path.name, "n": format_number(csv.field_size_limit())}]
        ) from None  # fmt: skip


def _csv_source(path: Path, system: int | None) -> SourceFile:
    def table():
        with open(path, newline="", encoding="utf-8-sig") as handle:
            sample = handle.read(4096)
            handle.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:  # one column, or nothing to tell by: plain commas
                dialect = csv.excel
            yield from csv.reader(_lines(handle), dialect)

    return _table_source(path, lambda: _decoded(path, table()), system, delimited=True)


# What openpyxl raises for a file that is not a sound workbook (defusedxml's refusals of
# entity declarations are ValueErrors). Malformed XML is a SyntaxError from either parser
# openpyxl may use: the standard library's ParseError, or lxml's XMLSyntaxError once lxml is
# installed (python-docx brings it), which is no ParseError.
XLSX_ERRORS = (InvalidFileException, *archives.DAMAGED, KeyError, IndexError, ValueError, TypeError, SyntaxError)


def _not_xlsx(path: Path, exc: Exception | None = None) -> ImportFileError:
    """The refusal of a workbook for `exc`, one of XLSX_ERRORS (its words are logged)."""
    if isinstance(exc, DefusedXmlException):
        return ImportFileError([_("%(file)s: %(reason)s.") % {"file": path.name, "reason": xml_stream.refusal(exc)}])
    if exc is not None:
        log.info("XLSX refused: %r", exc)
    return ImportFileError([_("%(file)s cannot be read as an Excel workbook (.xlsx).") % {"file": path.name}])


def _xlsx_checked(path: Path) -> None:
    """The workbook's zip is within the archive limits before openpyxl inflates any of it."""
    try:
        with archives.check(path) as archive:
            for info in archive.infolist():
                # By the usual names first, before openpyxl reads anything; the reader
                # checks each part again by what it is.
                limit = file_limits.XLSX_MAX_PART_BYTES
                if info.filename.startswith("xl/worksheets/"):
                    limit = file_limits.MAX_FILE_BYTES
                elif info.filename == "xl/sharedStrings.xml":
                    limit = file_limits.XLSX_MAX_STRINGS_BYTES
                if info.file_size > limit:
                    raise archives.ArchiveError(
                        _("%(member)s is larger than %(limit)d MB: save the sheet as CSV and import that.")
                        % {"member": info.filename[:100], "limit": limit // 1_000_000}
                    )
    except archives.ArchiveError as exc:
        raise ImportFileError([f"{path.name}: {exc}"]) from None
    except zipfile.BadZipFile:
        raise _not_xlsx(path) from None


def _xlsx_source(path: Path, system: int | None, sheet: str | None = None) -> SourceFile:
    _xlsx_checked(path)

    sheet, others = _xlsx_sheet(path, sheet)

    def table():
        try:
            with xlsx_reader.Workbook(path) as book:
                yield from book.rows(sheet)
        except XLSX_ERRORS as exc:
            raise _not_xlsx(path, exc) from None

    notices = []
    if others:
        notices.append(
            _("Only the sheet “%(sheet)s” was read; these sheets also hold data and were not read: %(others)s.")
            % {"sheet": sheet, "others": _quoted(others)}
        )
    return _table_source(path, table, system, notices)


def _quoted(names: list[str]) -> str:
    return ", ".join(f"“{name}”" for name in names)


class ChooseSheet(ImportFileError):
    """The file holds several lists (sheets of a workbook, layers of a GeoPackage) and
    none was chosen; `names` are those to choose from."""

    def __init__(self, problem: str, names: list[str]):
        super().__init__([problem])
        self.names = names


def _xlsx_sheets(path: Path) -> tuple[list[str], list[str]]:
    """The workbook's sheets that hold data, and those of them whose header names the
    registry's fields."""
    with_data, recognised = [], []
    try:
        with xlsx_reader.Workbook(path) as book:
            for name in book.sheets:
                with closing(book.rows(name)) as rows:
                    top = list(islice(rows, HEADER_SEARCH_ROWS))
                if any(not all(map(_empty, cells)) for cells in top):
                    with_data.append(name)
                    if _recognised_header(top) is not None:
                        recognised.append(name)
    except XLSX_ERRORS as exc:
        raise _not_xlsx(path, exc) from None
    except TooLarge as exc:
        raise _file_problem(path, exc) from None
    return with_data, recognised


def _xlsx_sheet(path: Path, chosen: str | None) -> tuple[str, list[str]]:
    """The sheet to read (the one chosen; else the one whose header names the registry's
    fields, or the first with data) and the other sheets that hold data. Several sheets
    with such a header and none chosen: ChooseSheet, naming them."""
    with_data, recognised = _xlsx_sheets(path)
    if not with_data:
        raise ImportFileError([_("%(file)s is empty.") % {"file": path.name}])
    if chosen is not None and chosen not in with_data:
        raise ChooseSheet(
            _("%(file)s has no sheet “%(sheet)s” with data; its sheets with data: %(sheets)s.")
            % {"file": path.name, "sheet": chosen, "sheets": _quoted(with_data)},
            with_data,
        )
    if chosen is None and len(recognised) > 1:
        raise ChooseSheet(
            _("%(file)s holds a list in several sheets (%(sheets)s): choose the sheet to import.")
            % {"file": path.name, "sheets": _quoted(recognised)},
            with_data,
        )
    chosen = chosen or (recognised or with_data)[0]
    return chosen, [title for title in with_data if title != chosen]


def sheets(path: Path) -> list[str]:
    """The lists a file holds that a person may choose from: a workbook's sheets with
    data, a GeoPackage's layers (none for other files, which hold one)."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        _xlsx_checked(path)
        return _xlsx_sheets(path)[0]
    if suffix == ".gpkg":
        try:
            return [layer.name for layer in open_source(path)]
        except SpatialFileError as exc:
            raise ImportFileError(exc.problems) from None
    return []


NOT_A_POINT = object()  # the key under which a layer row carries a geometry that is no point
OUTLINE = object()  # the key under which a layer row carries a polygon: the site's outline
# The key under which a row of the registry's own export carries the outline its outlines
# layer still draws for a site whose outline cell says to remove it.
DRAWN = object()
# The key under which a CSV row filled beyond its header carries its count of cells and
# the header's: a delimiter inside a value not in quotes moved every value after it on.
OVERFLOW = object()
# What an outline cell says to remove the site's outline in update mode (a blank cell keeps
# it), compared as column names are (no case or tone marks: "Xóa", "xoá", "XOA"): an
# explicit word, so that "0", "-", "không" or an empty WKT cannot remove one by accident.
REMOVE_OUTLINE = ("xoa", "remove")


def _members(value) -> dict:
    return value if isinstance(value, dict) else {}


def _layer_row(feature: dict, fields: list[str]) -> dict:
    """A GeoJSON feature as a row: its properties, a point as longitude/latitude, a
    polygon (a pond drawn as an area) as the outline."""
    row = _members(feature.get("properties"))
    if "id" in fields and "id" not in row and "id" in feature:
        row["id"] = feature["id"]  # GDAL writes an "id" field as the feature's id member
    geometry = _members(feature.get("geometry"))
    if geometry.get("type") == "Point" and len(geometry.get("coordinates") or ()) >= 2:
        row["longitude"], row["latitude"] = geometry["coordinates"][:2]
    elif geometry.get("type") == "Polygon" or (
        geometry.get("type") == "MultiPolygon" and len(geometry.get("coordinates") or ()) == 1  # a Shapefile's one part
    ):
        row[OUTLINE] = json.dumps(geometry)
    else:
        row[NOT_A_POINT] = geometry.get("type") or _("no geometry")
    return row


def _outline(text: str) -> tuple[str, float, float]:
    """A row's polygon (GeoJSON or WKT text, WGS 84) checked as a registration checks an
    outline (valid, not too large, 2D, in the country) as EWKT, and the point the site
    is placed at when the row gives none: a point on its surface (a centroid can fall
    outside a bent pond). A multipolygon of one part (as GIS programs save) is its polygon."""
    polygon = geometry_from_text(text)
    if polygon.geom_type == "MultiPolygon" and len(polygon) == 1:
        polygon = polygon[0]
    polygon = clean_outline(polygon)
    point = polygon.point_on_surface
    return polygon.ewkt, point.x, point.y


def _removes_outline(text: str | None) -> bool:
    return text is not None and not text.lstrip().startswith("{") and _plain(text) in REMOVE_OUTLINE


def _outline_text(text: str) -> tuple[str, float, float]:
    """_outline of a cell: a word or an empty geometry there is refused with what to write,
    as it might mean "remove" or "unknown" (a polygon with mistakes in it keeps its reason)."""
    try:
        return _outline(text)
    except ValidationError:
        if any(bracket in text for bracket in "({["):  # coordinates, wrong: their own reason
            raise
        raise ValidationError(
            _("the outline “%(value)s” is no polygon: write “xóa” (or “remove”) to remove the site's outline, "
              "or leave the cell empty to keep it") % {"value": text[:40]}
        ) from None  # fmt: skip


def _outline_cell(row: dict, column: str | None) -> str | None:
    """An outline column's polygon as text: WKT (CSV, XLSX) or a GeoJSON geometry, as text
    or as the object a GeoJSON property holds."""
    value = row.get(column) if column else None
    if isinstance(value, dict):
        return json.dumps(value)
    text = "" if value is None else str(value).strip()
    return text or None


def _ogr_features(path: Path, system: crs.System, layer: str | None = None) -> Iterator[dict]:
    """The features of a GeoPackage or Shapefile layer, streamed by ogr2ogr as GeoJSON
    lines (one process, C speed; GDAL field by field from Python was slower, bench/NOTES.md).
    GeoJSON lines are WGS 84: from any other system ogr2ogr is given the transformation
    (GDAL would choose its own: in the south, not the official one)."""
    convert = []
    if system.code != crs.WGS84:
        # GDAL wants the result in EPSG:4326's own axis order, latitude first.
        pipeline = crs.to_wgs84(system.code).to_proj4() + " +step +proj=axisswap +order=2,1"
        convert = ["-s_srs", f"EPSG:{system.code}", "-t_srs", "EPSG:4326", "-ct", pipeline]
    # prlimit bounds its memory and CPU time (what the file asks of GDAL is beyond Python's
    # reach); not its wall time, which runs on while the import of a million rows reads it.
    bounded = ["prlimit", f"--as={file_limits.GDAL_MAX_MEMORY_BYTES}", f"--cpu={file_limits.GDAL_MAX_SECONDS}", "--"]
    # Its messages go to a file: a full stderr pipe would stop ogr2ogr half way.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 - fixed programs; the path is the file being imported
            [*bounded, "ogr2ogr", "-f", "GeoJSONSeq", *convert, "/vsistdout/", str(path), *([layer] if layer else [])],
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        try:
            # A line at a time, none longer than a row may be: a feature of a million
            # vertices is refused before it is decoded.
            for number, line in enumerate(iter(lambda: process.stdout.readline(file_limits.MAX_ROW_BYTES + 1), b""), 1):
                if len(line) > file_limits.MAX_ROW_BYTES:
                    raise _file_problem(path, _feature_too_large(number))
                yield json.loads(line)
            process.wait()
            errors.seek(0)
            message = errors.read(64 * 1024).decode(errors="replace")
            # GDAL reports a feature it cannot read ("ERROR 1: Unable to read geometry", a
            # value it cannot allocate) and goes on with exit status 0, the feature written
            # without it: its errors refuse the file as its status does.
            failed = [line.split(":", 1)[-1].strip() for line in message.splitlines() if line.startswith("ERROR")]
            if process.returncode != 0 or failed:
                if process.returncode < 0 or any(word in message.lower() for word in ("memory", "allocate")):
                    raise _file_problem(path, _beyond_gdal_limits()) from None
                log.info("ogr2ogr refused %s: %s", path.name, message.strip())
                said = (failed or message.strip().splitlines() or [f"ogr2ogr {process.returncode}"])[0][:200]
                raise ImportFileError(
                    [_("%(file)s: GDAL cannot read its layer (%(gdal)s). Open it in QGIS, save the layer again as a "
                       "GeoPackage and import that.") % {"file": path.name, "gdal": said}]
                )  # fmt: skip
        finally:
            process.kill()
            process.wait()
            process.stdout.close()


def _beyond_gdal_limits() -> TooLarge:
    return TooLarge(
        _("reading it needs more than %(mb)s MB of memory or %(minutes)s minutes, the most one import may use: "
          "save its layer again as plain data (no views or computed columns), or split it")
        % {"mb": format_number(file_limits.GDAL_MAX_MEMORY_BYTES // (1024 * 1024)),
           "minutes": format_number(file_limits.GDAL_MAX_SECONDS // 60)}
    )  # fmt: skip


def _feature_too_large(number: int) -> TooLarge:
    return TooLarge(
        _("its feature %(n)d takes more than %(limit)s characters as GeoJSON (an outline may have at most "
          "%(vertices)s vertices)") % {"n": number, "limit": format_number(file_limits.MAX_ROW_BYTES),
                                       "vertices": format_number(MAX_OUTLINE_VERTICES)}
    )  # fmt: skip


def _geojson_features(path: Path) -> Iterator[dict]:
    """The features of a GeoJSON file, read by areas/geojson_reader.py: ogr2ogr's
    conversion to GeoJSON lines cost as much as all the rest of the reading. A feature
    is decoded whole, so none may be longer than a row may be."""
    read = 0
    try:
        for feature in geojson_reader.features(path, file_limits.MAX_ROW_BYTES):
            read += 1
            yield feature
    except geojson_reader.ValueTooLarge:
        raise _file_problem(path, _feature_too_large(read + 1)) from None
    except geojson_reader.ForeignCRS as exc:
        raise ImportFileError(foreign_crs(path, exc.crs).problems) from None
    except geojson_reader.GeoJSONError as exc:
        raise ImportFileError(
            [_("%(file)s is not valid GeoJSON: it is cut short or malformed at character %(at)d.")
             % {"file": path.name, "at": exc.at}]
        ) from None  # fmt: skip
    except UnicodeDecodeError:
        raise ImportFileError([_("%(file)s is not UTF-8 text, as GeoJSON must be.") % {"file": path.name}]) from None


def _too_many_fields(count: int) -> TooLarge:
    return TooLarge(
        _("it has %(count)d fields; the most one import takes is %(n)d")
        % {"count": count, "n": file_limits.MAX_COLUMNS}
    )


def _features_source(path: Path, fields: list[str], count: int | None, features) -> SourceFile:
    """A layer's rows: a point becomes longitude/latitude; anything else is reported on its
    row. `count`: how many features it has, if known without reading them all."""

    if (count or 0) > file_limits.MAX_ROWS:
        raise _file_problem(path, too_many_rows())
    if len(fields) > file_limits.MAX_COLUMNS:
        raise _file_problem(path, _too_many_fields(len(fields)))

    def rows():
        for number, feature in enumerate(features(path), start=1):
            if number > file_limits.MAX_ROWS:
                raise _file_problem(path, too_many_rows())
            yield number, _layer_row(feature, fields)

    return SourceFile([*fields, "longitude", "latitude"], rows, said=count)


# The layers of the registry's own GeoPackage and Shapefile exports (hazards/exports.py):
# read again, the sites take their outlines from the second, joined on id.
EXPORT_LAYERS = ("sites", "outlines")


def _export_pair(path: Path) -> tuple[str | None, tuple[Path, str | None] | None]:
    """The layer to read of a file with several and where its outlines are, when the file
    is the registry's own export: (layer, (outlines file, outlines layer)), else (None, None)."""
    sites, outlines = EXPORT_LAYERS
    if path.suffix.lower() == ".gpkg":
        try:
            names = [layer.name for layer in open_source(path)]
        except SpatialFileError as exc:
            raise ImportFileError(exc.problems) from None
        if sorted(names) == sorted(EXPORT_LAYERS):
            return sites, (path, outlines)
    elif path.stem == sites and path.with_name(f"{outlines}.shp").exists():
        return None, (path.with_name(f"{outlines}.shp"), None)
    return None, None


def _drawn(path: Path, layer: str | None, stated: int | None) -> dict[str, dict]:
    """The outlines of an export's outlines layer by site id."""
    try:
        found = open_layer(path, layer, wgs84_only=False)
    except SpatialFileError:
        return {}  # an empty outlines layer: no site has one
    system = _layer_system(path, found.srs.wkt if found.srs else None, stated)
    drawn = {}
    for feature in _ogr_features(path, system, layer):
        site = _members(feature.get("properties")).get("id")
        if site and feature.get("geometry"):
            drawn[str(site)] = feature["geometry"]
    return drawn


def _layer_source(path: Path, stated: int | None, chosen: str | None = None) -> SourceFile:
    """A GeoPackage or Shapefile layer: checked, counted and its fields listed through
    GDAL (areas/spatialfile.py), its features streamed by ogr2ogr, in WGS 84 by the
    official transformation when the layer is in VN-2000 (areas/crs.py). The
    registry's own export (EXPORT_LAYERS) is read with its outlines. A GeoPackage with
    several other layers needs one chosen (ChooseSheet)."""
    name, outlines = (chosen, None) if chosen else _export_pair(path)
    names = sheets(path)
    if len(names) > 1 and name not in names:
        problem = _("%(file)s has several layers (%(layers)s): choose the layer to import.")
        if name:
            problem = _("%(file)s has no layer “%(layer)s”; its layers: %(layers)s.")
        raise ChooseSheet(problem % {"file": path.name, "layer": name, "layers": _quoted(names)}, names)
    try:
        layer = open_layer(path, name, wgs84_only=False)
    except SpatialFileError as exc:
        raise ImportFileError(exc.problems) from None
    system = _layer_system(path, layer.srs.wkt if layer.srs else None, stated)
    drawn = _drawn(*outlines, stated) if outlines else {}

    def features(path):
        for feature in _ogr_features(path, system, name):
            properties = _members(feature.get("properties"))
            outline = drawn.get(str(properties.get("id")))
            if outline and _removes_outline(_outline_cell(properties, "outline")):
                properties[DRAWN] = True  # the cell says remove, the layer still draws one
            elif outline:
                properties["outline"] = outline
            yield feature

    # A field "outline" added to the sites layer (to type "xóa" in) is the same column.
    fields = list(layer.fields) + (["outline"] if outlines and "outline" not in layer.fields else [])
    source = _features_source(path, fields, len(layer), features)
    if system.code != crs.WGS84:
        source.notices.append(_("Coordinates converted to WGS 84 from %(system)s.") % {"system": system.label})
    return source


def _layer_system(path: Path, wkt: str | None, stated: int | None) -> crs.System:
    """The layer's system: the one it declares, which must agree with a stated one; a
    declaration that is none of areas/crs.py's systems only when a system is stated
    (a person who knows the data says what it is); none declared: the stated one, or WGS 84."""
    if wkt is None:
        return crs.SYSTEMS[stated or crs.WGS84]
    try:
        declared = crs.identify(wkt)
    except crs.UnknownSystem as exc:
        if stated:
            return crs.SYSTEMS[stated]
        raise ImportFileError(
            [
                _(
                    "%(file)s declares the coordinate system “%(name)s”, which is not one the registry can identify "
                    "without guessing (WGS 84, or VN-2000 geographic, UTM 48/49 or a province's TM-3 zone). "
                    "If you know which it is, choose it as the file's coordinate system."
                )
                % {"file": path.name, "name": exc.name}
            ]
        ) from None
    if stated and stated != declared.code:
        raise ImportFileError(
            [
                _("%(file)s declares %(declared)s, not the %(stated)s chosen.")
                % {"file": path.name, "declared": declared.label, "stated": crs.SYSTEMS[stated].label}
            ]
        )
    return declared


# A preview lists the properties of a GeoJSON or KML file's first features as its columns
# (reading them all made every page of a large KMZ cost the CPU of the whole file,
# pentest P3, bench/NOTES.md); the check and the import read every feature, and name a
# property first met further on among the columns left out.
PREVIEW_FEATURES = 100


def _fields_of(path: Path, features: Iterator[dict], head: int | None, with_id: bool) -> tuple[list[str], int | None]:
    """The features' properties as columns, in the order met (a feature's own id member as
    an "id" column, as GDAL listed them), from every feature or the first `head`; and how
    many features there are, or None when only the first `head` were read."""
    fields: dict[str, None] = {}
    count = 0
    for feature in features:
        if count == head:
            return list(fields), None
        count += 1
        if count > file_limits.MAX_ROWS:
            raise _file_problem(path, too_many_rows())
        fields.update(dict.fromkeys(_members(feature.get("properties"))))
        if len(fields) > file_limits.MAX_COLUMNS:
            raise _file_problem(path, _too_many_fields(len(fields)))
        if with_id and "id" in feature:
            fields.setdefault("id")
    return list(fields), count


def _geojson_source(path: Path, head: int | None = None) -> SourceFile:
    """A GeoJSON file, never opened by GDAL (areas/spatialfile.py says why), read by the
    registry's reader: its features' properties are the columns (_fields_of)."""
    with closing(_geojson_features(path)) as features:
        fields, count = _fields_of(path, features, head, with_id=True)
    if count == 0:
        raise ImportFileError([_("%(file)s has no features.") % {"file": path.name}])
    return _features_source(path, fields, count, _geojson_features)


def _kml_features(path: Path) -> Iterator[dict]:
    try:
        yield from kml_reader.Placemarks(path)
    except kml_reader.KMLError as exc:
        raise ImportFileError([_("%(file)s: %(reason)s.") % {"file": path.name, "reason": exc}]) from None


def _kml_source(path: Path, head: int | None = None) -> SourceFile:
    """A KML file or a KMZ, read by hazards/kml_reader.py (never by GDAL, which would
    follow its network links): its placemarks' fields are the columns (_fields_of)."""
    placemarks = kml_reader.Placemarks(path)
    try:
        with closing(iter(placemarks)) as features:
            fields, count = _fields_of(path, features, head, with_id=False)
    except kml_reader.KMLError as exc:
        raise ImportFileError([_("%(file)s: %(reason)s.") % {"file": path.name, "reason": exc}]) from None
    if count == 0:
        raise ImportFileError([_("%(file)s has no placemarks.") % {"file": path.name}])
    source = _features_source(path, fields, count, _kml_features)
    if placemarks.network_links:
        source.notices.append(
            _("%(n)d network links in the file were not followed: only its own placemarks are read.")
            % {"n": placemarks.network_links}
        )
    return source


SOURCES = {".csv": _csv_source, ".xlsx": _xlsx_source, ".gpkg": _layer_source, ".shp": _layer_source}
SOURCES.update({".kml": _kml_source, ".kmz": _kml_source})
SOURCES.update(dict.fromkeys(GEOJSON_SUFFIXES, _geojson_source))


def read_file(path: Path, system: int | None = None, sheet: str | None = None, preview: bool = False) -> SourceFile:
    """The file opened; `system` is the coordinate system a person states for it (EPSG
    code of areas/crs.py), for a table of coordinates or a layer that declares none;
    `sheet` the sheet of a workbook or the layer of a GeoPackage chosen (sheets());
    `preview`: for a page, which reads only the first rows (PREVIEW_FEATURES)."""
    source = SOURCES.get(path.suffix.lower())
    if source is None:
        raise ImportFileError(
            [_("%(file)s: use a CSV, XLSX, GeoJSON, GeoPackage, Shapefile, KML or KMZ file.") % {"file": path.name}]
        )
    if system not in (None, crs.WGS84) and source in (_geojson_source, _kml_source):
        raise ImportFileError(
            [_("%(file)s: GeoJSON and KML are always in WGS 84 longitude/latitude.") % {"file": path.name}]
        )
    if source in (_layer_source, _xlsx_source):
        return source(path, system, sheet or None)
    if source is _csv_source:
        return source(path, system)
    return source(path, PREVIEW_FEATURES if preview else None)


def _key(text: str) -> str:
    """Text as words are compared: composed Unicode (Unikey's "tổ hợp" and macOS write
    letters and tone marks apart), lower case, "_" as a space, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).lower().replace("_", " ").split())


def _plain(text: str) -> str:
    """_key without tone marks: headers and choice names are often typed without
    Vietnamese input ("Ngay kiem tra", "bien_bao", "mot_phan")."""
    letters = unicodedata.normalize("NFD", _key(text).replace("đ", "d"))
    return "".join(c for c in letters if not unicodedata.combining(c))


def _column_key(column: str) -> str:
    """A column name as compared: _plain without a unit in brackets ("Độ sâu (m)"); a
    leading "_" is kept, as KoboToolbox's own columns (_id, _uuid) differ by it."""
    underscore = "_" if column.startswith("_") else ""
    return underscore + _plain(re.sub(r"\(.*?\)", " ", column))


def _column_forms(column: str) -> list[str]:
    """The column's name, then its last part after a group: KoboToolbox writes
    "group_site/ten_diem", ODK Central "site-ten_diem" and "geo-Latitude"."""
    return [column, column.rsplit("/", 1)[-1], column.rsplit("-", 1)[-1]]


def _find(columns: list[str], names: list[str]) -> str | None:
    """The first column named like one of `names`, whole names before group parts."""
    wanted = set(map(_column_key, names))
    for form in range(3):
        found = next((c for c in columns if _column_key(_column_forms(c)[form]) in wanted), None)
        if found:
            return found
    return None


def guess_mapping(columns: list[str]) -> dict[str, str]:
    """Field -> column, from common names; a KoboToolbox/ODK geopoint column counts too."""
    mapping = {}
    for field_name, names in COLUMN_NAMES.items():
        found = _find(columns, names)
        if found:
            mapping[field_name] = found
    if "latitude" not in mapping or "longitude" not in mapping:
        for half in ("latitude", "longitude"):
            mapping.pop(half, None)
        # Kobo's split geopoint ("_vi_tri_latitude", "_vi_tri_longitude"), else the geopoint
        latitude = next((c for c in columns if c.lower().endswith("_latitude")), None)
        geopoint = _find(columns, GEOPOINT_NAMES) or next((c for c in columns if c.lower().endswith("geopoint")), None)
        if latitude:
            mapping["latitude"] = latitude
            mapping["longitude"] = latitude[: -len("_latitude")] + "_longitude"
        elif geopoint:
            mapping["geopoint"] = geopoint
    return mapping


def left_out(columns: list[str], mapping: dict) -> list[str]:
    """The file's columns that no field takes, but for submission bookkeeping (Kobo's
    _id, ODK's KEY, a row number column) and the parts of a point already taken (its
    altitude and accuracy, the geopoint beside its split latitude and longitude)."""
    used = set(mapping.values())
    bookkeeping = set(map(_column_key, BOOKKEEPING_COLUMNS + UTC_COLUMNS + COLUMN_NAMES["inspected_at"]))
    bookkeeping.update(map(_column_key, GEOPOINT_NAMES))
    if "latitude" in mapping:
        bookkeeping.add(_column_key(mapping["latitude"].rsplit("/", 1)[-1].lstrip("_").removesuffix("_latitude")))
    parts = tuple(GEOPOINT_PARTS)

    def kept(column: str) -> bool:
        keys = [_column_key(form) for form in _column_forms(column)]
        return not any(key in bookkeeping or key.endswith(parts) for key in keys)

    return [column for column in columns if column not in used and kept(column)]


def _notices(columns: list[str], mapping: dict) -> list[str]:
    """What the outcome says of the fields and columns the mapping leaves out."""
    notices = []
    if "kind" not in mapping:
        notices.append(_("No column gives the kind: every site is imported as “Other”."))
    if "signage" not in mapping and "barrier" not in mapping:
        notices.append(_("No column gives the sign or the barrier: no state is recorded for the sites."))
    unused = left_out(columns, mapping)
    if unused:
        notices.append(_("Columns not imported: %(columns)s.") % {"columns": ", ".join(unused)})
    return notices


def _text(row, mapping, key) -> str:
    return _cell(row, mapping.get(key))


def _cell(row, column: str | None) -> str:
    value = row.get(column) if column else None
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()  # an Excel date cell: a day, not midnight
    text = "" if value is None else str(value).strip()
    if "\x00" in text:  # PostgreSQL stores no NUL character in text
        raise ValidationError(_("the column %(column)s holds a NUL character") % {"column": column})
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _coordinates(row, mapping, system: int = crs.WGS84) -> tuple[float, float]:
    """(longitude, latitude) of a row in WGS 84, checked to lie in the country."""
    if NOT_A_POINT in row:
        raise not_a_point(row[NOT_A_POINT])
    if OUTLINE in row:
        raise not_a_point("Polygon")  # _row_checker places a polygon's site itself
    if "geopoint" in mapping and "latitude" not in mapping:
        # "lat lon [alt acc]" (Kobo, ODK), "lat,lon" or Kobo's _geolocation "[lat, lon]"
        parts = _text(row, mapping, "geopoint").strip("[]").replace(",", " ").split()
        if len(parts) < 2:
            raise ValidationError(_("the geopoint is empty or not 'latitude longitude [altitude accuracy]'"))
        lat_text, lon_text = parts[0], parts[1]  # ODK and Kobo write latitude first
    else:
        lat_text, lon_text = _text(row, mapping, "latitude"), _text(row, mapping, "longitude")
    try:
        latitude, longitude = float(lat_text.replace(",", ".")), float(lon_text.replace(",", "."))
    except ValueError:
        raise ValidationError(
            _("the coordinates are not numbers (latitude %(lat)r, longitude %(lon)r)")
            % {"lat": lat_text, "lon": lon_text}
        ) from None
    if system != crs.WGS84:
        longitude, latitude = _to_wgs84(system, longitude, latitude)
    check_extent(longitude, latitude, longitude, latitude)
    return longitude, latitude


# In Vietnam a northing is at least 900 km and a TM-3 or UTM easting at most 850 km, so
# which of a table's two numbers is which needs no column names: Vietnamese survey tables
# call the northing X and the easting Y, GIS tables the other way round.
NORTHING_FROM_M = 900_000


def _to_wgs84(system: int, x: float, y: float) -> tuple[float, float]:
    """A table's two coordinates in `system` (longitude and latitude, or the two metre
    values in either order) as WGS 84 longitude and latitude."""
    if crs.SYSTEMS[system].projected:
        northing, easting = max(x, y), min(x, y)
        if northing < NORTHING_FROM_M:
            raise ValidationError(
                _("the coordinates (%(x)s, %(y)s) are not metres of %(system)s")
                % {"x": x, "y": y, "system": crs.SYSTEMS[system].label}
            )
        x, y = easting, northing
    return crs.to_wgs84(system).transform(x, y)


class Choice:
    """Reads one field's choice (kind, sign, barrier) from what a file writes: the value,
    its label in either language, the words people use (KIND_WORDS...) and the person's
    own words for this import, compared by _key, then without tone marks where that is
    not ambiguous. Each distinct text is looked up once."""

    def __init__(self, choices, words: dict, own: dict | None, what: str):
        exact = {}
        for language in ("vi", "en"):
            with translation.override(language):
                exact.update({_key(str(label)): value for value, label in choices.choices})
        exact.update({_key(value): value for value in choices.values})
        exact.update({_key(word): value for word, value in words.items()})
        self.exact, self.what, self.known = exact, what, {}
        plain: dict[str, set] = {}
        for word, value in exact.items():
            plain.setdefault(_plain(word), set()).add(value)
        self.plain = {word: values.pop() for word, values in plain.items() if len(values) == 1}
        # An ASCII word listed for a choice ("ho": lake) decides its ambiguous plain form.
        self.plain.update({_key(word): value for word, value in words.items() if _key(word).isascii()})
        for word, choice in (own or {}).items():
            self.exact[_key(word)] = self.plain[_plain(word)] = self(choice)

    def __call__(self, value: str) -> str:
        found = self.known.get(value)
        if found is None:
            key = _key(value)
            found = self.exact.get(key) or self.plain.get(_plain(key))
            if found is None:
                raise ValidationError(_("unknown %(what)s %(value)r") % {"what": self.what, "value": value})
            self.known[value] = found
        return found


CHOICES = {"kind": (SiteKind, KIND_WORDS), "signage": (Signage, SIGNAGE_WORDS), "barrier": (Barrier, BARRIER_WORDS)}


def choice_reader(field_name: str, own: dict | None = None) -> Choice:
    choices, words = CHOICES[field_name]
    what = {"kind": _("kind"), "signage": _("signage state"), "barrier": _("barrier state")}[field_name]
    return Choice(choices, words, own, what)


def own_words(text: str, field_name: str) -> dict[str, str]:
    """A person's own words for one field's choices, one "word = choice" a line (the
    choice in any spelling the import reads: "ao nuôi cá = ao"); ValidationError names
    a line that is not."""
    words = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        word, equals, choice = line.partition("=")
        if not equals or not word.strip() or not choice.strip():
            raise ValidationError(_("Write one “word = choice” a line, not %(line)r.") % {"line": line.strip()})
        words[word.strip()] = choice.strip()
    choice_reader(field_name, words)  # every choice must be one the import reads
    return words


def _boolean(value: str, default: bool) -> bool:
    lowered = value.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return default if lowered == "" else False
    raise ValidationError(_("%(value)r is not yes or no") % {"value": value})


# A day written the Vietnamese way, day first: 05/03/2025, 5-3-2025, 05.03.2025 14:30.
DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def _moment(value: str) -> dt.datetime | None:
    """A date or a date and time; a bare date counts at noon, so it stays the same day in
    any time zone."""
    found = DAY_FIRST.fullmatch(value)
    try:
        if found:
            day, month, year, hour, minute, second = (int(part or 0) for part in found.groups())
            if found.group(4) is None:
                hour = 12
            return dt.datetime(year, month, day, hour, minute, second)
        day = parse_date(value) if len(value) == 10 else None
        return dt.datetime.combine(day, dt.time(12)) if day else parse_datetime(value)
    except ValueError:
        return None


def _when(value: str, naive_zone) -> dt.datetime:
    """The moment a cell gives; one without an offset is in `naive_zone`."""
    moment = _moment(value)
    if not moment:
        raise ValidationError(_("the date %(value)r is not a date (use DD/MM/YYYY or YYYY-MM-DD)") % {"value": value})
    return timezone.make_aware(moment, naive_zone) if timezone.is_naive(moment) else moment


NAMESPACE_BYTES = IMPORT_NAMESPACE.bytes


def name_based_id(name: str) -> str:
    """uuid.uuid5(IMPORT_NAMESPACE, name) as text, without building a UUID object (a
    tenth of the time spent on a row)."""
    digest = bytearray(hashlib.sha1(NAMESPACE_BYTES + name.encode(), usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _site_id(given: str, longitude: float, latitude: float, kind: str, name: str) -> tuple[str, bool]:
    """The row's site id, and whether the file gave it."""
    if given:
        try:
            return str(uuid.UUID(given.removeprefix("uuid:"))), True  # ODK's instanceID is "uuid:..."
        except ValueError:
            pass
    return name_based_id(f"{longitude:.6f}|{latitude:.6f}|{kind}|{name.lower()}"), False


def _row_checker(mapping: dict, words: dict | None = None, system: int = crs.WGS84):
    """A function from a file row to an ImportRow, raising ValidationError with the
    reason; the same rules as a registration through the services. `words` holds the
    person's own words for choices: {"kind": {"ao nuôi cá": "pond"}, ...}."""
    words = words or {}
    kinds, signages, barriers = (choice_reader(name, words.get(name)) for name in CHOICES)
    received_at = timezone.now()

    column = {key: mapping.get(key) for key in COLUMN_NAMES}
    utc = column["inspected_at"] and _find([column["inspected_at"]], UTC_COLUMNS)
    naive_zone = dt.UTC if utc else timezone.get_current_timezone()

    placed_by_outline = "geopoint" not in mapping and "latitude" not in mapping

    def check(row: dict) -> ImportRow:
        if OVERFLOW in row:
            raise ValidationError(
                _("the row has %(cells)d cells and the header %(columns)d columns: a comma (or the file's "
                  "separator) inside a value must be in quotes")
                % dict(zip(("cells", "columns"), row[OVERFLOW], strict=True))
            )  # fmt: skip
        outline, placed = None, False
        cell = _outline_cell(row, column["outline"])
        removed = _removes_outline(cell)
        if removed and (OUTLINE in row or DRAWN in row):
            raise ValidationError(
                _("the outline column says “%(value)s” but the row's geometry still draws an outline: delete the "
                  "outline (in QGIS, its feature in the outlines layer) or empty the cell") % {"value": cell}
            )  # fmt: skip
        if OUTLINE in row:
            outline, longitude, latitude = _outline(row[OUTLINE])
            placed = True
        elif cell and not removed:
            outline, longitude, latitude = _outline_text(cell)
            placed = placed_by_outline
            if not placed:  # the row's own point, which must lie on its outline
                longitude, latitude = _coordinates(row, mapping, system)
                services.check_outline(GEOSGeometry(outline), Point(longitude, latitude, srid=crs.WGS84))
        else:
            longitude, latitude = _coordinates(row, mapping, system)
        kind = kinds(_cell(row, column["kind"]) or "other")
        name = services.clean_name(_cell(row, column["name"]))
        signage, barrier = _cell(row, column["signage"]), _cell(row, column["barrier"])
        inspected_at = None
        if signage or barrier:
            signage = signages(signage or "none")
            barrier = barriers(barrier or "none")
            when = _cell(row, column["inspected_at"])
            inspected_at = _when(when, naive_zone) if when else received_at
        observed_at, suspect = services.counted_time(inspected_at, received_at) if inspected_at else (None, False)
        depth = _cell(row, column["depth_m"])
        site_id, given = _site_id(_cell(row, column["id"]), longitude, latitude, kind, name)
        return ImportRow(
            id=site_id,
            given=given,
            placed=placed,
            name=name,
            kind=kind,
            longitude=longitude,
            latitude=latitude,
            deep_water=_boolean(_cell(row, column["deep_water"]), True),
            depth_m=services.clean_depth(depth, "depth_m") if depth else None,
            responsible_party=services.clean_text(
                _cell(row, column["responsible_party"]), "responsible_party", _("responsible party")
            )[:200],
            notes=services.clean_text(_cell(row, column["notes"]), "notes", _("notes"), lines=True),
            signage=signage or None,
            barrier=barrier or None,
            inspected_at=inspected_at,
            observed_at=observed_at,
            clock_suspect=suspect,
            outline=outline,
            outline_removed=removed,
        )

    return check


def _reason(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" if k != "__all__" else " ".join(v) for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def row_problem(number: int, reason: str) -> str:
    return _("row %(n)d: %(problem)s") % {"n": number, "problem": reason}


# Rows per chunk: large enough for import_load's placing to pay (a boundary piece meets
# more of its points at once), small enough for progress to move.
PROGRESS_EVERY = 50_000


def _checked(source: SourceFile, check, given: list | None = None) -> Iterator[tuple[str, list, int]]:
    """(checked rows as COPY lines, problems, rows read so far) for every PROGRESS_EVERY
    rows; the rows whose id the file gives are added to `given` (row, ImportRow) as well."""
    lines, problems, read = [], [], 0
    for read, (number, row) in enumerate(source.rows(), start=1):
        try:
            checked = check(row)
            lines.append(copy_line(number, checked))
            if given is not None and checked.given:
                given.append((number, checked))
        except ValidationError as exc:
            problems.append((number, _reason(exc)))
        if read % PROGRESS_EVERY == 0:
            yield "".join(lines), problems, read
            lines, problems = [], []
    yield "".join(lines), problems, read


def import_steps(
    path: Path,
    *,
    actor,
    mapping: dict | None = None,
    words: dict | None = None,
    system: int | None = None,
    dry_run: bool = False,
    update: bool = False,
    sheet: str | None = None,
):
    """The import as a generator: yields (rows done, rows in all) every PROGRESS_EVERY rows
    and returns the ImportResult. Rows are checked here (a read-ahead thread checks the
    next rows while the database places and writes these: hazards/import_load.py), all
    in one transaction: any problem undoes the file; dry_run undoes it in any case.
    With `update`, rows naming a site already in the registry by its id change it
    (hazards/import_update.py) instead of being left as they are."""
    path = Path(path)
    source = read_file(path, system, sheet)
    mapping = {**guess_mapping(source.columns), **(mapping or {})}
    if "geopoint" not in mapping and "outline" not in mapping and not {"latitude", "longitude"} <= set(mapping):
        raise ImportFileError(
            [
                _("No coordinate columns: name them with --lat-column and --lon-column (columns: %(columns)s).")
                % {"columns": ", ".join(source.columns)}
            ]
        )
    missing = [c for c in mapping.values() if c not in source.columns]
    if missing:
        raise ImportFileError([_("No column named %(columns)s in the file.") % {"columns": ", ".join(missing)}])
    result = ImportResult(notices=source.notices + _notices(source.columns, mapping))
    problems: list[tuple[int, str]] = []
    # Staged on a connection of its own unless an enclosing transaction holds data (areas,
    # memberships) that another connection would not see yet (hazards/import_load.py).
    apart = not connection.in_atomic_block
    load = None
    try:
        with transaction.atomic():
            load = ImportLoad(actor, path.name, apart=apart, check=dry_run)
            # The file is read in one thread; apart, the chunks are staged in another, so
            # that reading, staging and writing each go on while the others wait.
            given: list | None = [] if update else None
            chunks = read_ahead(_checked(source, _row_checker(mapping, words, source.system), given))
            staged = load.staged(chunks, MAX_REPORTED)
            if apart:
                staged = read_ahead(staged)
            with closing(staged):
                for chunk, found, result.rows in staged:
                    problems += found
                    if not problems:
                        result.created += load.insert(chunk)
                    yield result.rows, max(source.count, result.rows)
                    if len(problems) >= MAX_REPORTED:
                        break
            if load.staging is not None:
                result.notices += [_near(*found) for found in load.staging.near]
            if not problems:
                load.finish(result.rows, result.created)
            load.close()
            if update and not problems:
                # After the load: its triggers are back to recording every change.
                updates = import_update.apply(actor=actor, rows=given, given=_given_fields(mapping))
                problems += updates.problems
                result.updated = updates.updated
                result.changes = [row_problem(n, text) for n, text in updates.changes[:MAX_CHANGES_LISTED]]
            if problems:
                result.problems = [row_problem(n, reason) for n, reason in sorted(problems)[:MAX_REPORTED]]
            else:
                result.unchanged = result.rows - result.created - result.updated
            if problems or dry_run:
                transaction.set_rollback(True)
    finally:
        if load is not None:
            load.discard()
    return result


def _given_fields(mapping: dict) -> set[str]:
    """The site details and states a file's columns give (an update changes only those)."""
    return {name for name in [*import_update.DETAILS, "signage", "barrier"] if name in mapping}


def _near(number: int, code: str | None, other: int | None, name: str, metres: int) -> str:
    """A row within the duplicate radius of a site of the same kind (its code) or of an
    earlier row of the file (its number)."""
    if code is None:
        return row_problem(
            number,
            _("%(metres)d m from row %(row)d “%(name)s” of this file, of the same kind: a duplicate?")
            % {"metres": metres, "row": other, "name": name},
        )
    return row_problem(
        number,
        _("%(metres)d m from %(code)s “%(name)s”, a site of the same kind already in the registry: a duplicate?")
        % {"metres": metres, "code": code, "name": name},
    )


def import_sites(
    path: Path,
    *,
    actor,
    mapping: dict | None = None,
    words: dict | None = None,
    system: int | None = None,
    progress=None,
    update: bool = False,
    sheet: str | None = None,
) -> ImportResult:
    steps = import_steps(path, actor=actor, mapping=mapping, words=words, system=system, update=update, sheet=sheet)
    while True:
        try:
            done, total = next(steps)
        except StopIteration as finished:
            return finished.value
        if progress:
            progress(done, total)

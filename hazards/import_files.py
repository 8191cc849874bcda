"""Reading the lists people bring for import into rows: CSV (their encoding and
delimiter found), XLSX (the sheet and the header row found), GeoJSON, GeoPackage and
Shapefile layers (streamed by ogr2ogr), KML and KMZ, each within the file limits
(hazards/file_limits.py). A row is the number people give it and its cells by column;
hazards/imports.py interprets them."""

import csv
import json
import logging
import re
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from pathlib import Path

from defusedxml import DefusedXmlException
from django.utils.translation import gettext as _
from openpyxl.utils.exceptions import InvalidFileException

from areas import crs, geojson_reader
from areas.geometry import MAX_OUTLINE_VERTICES
from areas.spatialfile import GEOJSON_SUFFIXES, SpatialFileError, foreign_crs, open_layer, open_source
from common import archives
from common.numbers import format_number

from . import file_limits, kml_reader, xlsx_reader, xml_stream
from .file_limits import TooLarge, too_many_rows
from .import_columns import guess_mapping, outline_cell, removes_outline

log = logging.getLogger(__name__)


class ImportFileError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


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
                        _("a row has %(count)s columns; the most one import takes is %(n)s")
                        % {"count": format_number(len(values)), "n": format_number(file_limits.MAX_COLUMNS)}
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
        _("it has %(count)s fields; the most one import takes is %(n)s")
        % {"count": format_number(count), "n": format_number(file_limits.MAX_COLUMNS)}
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
            if outline and removes_outline(outline_cell(properties, "outline")):
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
            _("%(n)s network links in the file were not followed: only its own placemarks are read.")
            % {"n": format_number(placemarks.network_links)}
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

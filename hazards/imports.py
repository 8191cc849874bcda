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
import subprocess
import tempfile
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from areas import geojson_reader
from areas.geometry import check_extent, not_a_point
from areas.spatialfile import GEOJSON_SUFFIXES, SpatialFileError, foreign_crs, open_layer

from . import archives, services
from .import_load import ImportLoad, ImportRow, copy_line
from .models import Barrier, Signage, SiteKind
from .readahead import read_ahead

# A fixed namespace: the same row of the same list always gets the same site id.
IMPORT_NAMESPACE = uuid.UUID("6f1c2a0e-3d5b-4c8e-9a7f-2b1d0c9e8f71")
MAX_REPORTED = 200

# Column names people use, lower-cased, for each field the registry needs.
COLUMN_NAMES = {
    "latitude": ["latitude", "lat", "vĩ độ", "vi do", "vido", "y"],
    "longitude": ["longitude", "lon", "lng", "long", "kinh độ", "kinh do", "kinhdo", "x"],
    "name": ["name", "tên", "ten", "ten_diem", "tên điểm", "site_name"],
    "kind": ["kind", "loại", "loai", "loai_diem", "type"],
    "id": ["id", "uuid", "_uuid"],
    "deep_water": ["deep_water", "nước sâu", "nuoc_sau"],
    "depth_m": ["depth_m", "depth", "độ sâu", "do_sau"],
    "signage": ["signage", "biển báo", "bien_bao"],
    "barrier": ["barrier", "rào chắn", "rao_chan"],
    "inspected_at": ["inspected_at", "ngày kiểm tra", "ngay_kiem_tra", "date", "_submission_time", "today"],
    "responsible_party": ["responsible_party", "chủ quản", "chu_quan", "owner"],
    "notes": ["notes", "ghi chú", "ghi_chu"],
}
KIND_WORDS = {
    "ao": SiteKind.POND, "hồ": SiteKind.LAKE, "ho": SiteKind.LAKE, "hồ chứa": SiteKind.LAKE, "đập": SiteKind.DAM,
    "dap": SiteKind.DAM, "kênh": SiteKind.CANAL, "kênh mương": SiteKind.CANAL, "mương": SiteKind.CANAL,
    "giếng": SiteKind.WELL, "gieng": SiteKind.WELL, "hố": SiteKind.PIT, "hố công trình": SiteKind.PIT,
    "hố khai thác": SiteKind.PIT, "bến sông": SiteKind.RIVER_LANDING, "công trình thủy lợi": SiteKind.IRRIGATION_WORKS,
    "khác": SiteKind.OTHER,
}  # fmt: skip
SIGNAGE_WORDS = {"có": Signage.IN_PLACE, "không": Signage.NONE, "hỏng": Signage.DAMAGED, "hư hỏng": Signage.DAMAGED}
BARRIER_WORDS = {"đầy đủ": Barrier.COMPLETE, "có": Barrier.COMPLETE, "một phần": Barrier.PARTIAL, "không": Barrier.NONE}
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
    rows: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class SourceFile:
    """An opened list: its columns, how many rows it holds, the number people give its
    first row (2 in a table under its header, 1 in a GIS layer) and its rows, read as
    they are used so a million-row file never sits in memory."""

    columns: list[str]
    count: int
    first_row: int
    rows: Callable[[], Iterator[dict]]


def _table_rows(names: list[str], body) -> Iterator[dict]:
    for values in body:
        values = list(values) + [None] * (len(names) - len(values))
        if all(v in (None, "") for v in values):
            continue
        yield {n: v for n, v in zip(names, values, strict=False) if n}


def _table_source(path: Path, table: Callable[[], Iterator]) -> SourceFile:
    """A table (rows of cells from `table()`, read afresh on each call) with a header row."""
    reader = table()
    header = next(reader, None)
    reader.close()  # the file (or workbook) is read again from the top for the rows
    if header is None:
        raise ImportFileError([_("%(file)s is empty.") % {"file": path.name}])
    names = [str(h or "").strip() for h in header]

    def rows():
        body = table()
        next(body)
        return _table_rows(names, body)

    return SourceFile(names, sum(1 for _row in rows()), 2, rows)


def _decoded(path: Path, lines: Iterator) -> Iterator:
    try:
        yield from lines
    except UnicodeDecodeError:
        raise ImportFileError(
            [_("%(file)s is not UTF-8 text: save it as “CSV UTF-8” and import it again.") % {"file": path.name}]
        ) from None
    except csv.Error as exc:  # a field over csv's limit (128 KB), a broken quote
        raise ImportFileError(
            [_("%(file)s cannot be read as CSV: %(error)s") % {"file": path.name, "error": exc}]
        ) from None


def _csv_source(path: Path) -> SourceFile:
    def table():
        with open(path, newline="", encoding="utf-8-sig") as handle:
            sample = handle.read(4096)
            handle.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:  # one column, or nothing to tell by: plain commas
                dialect = csv.excel
            yield from csv.reader(handle, dialect)

    return _table_source(path, lambda: _decoded(path, table()))


# openpyxl reads each part of a workbook but its sheets whole (the shared strings above
# all): none may be larger than this once inflated.
XLSX_MAX_PART_BYTES = 64 * 1024 * 1024
# What openpyxl raises for a file that is not a sound workbook (defusedxml's refusals of
# entity declarations are ValueErrors).
XLSX_ERRORS = (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, ParseError)


def _not_xlsx(path: Path) -> ImportFileError:
    return ImportFileError([_("%(file)s cannot be read as an Excel workbook (.xlsx).") % {"file": path.name}])


def _xlsx_checked(path: Path) -> None:
    """The workbook's zip is within the archive limits before openpyxl inflates any of it."""
    try:
        with archives.check(path) as archive:
            for info in archive.infolist():
                if not info.filename.startswith("xl/worksheets/") and info.file_size > XLSX_MAX_PART_BYTES:
                    raise archives.ArchiveError(
                        _("%(member)s is larger than %(limit)d MB: save the sheet as CSV and import that.")
                        % {"member": info.filename[:100], "limit": XLSX_MAX_PART_BYTES // 1_000_000}
                    )
    except archives.ArchiveError as exc:
        raise ImportFileError([f"{path.name}: {exc}"]) from None
    except zipfile.BadZipFile:
        raise _not_xlsx(path) from None


def _xlsx_source(path: Path) -> SourceFile:
    _xlsx_checked(path)

    def table():
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except XLSX_ERRORS:
            raise _not_xlsx(path) from None
        try:
            if book.active is None:
                raise _not_xlsx(path)
            yield from book.active.iter_rows(values_only=True)
        except XLSX_ERRORS:
            raise _not_xlsx(path) from None
        finally:
            book.close()

    return _table_source(path, table)


NOT_A_POINT = object()  # the key under which a layer row carries a geometry that is no point


def _members(value) -> dict:
    return value if isinstance(value, dict) else {}


def _layer_row(feature: dict, fields: list[str]) -> dict:
    """A GeoJSON feature as a row: its properties, and a point as longitude/latitude."""
    row = _members(feature.get("properties"))
    if "id" in fields and "id" not in row and "id" in feature:
        row["id"] = feature["id"]  # GDAL writes an "id" field as the feature's id member
    geometry = _members(feature.get("geometry"))
    if geometry.get("type") == "Point" and len(geometry.get("coordinates") or ()) >= 2:
        row["longitude"], row["latitude"] = geometry["coordinates"][:2]
    else:
        row[NOT_A_POINT] = geometry.get("type") or _("no geometry")
    return row


def _ogr_features(path: Path) -> Iterator[dict]:
    """The features of a GeoPackage or Shapefile layer, streamed by ogr2ogr as GeoJSON
    lines (one process, C speed; GDAL field by field from Python was slower, bench/NOTES.md)."""
    # Its messages go to a file: a full stderr pipe would stop ogr2ogr half way.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 - a fixed program; the path is the file being imported
            ["ogr2ogr", "-f", "GeoJSONSeq", "/vsistdout/", str(path)],  # noqa: S607 - gdal-bin, from the set-up
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        try:
            for line in process.stdout:
                yield json.loads(line)
            if process.wait() != 0:
                errors.seek(0)
                raise ImportFileError([f"{path.name}: {errors.read().decode(errors='replace').strip()}"])
        finally:
            process.kill()
            process.wait()
            process.stdout.close()


def _geojson_features(path: Path) -> Iterator[dict]:
    """The features of a GeoJSON file, read by areas/geojson_reader.py: ogr2ogr's
    conversion to GeoJSON lines cost as much as all the rest of the reading."""
    try:
        yield from geojson_reader.features(path)
    except geojson_reader.ForeignCRS as exc:
        raise ImportFileError(foreign_crs(path, exc.crs).problems) from None
    except geojson_reader.GeoJSONError as exc:
        raise ImportFileError(
            [_("%(file)s is not valid GeoJSON: it is cut short or malformed at character %(at)d.")
             % {"file": path.name, "at": exc.at}]
        ) from None  # fmt: skip
    except UnicodeDecodeError:
        raise ImportFileError([_("%(file)s is not UTF-8 text, as GeoJSON must be.") % {"file": path.name}]) from None


def _features_source(path: Path, fields: list[str], count: int, features) -> SourceFile:
    """A layer's rows: a point becomes longitude/latitude; anything else is reported on its row."""

    def rows():
        for feature in features(path):
            yield _layer_row(feature, fields)

    return SourceFile([*fields, "longitude", "latitude"], count, 1, rows)


def _layer_source(path: Path) -> SourceFile:
    """A GeoPackage or Shapefile layer: checked, counted and its fields listed through
    GDAL (areas/spatialfile.py), its features streamed by ogr2ogr."""
    try:
        layer = open_layer(path, None)
    except SpatialFileError as exc:
        raise ImportFileError(exc.problems) from None
    return _features_source(path, list(layer.fields), len(layer), _ogr_features)


def _geojson_source(path: Path) -> SourceFile:
    """A GeoJSON file, never opened by GDAL (areas/spatialfile.py says why): one pass of
    the registry's reader counts its features and lists their properties, with a
    feature's own id member as an "id" column, as GDAL listed them."""
    fields: dict[str, None] = {}
    count = 0
    for feature in _geojson_features(path):
        count += 1
        fields.update(dict.fromkeys(_members(feature.get("properties"))))
        if "id" in feature:
            fields.setdefault("id")
    if not count:
        raise ImportFileError([_("%(file)s has no features.") % {"file": path.name}])
    return _features_source(path, list(fields), count, _geojson_features)


SOURCES = {".csv": _csv_source, ".xlsx": _xlsx_source, ".gpkg": _layer_source, ".shp": _layer_source}
SOURCES.update(dict.fromkeys(GEOJSON_SUFFIXES, _geojson_source))


def read_file(path: Path) -> SourceFile:
    source = SOURCES.get(path.suffix.lower())
    if source is None:
        raise ImportFileError(
            [_("%(file)s: use a CSV, XLSX, GeoJSON, GeoPackage or Shapefile file.") % {"file": path.name}]
        )
    return source(path)


def _plain(column: str) -> str:
    """A column name as compared: lower case, without tone marks, "_" as a space; headers
    are often typed without Vietnamese input ("Ngay kiem tra", "bien_bao")."""
    letters = unicodedata.normalize("NFD", column.lower().strip().replace("đ", "d"))
    return "".join(c for c in letters if not unicodedata.combining(c)).replace("_", " ")


def guess_mapping(columns: list[str]) -> dict[str, str]:
    """Field -> column, from common names; a KoboToolbox/ODK geopoint column counts too."""
    plain = {_plain(c): c for c in reversed(columns)}  # the first of two alike columns wins
    mapping = {}
    for field_name, names in COLUMN_NAMES.items():
        found = next((plain[key] for key in map(_plain, names) if key in plain), None)
        if found:
            mapping[field_name] = found
    if "latitude" not in mapping:
        for column in columns:
            lower = column.lower()
            if lower.endswith("_latitude"):
                mapping["latitude"] = column
                mapping["longitude"] = column[: -len("_latitude")] + "_longitude"
            elif lower in ("geopoint", "_geolocation", "location", "vi_tri", "vị trí") or lower.endswith("geopoint"):
                mapping.setdefault("geopoint", column)
    return mapping


def _text(row, mapping, key) -> str:
    return _cell(row, mapping.get(key))


def _cell(row, column: str | None) -> str:
    value = row.get(column) if column else None
    text = "" if value is None else str(value).strip()
    if "\x00" in text:  # PostgreSQL stores no NUL character in text
        raise ValidationError(_("the column %(column)s holds a NUL character") % {"column": column})
    return text


def _coordinates(row, mapping) -> tuple[float, float]:
    """(longitude, latitude) of a row, checked to lie in the country."""
    if NOT_A_POINT in row:
        raise not_a_point(row[NOT_A_POINT])
    if "geopoint" in mapping and "latitude" not in mapping:
        parts = _text(row, mapping, "geopoint").replace(",", " ").split()
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
    check_extent(longitude, latitude, longitude, latitude)
    return longitude, latitude


def _words(words: dict, choices) -> dict[str, str]:
    """Every spelling a file may use for a choice: its value, its label in the current
    language, and the words people write, all lower-case."""
    return {**{str(label).lower(): key for key, label in choices.choices}, **words, **{v: v for v in choices.values}}


def _choice(value: str, spellings: dict, what: str) -> str:
    found = spellings.get(value.lower())
    if not found:
        raise ValidationError(_("unknown %(what)s %(value)r") % {"what": what, "value": value})
    return found


def _boolean(value: str, default: bool) -> bool:
    lowered = value.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return default if lowered == "" else False
    raise ValidationError(_("%(value)r is not yes or no") % {"value": value})


def _when(value: str) -> dt.datetime:
    # A bare date counts at noon, so it stays the same day in any time zone.
    try:
        day = parse_date(value) if len(value) == 10 else None
        moment = dt.datetime.combine(day, dt.time(12)) if day else parse_datetime(value)
    except ValueError:
        moment = None
    if not moment:
        raise ValidationError(_("the date %(value)r is not a date (use YYYY-MM-DD)") % {"value": value})
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


NAMESPACE_BYTES = IMPORT_NAMESPACE.bytes


def name_based_id(name: str) -> str:
    """uuid.uuid5(IMPORT_NAMESPACE, name) as text, without building a UUID object (a
    tenth of the time spent on a row)."""
    digest = bytearray(hashlib.sha1(NAMESPACE_BYTES + name.encode(), usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _site_id(given: str, longitude: float, latitude: float, kind: str, name: str) -> str:
    if given:
        try:
            return str(uuid.UUID(given))
        except ValueError:
            pass
    return name_based_id(f"{longitude:.6f}|{latitude:.6f}|{kind}|{name.lower()}")


def _row_checker(mapping: dict):
    """A function from a file row to an ImportRow, raising ValidationError with the
    reason; the same rules as a registration through the services."""
    kinds = _words(KIND_WORDS, SiteKind)
    signages, barriers = _words(SIGNAGE_WORDS, Signage), _words(BARRIER_WORDS, Barrier)
    what_kind, what_signage, what_barrier = _("kind"), _("signage state"), _("barrier state")
    received_at = timezone.now()

    column = {key: mapping.get(key) for key in COLUMN_NAMES}

    def check(row: dict) -> ImportRow:
        longitude, latitude = _coordinates(row, mapping)
        kind = _choice(_cell(row, column["kind"]) or "other", kinds, what_kind)
        name = services.clean_name(_cell(row, column["name"]))
        signage, barrier = _cell(row, column["signage"]), _cell(row, column["barrier"])
        inspected_at = None
        if signage or barrier:
            signage = _choice(signage or "none", signages, what_signage)
            barrier = _choice(barrier or "none", barriers, what_barrier)
            when = _cell(row, column["inspected_at"])
            inspected_at = _when(when) if when else received_at
        suspect = inspected_at is not None and services.device_clock_suspect(inspected_at, received_at)
        depth = _cell(row, column["depth_m"])
        return ImportRow(
            id=_site_id(_cell(row, column["id"]), longitude, latitude, kind, name),
            name=name,
            kind=kind,
            longitude=longitude,
            latitude=latitude,
            deep_water=_boolean(_cell(row, column["deep_water"]), True),
            depth_m=services.clean_depth(depth.replace(",", "."), "depth_m") if depth else None,
            responsible_party=_cell(row, column["responsible_party"])[:200],
            notes=_cell(row, column["notes"]),
            signage=signage or None,
            barrier=barrier or None,
            inspected_at=inspected_at,
            observed_at=received_at if suspect else inspected_at,
            clock_suspect=suspect,
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


def _checked(source: SourceFile, check) -> Iterator[tuple[str, list, int]]:
    """(checked rows as COPY lines, problems, rows read so far) for every PROGRESS_EVERY rows."""
    lines, problems, read = [], [], 0
    for read, row in enumerate(source.rows(), start=1):
        number = read - 1 + source.first_row
        try:
            lines.append(copy_line(number, check(row)))
        except ValidationError as exc:
            problems.append((number, _reason(exc)))
        if read % PROGRESS_EVERY == 0:
            yield "".join(lines), problems, read
            lines, problems = [], []
    yield "".join(lines), problems, read


def import_steps(path: Path, *, actor, mapping: dict | None = None, dry_run: bool = False):
    """The import as a generator: yields (rows done, rows in all) every PROGRESS_EVERY rows
    and returns the ImportResult. Rows are checked here (a read-ahead thread checks the
    next rows while the database places and writes these: hazards/import_load.py), all
    in one transaction: any problem undoes the file; dry_run undoes it in any case."""
    path = Path(path)
    source = read_file(path)
    mapping = {**guess_mapping(source.columns), **(mapping or {})}
    if "geopoint" not in mapping and not {"latitude", "longitude"} <= set(mapping):
        raise ImportFileError(
            [
                _("No coordinate columns: name them with --lat-column and --lon-column (columns: %(columns)s).")
                % {"columns": ", ".join(source.columns)}
            ]
        )
    missing = [c for c in mapping.values() if c not in source.columns]
    if missing:
        raise ImportFileError([_("No column named %(columns)s in the file.") % {"columns": ", ".join(missing)}])
    result = ImportResult()
    problems: list[tuple[int, str]] = []
    # Staged on a connection of its own unless an enclosing transaction holds data (areas,
    # memberships) that another connection would not see yet (hazards/import_load.py).
    apart = not connection.in_atomic_block
    load = None
    try:
        with transaction.atomic():
            load = ImportLoad(actor, path.name, apart=apart)
            # The file is read in one thread; apart, the chunks are staged in another, so
            # that reading, staging and writing each go on while the others wait.
            chunks = read_ahead(_checked(source, _row_checker(mapping)))
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
            if problems:
                result.problems = [row_problem(n, reason) for n, reason in sorted(problems)[:MAX_REPORTED]]
            else:
                load.finish(result.rows, result.created)
                result.unchanged = result.rows - result.created
            load.close()
            if problems or dry_run:
                transaction.set_rollback(True)
    finally:
        if load is not None:
            load.discard()
    return result


def import_sites(path: Path, *, actor, mapping: dict | None = None, progress=None) -> ImportResult:
    steps = import_steps(path, actor=actor, mapping=mapping)
    while True:
        try:
            done, total = next(steps)
        except StopIteration as finished:
            return finished.value
        if progress:
            progress(done, total)

"""Import of site lists that provinces already hold: CSV and XLSX with latitude/longitude
columns, GeoJSON, GeoPackage and Shapefile points, and KoboToolbox/ODK CSV exports (their
geopoint column). Every row goes through the same services as any other registration;
any bad row stops the whole file, and the report names each bad row and its reason.
Importing the same file again creates nothing new."""

import csv
import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.gis.gdal import DataSource, GDALException
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from . import services
from .models import Barrier, Signage, Site, SiteKind

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


def _rows_from_table(header: list, body) -> tuple[list[str], list[dict]]:
    names = [str(h or "").strip() for h in header]
    rows = []
    for values in body:
        values = list(values) + [None] * (len(names) - len(values))
        if all(v in (None, "") for v in values):
            continue
        rows.append({n: v for n, v in zip(names, values, strict=False) if n})
    return names, rows


def read_file(path: Path) -> tuple[list[str], list[dict]]:
    """Columns and rows of a file; points of a GIS layer become longitude/latitude."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as handle:
            sample = handle.read(4096)
            handle.seek(0)
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample else csv.excel
            table = list(csv.reader(handle, dialect))
        if not table:
            raise ImportFileError([_("%(file)s is empty.") % {"file": path.name}])
        return _rows_from_table(table[0], table[1:])
    if suffix == ".xlsx":
        sheet = load_workbook(path, read_only=True, data_only=True).active
        table = list(sheet.iter_rows(values_only=True))
        if not table:
            raise ImportFileError([_("%(file)s is empty.") % {"file": path.name}])
        return _rows_from_table(table[0], table[1:])
    if suffix in (".geojson", ".json", ".gpkg", ".shp"):
        try:
            layer = DataSource(str(path))[0]
        except (GDALException, IndexError):
            raise ImportFileError(
                [_("%(file)s: not a readable GeoJSON, GeoPackage or Shapefile.") % {"file": path.name}]
            ) from None
        if layer.srs is not None and layer.srs.srid not in (4326, 4979):
            raise ImportFileError(
                [_("%(file)s is not in WGS 84 (EPSG:4326); reproject it first.") % {"file": path.name}]
            )
        rows = []
        for feature in layer:
            row = {name: feature.get(name) for name in layer.fields}
            try:
                geom = feature.geom
                row["longitude"], row["latitude"] = (
                    (geom.x, geom.y) if geom.geom_type.name.startswith("Point") else (None, None)
                )
            except GDALException:
                row["longitude"] = row["latitude"] = None
            rows.append(row)
        return [*layer.fields, "longitude", "latitude"], rows
    raise ImportFileError(
        [_("%(file)s: use a CSV, XLSX, GeoJSON, GeoPackage or Shapefile file.") % {"file": path.name}]
    )


def guess_mapping(columns: list[str]) -> dict[str, str]:
    """Field -> column, from common names; a KoboToolbox/ODK geopoint column counts too."""
    lowered = {c.lower().strip(): c for c in columns}
    mapping = {}
    for field_name, names in COLUMN_NAMES.items():
        for name in names:
            if name in lowered:
                mapping[field_name] = lowered[name]
                break
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
    column = mapping.get(key)
    value = row.get(column) if column else None
    return "" if value is None else str(value).strip()


def _coordinates(row, mapping) -> Point:
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
    return Point(longitude, latitude, srid=4326)


def _choice(value: str, words: dict, choices, what: str) -> str:
    lowered = value.lower()
    if lowered in choices.values:
        return lowered
    labels = {str(label).lower(): key for key, label in choices.choices}
    found = words.get(lowered) or labels.get(lowered)
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
    moment = parse_datetime(value) or (
        parse_date(value[:10]) and dt.datetime.combine(parse_date(value[:10]), dt.time(12))
    )
    if not moment:
        raise ValidationError(_("the date %(value)r is not a date (use YYYY-MM-DD)") % {"value": value})
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _site_id(row, mapping, point: Point, kind: str, name: str) -> uuid.UUID:
    given = _text(row, mapping, "id")
    if given:
        try:
            return uuid.UUID(given)
        except ValueError:
            pass
    return uuid.uuid5(IMPORT_NAMESPACE, f"{point.x:.6f}|{point.y:.6f}|{kind}|{name.lower()}")


def _import_row(actor, row, mapping) -> bool:
    """Register one row (and its inspection, when it gives a state). False: already there."""
    point = _coordinates(row, mapping)
    kind = _choice(_text(row, mapping, "kind") or "other", KIND_WORDS, SiteKind, _("kind"))
    name = _text(row, mapping, "name")
    site_id = _site_id(row, mapping, point, kind, name)
    if Site.all_objects.filter(pk=site_id).exists():
        return False
    site = services.site_register(
        actor=actor,
        site_id=site_id,
        kind=kind,
        name=name,
        location=point,
        deep_water=_boolean(_text(row, mapping, "deep_water"), True),
        depth_m=_text(row, mapping, "depth_m").replace(",", ".") or None,
        responsible_party=_text(row, mapping, "responsible_party"),
        notes=_text(row, mapping, "notes"),
    )
    signage, barrier = _text(row, mapping, "signage"), _text(row, mapping, "barrier")
    if signage or barrier:
        when = _text(row, mapping, "inspected_at")
        services.inspection_record(
            actor=actor,
            site=site,
            inspected_at=_when(when) if when else timezone.now(),
            signage=_choice(signage or "none", SIGNAGE_WORDS, Signage, _("signage state")),
            barrier=_choice(barrier or "none", BARRIER_WORDS, Barrier, _("barrier state")),
            inspection_id=uuid.uuid5(site_id, "imported inspection"),
        )
    return True


PROGRESS_EVERY = 1000


def import_steps(path: Path, *, actor, mapping: dict | None = None, dry_run: bool = False):
    """The import as a generator: yields (rows done, rows in all) every PROGRESS_EVERY rows
    and returns the ImportResult. All or nothing: every row is tried in one transaction;
    any problem undoes the file. dry_run checks every row and keeps nothing."""
    columns, rows = read_file(Path(path))
    mapping = {**guess_mapping(columns), **(mapping or {})}
    if "geopoint" not in mapping and not {"latitude", "longitude"} <= set(mapping):
        raise ImportFileError(
            [
                _("No coordinate columns: name them with --lat-column and --lon-column (columns: %(columns)s).")
                % {"columns": ", ".join(columns)}
            ]
        )
    missing = [c for c in mapping.values() if c not in columns]
    if missing:
        raise ImportFileError([_("No column named %(columns)s in the file.") % {"columns": ", ".join(missing)}])
    result = ImportResult(rows=len(rows))
    first = 2 if Path(path).suffix.lower() in (".csv", ".xlsx") else 1  # the header is row 1 of a table
    with transaction.atomic():
        for index, row in enumerate(rows):
            try:
                with transaction.atomic():
                    if _import_row(actor, row, mapping):
                        result.created += 1
                    else:
                        result.unchanged += 1
            except ValidationError as exc:
                detail = (
                    "; ".join(
                        f"{k}: {' '.join(v)}" if k != "__all__" else " ".join(v) for k, v in exc.message_dict.items()
                    )
                    if hasattr(exc, "error_dict")
                    else " ".join(exc.messages)
                )
                result.problems.append(_("row %(n)d: %(problem)s") % {"n": index + first, "problem": detail})
            if (index + 1) % PROGRESS_EVERY == 0:
                yield index + 1, len(rows)
            if len(result.problems) >= MAX_REPORTED:
                break
        if result.problems or dry_run:
            transaction.set_rollback(True)
        if result.problems:
            result.created = result.unchanged = 0
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

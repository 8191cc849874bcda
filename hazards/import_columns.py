"""What the columns of a list brought for import mean: the registry's names for each field
in Vietnamese and English, with or without tone marks, KoboToolbox's and ODK's own
columns (a geopoint, their bookkeeping), and the word that removes a site's outline.
Read by the file readers (hazards/import_files.py) to find a header row, and by the
import (hazards/imports.py) to map columns to fields."""

import json
import re
import unicodedata

from . import exports

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
# What an outline cell says to remove the site's outline in update mode (a blank cell keeps
# it), compared as column names are (no case or tone marks: "Xóa", "xoá", "XOA"): an
# explicit word, so that "0", "-", "không" or an empty WKT cannot remove one by accident.
REMOVE_OUTLINE = ("xoa", "remove")


def removes_outline(text: str | None) -> bool:
    return text is not None and not text.lstrip().startswith("{") and plain_key(text) in REMOVE_OUTLINE


def outline_cell(row: dict, column: str | None) -> str | None:
    """An outline column's polygon as text: WKT (CSV, XLSX) or a GeoJSON geometry, as text
    or as the object a GeoJSON property holds."""
    value = row.get(column) if column else None
    if isinstance(value, dict):
        return json.dumps(value)
    text = "" if value is None else str(value).strip()
    return text or None


def word_key(text: str) -> str:
    """Text as words are compared: composed Unicode (Unikey's "tổ hợp" and macOS write
    letters and tone marks apart), lower case, "_" as a space, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).lower().replace("_", " ").split())


def plain_key(text: str) -> str:
    """word_key without tone marks: headers and choice names are often typed without
    Vietnamese input ("Ngay kiem tra", "bien_bao", "mot_phan")."""
    letters = unicodedata.normalize("NFD", word_key(text).replace("đ", "d"))
    return "".join(c for c in letters if not unicodedata.combining(c))


def _column_key(column: str) -> str:
    """A column name as compared: plain_key without a unit in brackets ("Độ sâu (m)"); a
    leading "_" is kept, as KoboToolbox's own columns (_id, _uuid) differ by it."""
    underscore = "_" if column.startswith("_") else ""
    return underscore + plain_key(re.sub(r"\(.*?\)", " ", column))


def _column_forms(column: str) -> list[str]:
    """The column's name, then its last part after a group: KoboToolbox writes
    "group_site/ten_diem", ODK Central "site-ten_diem" and "geo-Latitude"."""
    return [column, column.rsplit("/", 1)[-1], column.rsplit("-", 1)[-1]]


def find_column(columns: list[str], names: list[str]) -> str | None:
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
        found = find_column(columns, names)
        if found:
            mapping[field_name] = found
    if "latitude" not in mapping or "longitude" not in mapping:
        for half in ("latitude", "longitude"):
            mapping.pop(half, None)
        # Kobo's split geopoint ("_vi_tri_latitude", "_vi_tri_longitude"), else the geopoint
        latitude = next((c for c in columns if c.lower().endswith("_latitude")), None)
        geopoint = find_column(columns, GEOPOINT_NAMES) or next(
            (c for c in columns if c.lower().endswith("geopoint")), None
        )
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

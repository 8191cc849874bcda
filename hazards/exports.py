"""Export of the sites in scope with their current state: GeoJSON and CSV streamed
straight from a server-side cursor, XLSX written row by row, and GeoPackage, Shapefile
and KML converted by GDAL from our own GeoJSON. Memory stays flat whatever the count."""

import csv
import io
import json
import os
import subprocess
import tempfile
import zipfile
from pathlib import Path

from django.db.models import FloatField, Func
from django.utils import timezone
from openpyxl import Workbook

from .evidence import is_due


class X(Func):
    function = "ST_X"
    output_field = FloatField()


class Y(Func):
    function = "ST_Y"
    output_field = FloatField()


COLUMNS = [
    "id", "code", "name", "kind", "area_code", "area_name", "longitude", "latitude", "deep_water", "depth_m",
    "signage", "barrier", "protected", "due", "last_checked_at", "is_temporary", "active_from", "closed_at",
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
        "signage", "barrier", "last_checked_at", "is_temporary", "active_from", "closed_at", "close_reason",
        "responsible_party",
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
            "protected": site["signage"] == "in_place" and site["barrier"] == "complete",
            "due": site["closed_at"] is None and is_due(site["last_checked_at"], site["is_temporary"], now),
            "last_checked_at": site["last_checked_at"].isoformat() if site["last_checked_at"] else None,
            "is_temporary": site["is_temporary"],
            "active_from": site["active_from"].isoformat(),
            "closed_at": site["closed_at"].isoformat() if site["closed_at"] else None,
            "close_reason": site["close_reason"],
            "responsible_party": site["responsible_party"],
        }


def geojson_chunks(queryset):
    yield b'{"type": "FeatureCollection", "features": [\n'
    batch, first = [], True
    for row in rows(queryset):
        feature = {
            "type": "Feature",
            "id": row["id"],
            "geometry": {"type": "Point", "coordinates": [row["longitude"], row["latitude"]]},
            "properties": row,
        }
        batch.append(("" if first else ",\n") + json.dumps(feature, ensure_ascii=False))
        first = False
        if len(batch) >= CHUNK:
            yield "".join(batch).encode()
            batch = []
    yield ("".join(batch) + "\n]}\n").encode()


def csv_chunks(queryset):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    out.write("\ufeff")  # Excel reads Vietnamese names correctly with a byte-order mark
    writer.writeheader()
    for count, row in enumerate(rows(queryset), start=1):
        writer.writerow(row)
        if count % CHUNK == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()


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

"""Exports of the sites in scope: every format holds exactly the user's sites with their
current state, Vietnamese names intact; filters apply; nothing of other areas leaks."""

import csv
import datetime as dt
import io
import json
import re
import subprocess
import zipfile

import pytest
from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Role
from hazards import exports
from hazards.models import Barrier, CloseReason, Signage, SiteKind
from hazards.rules import SiteState
from tests.conftest import inside, job_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, demo_tree, make_user, make_site, inspect):
    client.force_login(make_user("nam", demo_tree["991"], Role.VIEWER))
    protected = make_site(demo_tree["99101"], name="Ao rào xong", kind="pond")
    inspect(protected, "2026-03-01T09:00", "in_place", "complete")
    make_site(demo_tree["99102"], name="Giếng làng", kind="well")
    make_site(demo_tree["99201"], name="Ao huyện khác")
    return client


def download(api, fmt, **params):
    response = api.get(reverse("site-export", args=[fmt]), params)
    if fmt in ("gpkg", "shp", "kml"):  # converted by GDAL: always made by the worker
        return job_file(api, response)
    assert response.status_code == 200, response.content[:300]
    body = b"".join(response.streaming_content) if response.streaming else b"".join(response)
    return response, body


def test_geojson_streams_the_sites_in_scope(api):
    response, body = download(api, "geojson")
    assert response.streaming
    features = json.loads(body)["features"]
    assert sorted(f["properties"]["name"] for f in features) == ["Ao rào xong", "Giếng làng"]
    protected = next(f for f in features if f["properties"]["name"] == "Ao rào xong")
    assert protected["properties"]["protected"] is True and protected["geometry"]["type"] == "Point"


def test_csv_and_xlsx(api):
    _response, body = download(api, "csv")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert sorted(r["name"] for r in rows) == ["Ao rào xong", "Giếng làng"]
    assert {r["area_code"] for r in rows} == {"99101", "99102"}
    _response, body = download(api, "xlsx")
    sheet = load_workbook(io.BytesIO(body)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][1] == "code" and len(values) == 3


@pytest.mark.parametrize(("fmt", "source"), [("gpkg", "{path}"), ("kml", "{path}"), ("shp", "/vsizip/{path}")])
def test_gis_formats_read_back_with_gdal(api, tmp_path, fmt, source):
    _response, body = download(api, fmt)
    path = tmp_path / f"sites.{'zip' if fmt == 'shp' else fmt}"
    path.write_bytes(body)
    out = tmp_path / "back.geojson"
    subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", out, source.format(path=path), "sites"], check=True, capture_output=True
    )
    # KML keeps the name as its own <name> element, which GDAL reads back as "Name".
    names = sorted(
        f["properties"].get("name") or f["properties"]["Name"] for f in json.loads(out.read_text())["features"]
    )
    assert names == ["Ao rào xong", "Giếng làng"]
    if fmt == "shp":
        assert {"sites.shp", "sites.dbf", "sites.prj", "sites.cpg"} <= set(zipfile.ZipFile(path).namelist())


def test_filters_apply_to_exports(api, tmp_path):
    _response, body = download(api, "geojson", state="protected")
    assert [f["properties"]["name"] for f in json.loads(body)["features"]] == ["Ao rào xong"]
    _state, body = download(api, "kml", state="protected")  # through the job too
    assert b"Ao r\xc3\xa0o xong" in body and "Giếng làng".encode() not in body
    assert api.get(reverse("site-export", args=["csv"]), {"kind": "volcano"}).status_code == 400


def test_exports_need_a_signed_in_user(client):
    assert client.get(reverse("site-export", args=["geojson"])).status_code == 401


@pytest.fixture
def early(api, demo_tree, make_site, inspect):
    """A check at 06:30 in Vietnam on 1 March: still 28 February in UTC."""
    site = make_site(demo_tree["99103"], name="Đập sớm", kind="dam", depth_m=4.5)
    inspect(site, "2026-03-01T06:30", "damaged", "partial")
    return site


def test_times_are_vietnam_time_in_every_format(api, early, tmp_path):
    _response, body = download(api, "csv", kind="dam")
    (row,) = csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
    assert row["last_checked_at"] == "2026-03-01T06:30:00+07:00"
    _response, body = download(api, "geojson", kind="dam")
    (feature,) = json.loads(body)["features"]
    assert feature["properties"]["last_checked_at"] == "2026-03-01T06:30:00+07:00"
    _response, body = download(api, "shp", kind="dam")
    (tmp_path / "sites.zip").write_bytes(body)
    back = ogr_json(tmp_path, "/vsizip/" + str(tmp_path / "sites.zip"))
    assert back["features"][0]["properties"]["checked_at"] == "2026-03-01"  # a Shapefile keeps the day only


def test_xlsx_cells_are_typed_and_the_fields_are_explained(api, early):
    _response, body = download(api, "xlsx", kind="dam")
    book = load_workbook(io.BytesIO(body))
    header, values = list(book["sites"].iter_rows(values_only=True))
    site = dict(zip(header, values, strict=True))
    assert site["last_checked_at"] == dt.datetime(2026, 3, 1, 6, 30)  # a date cell, Vietnam time
    # Active from its first observation (hazards.lifecycle), the inspection's day.
    assert site["active_from"] == dt.datetime(2026, 3, 1) and site["closed_at"] is None
    assert site["depth_m"] == 4.5 and isinstance(site["longitude"], float)
    assert site["deep_water"] is True and site["protected"] is False
    cells = next(book["sites"].iter_rows(min_row=2))
    assert cells[header.index("last_checked_at")].number_format == "dd/mm/yyyy hh:mm"
    fields = {name: meaning for name, _type, meaning in book["fields"].iter_rows(min_row=2, values_only=True)}
    assert list(fields) == list(header) and "(+07:00)" in fields["last_checked_at"]


def test_the_field_map_lists_every_value_a_field_may_hold(api):
    """The XLSX "fields" sheet (and the Shapefile's sites_fields.csv, from the same list)
    names each value of a field with choices, and its label, as the model's choices have
    them: a file read without our API says what a close reason of "drained" is."""
    _response, body = download(api, "xlsx")
    fields = {name: meaning for name, _type, meaning in load_workbook(io.BytesIO(body))["fields"].iter_rows(
        min_row=2, values_only=True)}  # fmt: skip
    for name, choices in [("kind", SiteKind), ("signage", Signage), ("barrier", Barrier), ("state", SiteState),
                          ("close_reason", CloseReason)]:  # fmt: skip
        assert [value for value in choices.values if f" {value} (" in fields[name]] == choices.values, name


def test_geojson_times_follow_the_registry_time_zone_its_days_follow(api, early):
    """The GeoJSON's times are written in the zone of the database's registry_time_zone(),
    the one every day in the file (registry_local_date) follows, not in a zone of its own."""
    with connection.cursor() as cursor:  # the test's transaction ends it
        cursor.execute(
            "CREATE OR REPLACE FUNCTION registry_time_zone() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'UTC' $$"
        )
    _response, body = download(api, "geojson", kind="dam")
    (feature,) = json.loads(body)["features"]
    assert feature["properties"]["last_checked_at"] == "2026-02-28T23:30:00+00:00"


def ogr_json(tmp_path, source) -> dict:
    out = tmp_path / "back.geojson"
    out.unlink(missing_ok=True)
    subprocess.run(["ogr2ogr", "-f", "GeoJSON", out, source, "sites"], check=True, capture_output=True)
    return json.loads(out.read_text())


def ogr_fields(path) -> dict[str, str]:
    info = subprocess.run(["ogrinfo", "-so", "-al", path], check=True, capture_output=True, text=True).stdout
    return dict(re.findall(r"^(\w+): ([\w()]+) \(", info, re.MULTILINE))


@pytest.mark.parametrize(("fmt", "source"), [("gpkg", "{path}"), ("shp", "/vsizip/{path}")])
def test_an_empty_export_keeps_its_fields_and_types(api, tmp_path, fmt, source):
    _response, body = download(api, fmt, kind="dam")  # none
    path = tmp_path / f"sites.{'zip' if fmt == 'shp' else fmt}"
    path.write_bytes(body)
    fields = ogr_fields(source.format(path=path))
    names = [f.shapefile if fmt == "shp" else f.name for f in exports.LAYER_FIELDS]
    assert list(fields) == names  # the outlines layer's id and code come after
    checked = "checked_at" if fmt == "shp" else "last_checked_at"
    assert (fields["depth_m"], fields["longitude"]) == ("Real", "Real")
    assert fields[checked] == ("Date" if fmt == "shp" else "DateTime")
    assert ogr_json(tmp_path, source.format(path=path))["features"] == []


def test_shapefile_names_are_unique_within_ten_characters_with_a_field_map(api, tmp_path):
    names = [f.shapefile for f in exports.FIELDS]
    assert len(set(names)) == len(names) and max(map(len, names)) <= 10
    _response, body = download(api, "shp")
    archive = zipfile.ZipFile(io.BytesIO(body))
    field_map = list(csv.reader(io.StringIO(archive.read("sites_fields.csv").decode("utf-8-sig"))))
    assert ["responsible_party", "resp_party"] in [row[:2] for row in field_map]
    (tmp_path / "s.zip").write_bytes(body)
    feature = next(
        f
        for f in ogr_json(tmp_path, f"/vsizip/{tmp_path / 's.zip'}")["features"]
        if f["properties"]["name"] == "Ao rào xong"
    )
    assert feature["properties"]["temporary"] is not None and feature["properties"]["checked_at"] == "2026-03-01"


def square_around(point, d=0.0003):
    x, y = point.coords
    return Polygon(((x - d, y - d), (x + d, y - d), (x + d, y + d), (x - d, y + d), (x - d, y - d)), srid=4326)


def test_outlines_appear_wherever_sites_do(client, demo_tree, make_user, make_site, tmp_path):
    """For a GIS user: the REST API and GeoJSON give the outline as a geometry, CSV and XLSX
    as WKT, GeoPackage and Shapefile as a second layer "outlines" joined on the site id."""
    client.force_login(make_user("nam", demo_tree["991"], Role.VIEWER))
    point = inside(demo_tree["99101"])
    pond = make_site(demo_tree["99101"], name="Ao có bờ", location=point, outline=square_around(point))
    make_site(demo_tree["99102"], name="Giếng làng", kind="well")

    def drawn(value):
        return GEOSGeometry(value if isinstance(value, str) else json.dumps(value), srid=4326)

    features = client.get(reverse("site-list")).json()["features"]
    by_name = {f["properties"]["name"]: f["properties"] for f in features}
    assert drawn(by_name["Ao có bờ"]["outline"]).equals_exact(pond.outline, 1e-7)
    assert by_name["Giếng làng"]["outline"] is None

    _response, body = download(client, "geojson")
    by_name = {f["properties"]["name"]: f["properties"] for f in json.loads(body)["features"]}
    assert drawn(by_name["Ao có bờ"]["outline"]).equals_exact(pond.outline, 1e-7)
    assert by_name["Giếng làng"]["outline"] is None

    _response, body = download(client, "csv")
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))}
    assert rows["Ao có bờ"]["outline"].startswith("POLYGON((")
    assert drawn(rows["Ao có bờ"]["outline"]).equals_exact(pond.outline, 1e-7) and rows["Giếng làng"]["outline"] == ""

    _response, body = download(client, "xlsx")
    header, *values = load_workbook(io.BytesIO(body))["sites"].iter_rows(values_only=True)
    rows = {row[header.index("name")]: row[header.index("outline")] for row in values}
    assert drawn(rows["Ao có bờ"]).equals_exact(pond.outline, 1e-7) and rows["Giếng làng"] is None

    for fmt, source in (("gpkg", "{path}"), ("shp", "/vsizip/{path}")):
        _state, body = download(client, fmt)
        path = tmp_path / f"export.{'zip' if fmt == 'shp' else fmt}"
        path.write_bytes(body)
        out = tmp_path / f"outlines-{fmt}.geojson"
        subprocess.run(["ogr2ogr", "-f", "GeoJSON", out, source.format(path=path), "outlines"], check=True)
        (feature,) = json.loads(out.read_text())["features"]
        assert feature["properties"] == {"id": str(pond.pk), "code": pond.code}
        assert drawn(feature["geometry"]).normalize(clone=True).equals_exact(pond.outline.normalize(clone=True), 1e-7)

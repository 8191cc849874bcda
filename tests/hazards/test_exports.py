"""Exports of the sites in scope: every format holds exactly the user's sites with their
current state, Vietnamese names intact; filters apply; nothing of other areas leaks."""

import csv
import io
import json
import subprocess
import zipfile

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Role

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


def test_filters_apply_to_exports(api):
    _response, body = download(api, "geojson", state="protected")
    assert [f["properties"]["name"] for f in json.loads(body)["features"]] == ["Ao rào xong"]
    assert api.get(reverse("site-export", args=["csv"]), {"kind": "volcano"}).status_code == 400


def test_exports_need_a_signed_in_user(client):
    assert client.get(reverse("site-export", args=["geojson"])).status_code == 401

"""No file that reaches the registry makes it open a network connection: a local socket
listens, files whose coordinate systems, links, sources and references point at it are
fed to every way in (the import page, import_sites, load_areas, load_places, photos),
and the socket must have received nothing. Every way is synchronous, so a connection
would have been accepted before the call returned."""

import io
import json
import socket
import sqlite3
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook
from PIL import Image, PngImagePlugin

from accounts.models import Role
from tests.conftest import inside

pytestmark = pytest.mark.django_db


class Listener:
    """A TCP socket on a free local port that records every connection made to it and
    closes it at once (so a client gives up instead of waiting for an answer)."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.seen: list[bytes] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                connection, _address = self.server.accept()
            except OSError:  # closed by stop()
                return
            with connection:
                connection.settimeout(2)
                try:
                    self.seen.append(connection.recv(200))
                except OSError:
                    self.seen.append(b"")

    def stop(self):
        self.server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone would not
        self.server.close()
        self.thread.join()


@pytest.fixture
def listener():
    found = Listener()
    yield found
    found.stop()


def point_feature(point, **properties):
    return {"type": "Feature", "properties": {"ten": "Ao", "loai": "ao", **properties}, "geometry": point}


def hostile_files(folder: Path, url: str, point) -> dict[str, Path]:
    """Files that name `url` in every place a reader might follow, by label."""
    lon, lat = point.coords
    geometry = {"type": "Point", "coordinates": [lon, lat]}
    files = {}

    def geojson(name, document):
        path = folder / name
        path.write_text(json.dumps(document))
        files[name] = path

    collection = {"type": "FeatureCollection", "features": [point_feature(geometry)]}
    geojson("crs-link.geojson", {**collection, "crs": {"type": "link", "properties": {"href": f"{url}/crs"}}})
    geojson("crs-name-url.geojson", {**collection, "crs": {"type": "name", "properties": {"name": f"{url}/crs"}}})
    # The crs after the features, where a streaming reader meets it last.
    geojson("crs-last.json", {**collection, "crs": {"type": "link", "properties": {"href": f"{url}/last"}}})
    with_geometry_crs = {**geometry, "crs": {"type": "link", "properties": {"href": f"{url}/geometry"}}}
    geojson("geometry-crs.geojson", {"type": "FeatureCollection", "features": [point_feature(with_geometry_crs)]})
    vrt = (
        f'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/vsicurl/{url}/vrt.geojson</SrcDataSource>'
        "</OGRVRTLayer></OGRVRTDataSource>"
    )
    kml = (
        '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<NetworkLink><Link><href>{url}/network.kml</href></Link></NetworkLink>"
        f"<Placemark><Point><coordinates>{lon},{lat}</coordinates></Point></Placemark></Document></kml>"
    )
    for name, text in [
        ("vrt.geojson", vrt),
        ("vrt.gpkg", vrt),
        ("vrt.shp", vrt),
        ("kml.geojson", kml),
        ("kml.gpkg", kml),
    ]:
        path = folder / name
        path.write_text(text)
        files[name] = path

    plain = folder / "plain.geojson"
    plain.write_text(json.dumps(collection))
    # A GeoPackage whose layer's spatial reference is defined by the URL.
    gpkg = folder / "srs-url.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(gpkg), str(plain)], check=True)
    with sqlite3.connect(gpkg) as database:
        database.execute(
            "INSERT INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, organization_coordsys_id, definition)"
            " VALUES ('x', 99999, 'NONE', 99999, ?)",
            (f"{url}/srs",),
        )
        database.execute("UPDATE gpkg_geometry_columns SET srs_id = 99999")
        database.execute("UPDATE gpkg_contents SET srs_id = 99999")
    files[gpkg.name] = gpkg
    # A GeoPackage layer that is a view calling GDAL's geocoder (its URL set to the socket).
    view = folder / "geocode-view.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", "-nln", "plain", str(view), str(plain)], check=True)
    with sqlite3.connect(view) as database:
        database.execute("CREATE VIEW v AS SELECT fid, geom, ogr_geocode('Hà Nội', 'lat') AS g FROM plain")
        database.execute("DELETE FROM gpkg_contents")
        database.execute("DELETE FROM gpkg_geometry_columns")
        database.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('v', 'features', 'v', 4326)"
        )
        database.execute("INSERT INTO gpkg_geometry_columns VALUES ('v', 'geom', 'POINT', 4326, 0, 0)")
    files[view.name] = view
    # A Shapefile whose .prj is the URL, alone and zipped.
    shape_dir = folder / "shape"
    shape_dir.mkdir()
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", str(shape_dir / "sites.shp"), str(plain)], check=True)
    (shape_dir / "sites.prj").write_text(f"{url}/prj")
    files["prj-url.shp"] = shape_dir / "sites.shp"
    archive = folder / "prj-url.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in shape_dir.iterdir():
            zipped.write(part, part.name)
        zipped.writestr("sites.vrt", vrt)  # a stray VRT beside it, never to be opened
    files[archive.name] = archive
    files["external.xlsx"] = _workbook(folder / "external.xlsx", url, point)
    csv = folder / "webservice.csv"
    csv.write_text(f'ten,loai,lat,lon,ghi_chu\nAo,ao,{lat},{lon},"=WEBSERVICE(""{url}/csv"")"\n')
    files[csv.name] = csv
    return files


def _workbook(path: Path, url: str, point) -> Path:
    """An XLSX with an external workbook link to the URL and an entity that names it."""
    book = Workbook()
    book.active.append(["ten", "loai", "lat", "lon"])
    book.active.append(["Ao", "ao", point.y, point.x])
    plain = io.BytesIO()
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b"<worksheet ", f'<!DOCTYPE worksheet [<!ENTITY far SYSTEM "{url}/entity">]><worksheet '.encode(), 1
                ).replace(b"<t>Ao</t>", b"<t>&far;</t>")
            elif item.filename == "xl/workbook.xml":
                data = data.replace(
                    b"</workbook>",
                    b'<externalReferences><externalReference r:id="rIdX"/></externalReferences></workbook>',
                )
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdX" Target="externalLinks/externalLink1.xml" Type="http://schemas.'
                    b'openxmlformats.org/officeDocument/2006/relationships/externalLink"/></Relationships>',
                )
            elif item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>',
                )
            target.writestr(item, data)
        target.writestr(
            "xl/externalLinks/externalLink1.xml",
            '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<externalBook r:id="rId1"><sheetNames><sheetName val="S"/></sheetNames></externalBook></externalLink>',
        )
        target.writestr(
            "xl/externalLinks/_rels/externalLink1.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            f'externalLinkPath" Target="{url}/book.xlsx" TargetMode="External"/></Relationships>',
        )
    return path


@pytest.fixture
def files(tmp_path, listener, demo_tree, monkeypatch):
    # Were GDAL ever to run its geocoder, it would ask the socket.
    monkeypatch.setenv("OGR_GEOCODE_SERVICE", "OSM_NOMINATIM")
    monkeypatch.setenv("OGR_GEOCODE_QUERY_TEMPLATE", f"{listener.url}/geocode?q=%s")
    return hostile_files(tmp_path, listener.url, inside(demo_tree["99101"]))


def assert_nothing_fetched(listener, outcomes):
    assert listener.seen == [], f"connections: {listener.seen}; outcomes: {outcomes}"


def test_the_listener_sees_a_connection(listener):
    """The proof is only as good as the socket: a real request does reach it."""
    with socket.create_connection(("127.0.0.1", int(listener.url.rsplit(":", 1)[1]))) as client:
        client.sendall(b"GET / HTTP/1.0\r\n\r\n")
        client.recv(10)  # returns when the listener has accepted and closed
    assert listener.seen == [b"GET / HTTP/1.0\r\n\r\n"]


def test_import_page_fetches_nothing(files, listener, demo_tree, make_user, settings, tmp_path):
    settings.IMPORT_UPLOAD_ROOT = tmp_path / "uploads"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_user("lan", demo_tree["99101"], Role.FIELD_WORKER))
    outcomes = {}
    for name, path in files.items():
        if path.suffix not in (".geojson", ".json", ".gpkg", ".zip", ".xlsx", ".csv"):
            continue
        response = client.post(reverse("import-upload"), {"file": SimpleUploadedFile(name, path.read_bytes())})
        statuses = [response.status_code]
        if response.status_code == 302:
            preview = client.get(response["Location"])
            statuses.append(preview.status_code)
            checked = client.post(response["Location"], {"latitude": "lat", "longitude": "lon", "action": "check"})
            statuses.append(checked.status_code)
            if checked.streaming:
                b"".join(checked.streaming_content)
        assert max(statuses) < 500, (name, statuses)
        outcomes[name] = statuses
    assert_nothing_fetched(listener, outcomes)


def test_import_command_fetches_nothing(files, listener, demo_tree, make_user):
    make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    outcomes = {}
    for name, path in files.items():
        if path.suffix == ".zip":
            continue
        try:
            call_command("import_sites", str(path), "--as-user", "lan", stdout=io.StringIO(), stderr=io.StringIO())
            outcomes[name] = "imported"
        except CommandError as exc:
            outcomes[name] = str(exc)[:80]
    assert_nothing_fetched(listener, outcomes)


@pytest.mark.parametrize("command", ["load_areas", "load_places"])
def test_loaders_fetch_nothing(files, listener, command):
    outcomes = {}
    for name, path in files.items():
        if path.suffix not in (".geojson", ".json", ".gpkg", ".shp"):
            continue
        extra = (
            ["--kind", "school"]
            if command == "load_places"
            else ["--code-field", "ten", "--name-field", "ten", "--level", "province"]
        )
        try:
            call_command(command, str(path), *extra, stdout=io.StringIO(), stderr=io.StringIO())
            outcomes[name] = "loaded"
        except CommandError as exc:
            outcomes[name] = str(exc)[:80]
    assert_nothing_fetched(listener, outcomes)


def test_photos_fetch_nothing(listener, demo_tree, make_user, make_site, inspect):
    """Pillow reads no link either: a PNG whose text and ICC name the socket, a JPEG whose
    XMP and comment do."""
    site = make_site(demo_tree["99101"])
    inspection = inspect(site, "2026-04-01T09:00")
    png_info = PngImagePlugin.PngInfo()
    png_info.add_text("XML:com.adobe.xmp", f'<x:xmpmeta><rdf:Description rdf:about="{listener.url}/xmp"/></x:xmpmeta>')
    png_info.add_itxt("Source", f"{listener.url}/itxt", zip=True)
    png, jpeg = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(png, format="PNG", pnginfo=png_info)
    Image.new("RGB", (40, 30), "blue").save(
        jpeg, format="JPEG", comment=f"{listener.url}/comment".encode(), xmp=f"{listener.url}/xmp".encode()
    )
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(worker)
    for number, (body, kind) in enumerate([(png.getvalue(), "image/png"), (jpeg.getvalue(), "image/jpeg")]):
        response = client.put(
            reverse("sync-photo", args=[f"00000000-0000-0000-0000-00000000000{number}"])
            + f"?inspection={inspection.pk}",
            body,
            content_type=kind,
            HTTP_CONTENT_DISPOSITION="attachment; filename=photo",
        )
        assert response.status_code == 201, response.content
    assert_nothing_fetched(listener, "photos")

"""What a file from outside may cost the server: a zip or a workbook is measured by what
it declares before anything is inflated, and copied out in blocks; a photo may declare
only as many pixels as its size makes believable, is decoded once, and keeps no
metadata at all."""

import base64
import html
import io
import json
import os
import re
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import uuid
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook
from PIL import Image, ImageCms, PngImagePlugin

from accounts.models import Role
from common import archives
from hazards import file_limits, import_files, uploads, xml_stream
from hazards.photos import process_photo
from tests.conftest import run_queued_jobs
from tests.hazards.test_sync_api import png_declaring
from tests.security.camera_photo import APP0, APP15, COM, jpeg_markers

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture
def worker_client(demo_tree, make_user, settings, tmp_path):
    settings.IMPORT_UPLOAD_ROOT = tmp_path / "imports"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_user("lan", demo_tree["99101"], Role.FIELD_WORKER))
    return client


def zip_bytes(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def peak_python_memory(action) -> int:
    """The most memory Python objects took while `action` ran, in bytes."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_zip_bomb_is_refused_before_it_is_inflated(worker_client):
    # 200 KB that would inflate to 200 MB: the review's 298 KB zip cost 600 MB of memory.
    bomb = zip_bytes({"sites.shp": b"\x00\x00\x27\x0a" + bytes(96), "sites.dbf": bytes(200 * MB)})
    assert len(bomb) < 400_000

    def send():
        response = worker_client.post(reverse("import-upload"), {"file": SimpleUploadedFile("bomb.zip", bomb)})
        assert response.status_code == 400
        assert "refused as a zip bomb" in response.content.decode()

    assert peak_python_memory(send) < 20 * MB


def test_a_zip_unpacking_beyond_the_limit_is_refused(worker_client, monkeypatch):
    monkeypatch.setattr(archives, "MAX_TOTAL_BYTES", 3 * MB)
    big = zip_bytes({"sites.shp": os.urandom(2 * MB), "sites.dbf": os.urandom(2 * MB)}, zipfile.ZIP_STORED)
    response = worker_client.post(reverse("import-upload"), {"file": SimpleUploadedFile("big.zip", big)})
    assert response.status_code == 400 and "would unpack to 4 MB; the limit is 3 MB" in response.content.decode()


def test_a_zip_of_too_many_members_is_refused_by_its_end_record(worker_client):
    many = zip_bytes({f"part{n}.txt": b"" for n in range(archives.MAX_MEMBERS + 1)}, zipfile.ZIP_STORED)
    response = worker_client.post(reverse("import-upload"), {"file": SimpleUploadedFile("many.zip", many)})
    assert response.status_code == 400 and "too many files" in response.content.decode()


def test_allowed_members_are_copied_in_blocks(settings, tmp_path, make_user, demo_tree):
    settings.IMPORT_UPLOAD_ROOT = tmp_path
    person = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    data = os.urandom(24 * MB)
    archive = zip_bytes({"sites.shp": b"\x00\x00\x27\x0a", "sites.dbf": data, "notes.vrt": b"<x/>"}, zipfile.ZIP_STORED)
    upload = SimpleUploadedFile("sites.zip", archive)
    stored = []
    peak = peak_python_memory(lambda: stored.append(uploads._store(upload, person)))
    assert peak < 8 * MB
    shape = stored[0]
    assert shape.name == "sites.shp" and (shape.parent / "sites.dbf").read_bytes() == data
    assert not (shape.parent / "notes.vrt").exists()  # only the Shapefile's own parts leave the zip


def test_a_workbook_bomb_is_refused_before_openpyxl_reads_it(tmp_path):
    book = Workbook()
    book.active.append(["lat", "lon"])
    plain = io.BytesIO()
    book.save(plain)
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("xl/sharedStrings.xml", b" " * (80 * MB))
    peak = []

    def read():
        with pytest.raises(import_files.ImportFileError) as refused:
            import_files.read_file(path)
        peak.append(refused.value.problems)

    assert peak_python_memory(read) < 20 * MB
    assert "refused as a zip bomb" in peak[0][0]


def workbook_declaring_an_entity() -> bytes:
    """A workbook whose sheet declares an entity (defusedxml refuses it)."""
    book = Workbook()
    book.active.append(["ten", "lat", "lon"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<worksheet ", b'<!DOCTYPE worksheet [<!ENTITY a "aaaa">]><worksheet ', 1)
            target.writestr(item, data)
    return out.getvalue()


def kmz_damaged_at(offset: int) -> bytes:
    """A KMZ of many placemarks whose deflated doc.kml is overwritten at `offset` of it:
    zlib cannot inflate it (at 0) or its CRC does not match (further on)."""
    marks = b"".join(b"<Placemark><name>Ao %d</name></Placemark>" % n for n in range(2000))
    body = bytearray(zip_bytes({"doc.kml": b"<kml><Document>" + marks + b"</Document></kml>"}))
    start = 30 + len("doc.kml") + offset  # after the member's local header
    body[start : start + 2] = b"\xff\xff"
    return bytes(body)


XXE_KML = b"""<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<kml><Placemark><name>&x;</name></Placemark></kml>"""
ENTITIES = ("it declares a document type or entities (<!DOCTYPE …>), which are not accepted",
            "tệp khai báo kiểu tài liệu hoặc thực thể (<!DOCTYPE …>), là điều không được chấp nhận")  # fmt: skip
DAMAGED_ZIP = ("the archive is damaged or cut short", "tệp nén bị hỏng hoặc bị cắt cụt")
# The words of the libraries behind the readers, which a person cannot act on.
LIBRARY_WORDS = re.compile(r"Forbidden|system_id|Error|error -|CRC|field limit|not well-formed|mismatched tag|\(\w+=")


@pytest.mark.parametrize(
    ("name", "body", "english", "vietnamese"),
    [
        ("broken.xlsx", b"PK\x03\x04 not really", "cannot be read as an Excel workbook", "Không đọc được"),
        ("entities.xlsx", workbook_declaring_an_entity(), *ENTITIES),
        ("xxe.kml", XXE_KML, *ENTITIES),
        ("broken.kml", b"<kml>\n<Placemark><name>Ao</Placemark></kml>", "its XML is broken or cut short at line 2",
         "XML của tệp bị hỏng hoặc bị cắt cụt ở dòng 2"),
        ("inflate.kmz", kmz_damaged_at(0), *DAMAGED_ZIP),
        ("crc.kmz", kmz_damaged_at(400), *DAMAGED_ZIP),
        ("big-field.csv", b"ten,lat,lon\n" + b'"' + b"x" * 200_000 + b'",21,105\n',
         "a quoted cell is not closed, or is longer than 131,072 characters", "dài hơn 131.072 ký tự"),
        # More digits than int() converts (4,300): a ValueError of its own, a 500 (pentest 6).
        ("long-number.geojson", b'{"type": "Feature", "geometry": null, "properties": {"n": ' + b"9" * 5000 + b"}}",
         "is not valid GeoJSON: it is cut short or malformed at character", "không phải GeoJSON hợp lệ"),
    ],
)  # fmt: skip
def test_a_refused_file_is_told_in_words_a_person_can_act_on(worker_client, name, body, english, vietnamese):
    """A file the readers refuse is told as a sentence, in the person's language, not in
    the words of the library that refused it: a KML declaring an entity was refused with
    "EntitiesForbidden(name='x', system_id='file:///etc/passwd'…)" (pentest I9), and a KMZ
    whose deflated data zlib could not inflate answered 500."""
    for language, message in (("en", english), ("vi", vietnamese)):
        response = worker_client.post(
            reverse("import-upload"), {"file": SimpleUploadedFile(name, body)}, HTTP_ACCEPT_LANGUAGE=language
        )
        if response.status_code == 302:
            response = worker_client.get(response["Location"], HTTP_ACCEPT_LANGUAGE=language)
        problems = " ".join(response.context["problems"])
        assert response.status_code == 400 and message in problems, problems
        assert not LIBRARY_WORDS.search(problems), problems


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@pytest.fixture
def api(demo_tree, make_user, make_site, inspect):
    site = make_site(demo_tree["99101"])
    inspection = inspect(site, "2026-04-01T09:00")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_user("lan", demo_tree["99101"], Role.FIELD_WORKER))

    def put(body: bytes, content_type="image/png"):
        url = reverse("sync-photo", args=[uuid.uuid4()]) + f"?inspection={inspection.pk}"
        return client.put(url, body, content_type=content_type, HTTP_CONTENT_DISPOSITION="attachment; filename=p")

    return put


def test_a_photo_may_not_declare_more_pixels_than_its_size_makes_believable(api):
    bomb = png_declaring(7071, 7071)  # the review's file: 50 megapixels in a few bytes
    response = api(bomb)
    assert response.status_code == 400 and response.json()["code"] == "too_many_pixels"
    assert "too many pixels for a file of" in response.json()["detail"]
    # A plain image of a few megapixels is fine, however well it compresses.
    plain = io.BytesIO()
    Image.new("L", (2000, 1500)).save(plain, format="PNG")
    assert len(plain.getvalue()) < 10_000
    assert api(plain.getvalue()).status_code == 201


def test_a_png_with_a_huge_compressed_text_chunk_is_refused_not_a_server_error(api):
    plain = io.BytesIO()
    Image.new("RGB", (10, 10)).save(plain, format="PNG")
    data = plain.getvalue()
    text = png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"a" * 20_000_000))
    response = api(data[:33] + text + data[33:])
    assert response.status_code == 400 and response.json()["code"] == "damaged"


def _exif_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turned
    exif[0x8825] = {1: "N", 2: (21.0, 1.0, 2.0), 3: "E", 4: (105.0, 50.0, 3.0)}
    return exif.tobytes()


def source_photos() -> dict[str, bytes]:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    image = Image.new("RGB", (64, 48), "green")
    jpeg, png, webp = io.BytesIO(), io.BytesIO(), io.BytesIO()
    image.save(jpeg, format="JPEG", exif=_exif_with_gps(), comment=b"Ao nha ong Ba, 21.03N", icc_profile=icc, xmp=xmp)
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "Ao nha ong Ba")
    info.add_itxt("XML:com.adobe.xmp", xmp.decode(), zip=True)
    image.save(png, format="PNG", pnginfo=info, icc_profile=icc, exif=_exif_with_gps())
    image.save(webp, format="WEBP", exif=_exif_with_gps(), icc_profile=icc, xmp=xmp)
    return {"jpeg": jpeg.getvalue(), "png": png.getvalue(), "webp": webp.getvalue()}


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp"])
def test_stored_photos_and_thumbnails_keep_no_metadata_at_all(kind):
    processed = process_photo(source_photos()[kind])
    for stored in (processed.image, processed.thumbnail):
        markers = jpeg_markers(stored)
        # Only the JFIF header (APP0) among the application segments, and no comment.
        assert [m for m in markers if APP0 <= m <= APP15] == [APP0], [hex(m) for m in markers]
        assert COM not in markers
        with Image.open(io.BytesIO(stored)) as image:
            assert not image.getexif() and "icc_profile" not in image.info and "comment" not in image.info
    if kind == "jpeg":  # turned upright from its orientation tag
        assert (processed.width, processed.height) == (48, 64)


MEASURE = textwrap.dedent(
    """
    import json, os, resource, sys
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    import django
    django.setup()
    from hazards.photos import process_photo
    data = open(sys.argv[1], "rb").read()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    processed = process_photo(data)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"grown_kb": after - before, "size": [processed.width, processed.height]}))
    """
)


def _camera_jpeg(path):
    Image.effect_noise((6000, 4000), 60).convert("RGB").save(path, format="JPEG", quality=80, exif=_exif_with_gps())


def _smooth_png(path):
    """24 megapixels in 12 MB: smooth enough to pass the pixels-per-byte bound."""
    ramp = Image.linear_gradient("L").resize((6000, 4000))
    grain = Image.effect_noise((1500, 1000), 8).resize((6000, 4000))
    Image.merge("RGB", (ramp, grain, ramp)).save(path, format="PNG")


@pytest.mark.parametrize(("make", "stored"), [(_camera_jpeg, [1707, 2560]), (_smooth_png, [2560, 1707])])
def test_a_large_photo_is_decoded_once(tmp_path, settings, make, stored):
    """A 24-megapixel photo costs at most one decoded copy (72 MB in RGB) and the smaller
    images made from it, not a copy per step (it was 4.8 copies); measured in a fresh
    process. A JPEG is even decoded at half size."""
    path = tmp_path / "photo"
    make(path)
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], capture_output=True, check=True, cwd=settings.BASE_DIR
    )
    measured = json.loads(result.stdout)
    assert measured["size"] == stored  # upright, shrunk to the stored size
    one_copy_kb = 6000 * 4000 * 3 // 1024
    assert measured["grown_kb"] < 2 * one_copy_kb, measured


# What a file sent to the import may cost (pentest F7): every reader streams within
# hazards/file_limits.py, and a file beyond them is refused with a message naming the limit.
KML_HEAD = b'<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
PLACEMARK = b"<Placemark><name>Ao</name><Point><coordinates>105.5,21.5</coordinates></Point></Placemark>"


def kml_with(junk: bytes, inside: bytes = b"") -> bytes:
    placemark = PLACEMARK.replace(b"<name>", inside + b"<name>")
    return KML_HEAD + junk + placemark + b"</Document></kml>"


def workbook_with(junk: bytes = b"", dimension: bytes | None = None) -> bytes:
    """A two-row sheet, `junk` at the start of its sheetData (the review's junk.xlsx)."""
    book = Workbook()
    book.active.append(["name", "lat", "lon"])
    book.active.append(["Ao", 21.5, 105.5])
    plain, out = io.BytesIO(), io.BytesIO()
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + junk, 1)
                if dimension is not None:
                    data = re.sub(rb"<dimension[^>]*/>", dimension, data)
            target.writestr(item, data)
    return out.getvalue()


def read_whole(path) -> int:
    """Reads a file as the import does (its count, then its rows); how many rows."""
    return sum(1 for _row in import_files.read_file(path).rows())


def refused_on_the_page(client, name: str, body: bytes) -> str:
    response = client.post(reverse("import-upload"), {"file": SimpleUploadedFile(name, body)})
    if response.status_code == 302:
        response = client.get(response["Location"])
    assert response.status_code == 400, response.status_code
    return html.unescape(response.content.decode())


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("junk.kml", kml_with(b"<x/>" * 200_000)),
        ("junk-nested.kml", kml_with(b"<Folder>" + b"<x a='1'>y</x>" * 100_000 + b"</Folder>")),
        ("junk.xlsx", workbook_with(b"<x/>" * 200_000)),
        ("junk-no-dimension.xlsx", workbook_with(b"<x/>" * 200_000, dimension=b"")),
    ],
)
def test_xml_between_the_rows_costs_no_memory(tmp_path, monkeypatch, name, body):
    """Elements that are no placemark or sheet row are dropped as they are parsed: 200,000
    of them held 16-25 MB (the review's 4 million, 355 MB), now under 2 MB, measured with
    the count of them let through."""
    path = tmp_path / name
    path.write_bytes(body)
    monkeypatch.setattr(file_limits, "MAX_ELEMENTS_OUTSIDE_ROWS", 10**9)
    rows = []
    assert peak_python_memory(lambda: rows.append(read_whole(path))) < 2 * MB
    assert rows == [1]


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("junk.kml", kml_with(b"<x/>" * 100_001), "junk.kml: it holds more than 100,000 XML elements outside its rows."),
        ("junk.xlsx", workbook_with(b"<x/>" * 100_001), "junk.xlsx: it holds more than 100,000 XML elements outside"),
        ("in-placemark.kml", kml_with(b"", b"<x/>" * 5_001), "its row 1 holds more than 5,000 XML elements"),
        ("long-text.kml", kml_with(b"", b"<description>" + b"a" * 1_000_001 + b"</description>"),
         "it holds a text longer than 1,000,000 characters"),
        ("wide.xlsx", workbook_with(b'<row r="1"><c r="ALM1"><v>1</v></c></row>'),
         "its row 1 reaches column 1,001; the most one import takes is 1,000"),
        ("long-line.csv", b"name,lat,lon\n" + b"a" * (MB + 1) + b"\n", "its line 2 is longer than 1,048,576 characters"),
        ("wide.csv", b"name,lat,lon\n" + b",".join([b"1"] * 1001) + b"\n",
         "a row has 1,001 columns; the most one import takes is 1,000"),
        ("big-polygon.geojson",
         json.dumps({"type": "Feature", "properties": {}, "geometry": {
             "type": "Polygon", "coordinates": [[[105.5 + i * 1e-7, 21.5] for i in range(100_000)]]}}).encode(),
         "its feature 1 takes more than 1,048,576 characters as GeoJSON (an outline may have at most 5,000 vertices)"),
    ],
)  # fmt: skip
def test_files_beyond_the_limits_are_refused_naming_the_limit(worker_client, name, body, message):
    assert message in refused_on_the_page(worker_client, name, body)


def test_a_kmz_may_unpack_to_no_more_than_a_kml_may_be_sent(worker_client, monkeypatch):
    monkeypatch.setattr(file_limits, "MAX_FILE_BYTES", MB)
    kmz = zip_bytes({"doc.kml": kml_with(b"<!--" + os.urandom(MB // 2).hex().encode() + b"-->")})
    page = refused_on_the_page(worker_client, "big.kmz", kmz)
    assert "doc.kml would unpack to more than 1 MB, the most one import takes" in page


def test_a_zipped_shapefile_may_unpack_to_no_more_than_a_file_may_be_sent(worker_client, monkeypatch):
    monkeypatch.setattr(file_limits, "MAX_FILE_BYTES", MB)
    parts = {"a.shp": os.urandom(MB // 3).hex().encode(), "a.dbf": os.urandom(MB // 3).hex().encode(), "a.shx": b""}
    page = refused_on_the_page(worker_client, "a.zip", zip_bytes(parts))
    assert "a.shp would unpack to more than 1 MB, the most one import takes" in page


def test_a_worksheet_is_held_to_the_file_limit_too(tmp_path, monkeypatch):
    """Worksheets were exempt from the part limit (the review's junk.xlsx)."""
    monkeypatch.setattr(file_limits, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(workbook_with(b"<x/>" * 1000))
    with pytest.raises(import_files.ImportFileError) as refused:
        import_files.read_file(path)
    assert "xl/worksheets/sheet1.xml is larger than 0 MB" in refused.value.problems[0]


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "geojson", "kml", "gpkg"])
def test_rows_beyond_the_most_one_import_takes_are_refused_while_streaming(tmp_path, monkeypatch, suffix):
    monkeypatch.setattr(file_limits, "MAX_ROWS", 3)
    points = [(105.5 + n / 1000, 21.5) for n in range(4)]
    path = tmp_path / f"rows.{suffix}"
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": f"Ao {n}"}, "geometry": {"type": "Point", "coordinates": p}}
        for n, p in enumerate(points)]}  # fmt: skip
    if suffix == "csv":
        path.write_text("name,lat,lon\n" + "".join(f"Ao,{y},{x}\n" for x, y in points))
    elif suffix == "xlsx":
        book = Workbook()
        for row in [["name", "lat", "lon"], *[["Ao", y, x] for x, y in points]]:
            book.active.append(row)
        book.save(path)
    elif suffix == "kml":
        path.write_bytes(KML_HEAD + PLACEMARK * 4 + b"</Document></kml>")
    else:
        (tmp_path / "rows.geojson").write_text(json.dumps(collection))
        if suffix == "gpkg":
            subprocess.run(["ogr2ogr", "-f", "GPKG", path, tmp_path / "rows.geojson"], check=True)
    with pytest.raises(import_files.ImportFileError) as refused:
        read_whole(path)
    assert f"rows.{suffix}: it holds more than 3 rows, the most one import takes: split it." in refused.value.problems


def test_a_geopackage_feature_longer_than_a_row_may_be_is_refused_before_it_is_decoded(tmp_path, monkeypatch):
    ring = [[105.5 + i * 1e-6, 21.5 + (i % 2) * 1e-6] for i in range(2000)]
    feature = {"type": "Feature", "properties": {"name": "Ao"}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
    (tmp_path / "big.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    subprocess.run(["ogr2ogr", "-f", "GPKG", tmp_path / "big.gpkg", tmp_path / "big.geojson"], check=True)
    monkeypatch.setattr(file_limits, "MAX_ROW_BYTES", 10_000)
    with pytest.raises(import_files.ImportFileError) as refused:
        read_whole(tmp_path / "big.gpkg")
    assert "big.gpkg: its feature 1 takes more than 10,000 characters as GeoJSON" in refused.value.problems[0]


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("long-line.csv", b"name,lat,lon\n" + b"a," * (4 * MB) + b"\n"),
        ("big-polygon.geojson", json.dumps({"type": "Polygon", "coordinates": [[[105.5, 21.5]] * 800_000]}).encode()),
    ],
)
def test_a_refused_row_is_refused_before_it_is_held(tmp_path, name, body):
    """A CSV line of 4 million fields, or the review's GeoJSON polygon of 800,000 vertices
    (12 MB here; it cost 86 MB), is refused having decoded no more than a row may hold."""
    path = tmp_path / name
    path.write_bytes(body)

    def read():
        with pytest.raises(import_files.ImportFileError):
            read_whole(path)

    assert peak_python_memory(read) < 32 * MB


@pytest.mark.parametrize(
    "part", ["[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"]
)
def test_workbook_parts_openpyxl_reads_whole_are_counted_first(worker_client, part):
    """openpyxl reads these whole at about 30 µs an element: 2.5 million junk elements in
    the 10 MB the part limit allowed cost 80 s of CPU; now the part's elements are counted
    first, and beyond what a real workbook holds it is refused naming the part."""
    book = Workbook()
    book.active.append(["name", "lat", "lon"])
    plain, out = io.BytesIO(), io.BytesIO()
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == part:
                opening = data.index(b">", data.index(b"?>") + 2 if data.startswith(b"<?xml") else 0) + 1
                data = data[:opening] + b"<x/>" * 20_001 + data[opening:]
            target.writestr(item, data, zipfile.ZIP_STORED)
    page = refused_on_the_page(worker_client, "parts.xlsx", out.getvalue())
    assert f"parts.xlsx: {part} holds more than 20,000 XML elements." in page


def test_the_workbook_part_is_held_to_its_limit_wherever_the_zip_puts_it(worker_client):
    """openpyxl finds the workbook by the package's relationships, not by its name: moved
    under xl/worksheets/, it had the sheets' 200 MB allowance and was read whole (pentest
    N1: a 6 MB file cost 268 MB and 21 s)."""
    book = Workbook()
    book.active.append(["name", "lat", "lon"])
    book.active.append(["Ao", 21.5, 105.5])
    plain, out = io.BytesIO(), io.BytesIO()
    book.save(plain)
    moved = "xl/worksheets/workbook.xml"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            name, data = item.filename, source.read(item.filename)
            if name in ("[Content_Types].xml", "_rels/.rels"):
                data = data.replace(b"xl/workbook.xml", moved.encode())
            elif name == "xl/_rels/workbook.xml.rels":
                name = "xl/worksheets/_rels/workbook.xml.rels"
                data = data.replace(b'Target="styles', b'Target="../styles').replace(
                    b'Target="theme', b'Target="../theme'
                )
            elif name == "xl/workbook.xml":
                name = moved
                # Text that does not compress, so the zip is no bomb: only the part's size is at fault.
                noise = base64.b64encode(os.urandom(8 * 1024 * 1024))
                data = data.replace(b"<sheets>", b'<sheets a="' + noise + b'"/><sheets>', 1)
            target.writestr(name, data)
    page = refused_on_the_page(worker_client, "moved.xlsx", out.getvalue())
    assert f"moved.xlsx: {moved} is larger than 10 MB." in page


def workbook_with_strings(part: str, noise: bytes) -> bytes:
    """A workbook whose shared strings, named `part`, hold `noise` as one text."""
    book = Workbook()
    book.active.append(["name", "lat", "lon"])
    book.active.append(["Ao", 21.5, 105.5])
    plain, out = io.BytesIO(), io.BytesIO()
    book.save(plain)  # openpyxl writes its texts inline: no shared strings of its own
    strings = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>%s</t></si></sst>'
    kind = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>", b'<Override PartName="/%s" ContentType="%s"/></Types>' % (part.encode(), kind)
                )
            target.writestr(item, data)
        target.writestr(part, strings % noise)
    return out.getvalue()


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/worksheets/ss.xml"])
def test_the_shared_strings_are_held_to_their_limit_whatever_their_name(worker_client, monkeypatch, part):
    """openpyxl finds the shared strings by their content type, under any name: the
    review's ss.xlsx named /xl/worksheets/ss.xml (187 MB from 4.45 MB) where the cap looked
    for xl/sharedStrings.xml (pentest N1). They are held in memory while the sheets are
    read, so beyond their limit the workbook is refused naming them, nothing stored."""
    from hazards.models import ImportRun, Site

    monkeypatch.setattr(file_limits, "XLSX_MAX_STRINGS_BYTES", MB)
    # Text that does not compress, so the zip is no bomb: only the part's size is at fault.
    within = workbook_with_strings(part, base64.b64encode(os.urandom(MB // 2)))
    response = worker_client.post(reverse("import-upload"), {"file": SimpleUploadedFile("small.xlsx", within)})
    assert worker_client.get(response["Location"]).status_code == 200
    beyond = workbook_with_strings(part, base64.b64encode(os.urandom(MB)))
    page = refused_on_the_page(worker_client, "strings.xlsx", beyond)
    assert f"strings.xlsx: {part} is larger than 1 MB" in page
    assert not Site.objects.exists() and not ImportRun.objects.exists()


def geopackage_with(tmp_path, *statements: str, spatial_index: bool = True) -> bytes:
    """A GeoPackage of one site (layer "pts"), then `statements` run on it by SQLite
    (the spatial index's triggers refuse a geometry GDAL cannot read)."""
    import sqlite3

    feature = {"type": "Feature", "properties": {"name": "Ao", "kind": "pond"},
               "geometry": {"type": "Point", "coordinates": [105.5, 21.5]}}  # fmt: skip
    (tmp_path / "pts.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    path = tmp_path / "crafted.gpkg"
    index = [] if spatial_index else ["-lco", "SPATIAL_INDEX=NO"]
    subprocess.run(["ogr2ogr", "-f", "GPKG", *index, "-nln", "pts", path, tmp_path / "pts.geojson"], check=True)
    with sqlite3.connect(path) as db:
        for statement in statements:
            db.execute(statement)
    return path.read_bytes()


def test_a_geopackage_column_that_sqlite_computes_is_refused_before_gdal_reads_it(worker_client, tmp_path):
    """A 106 KB GeoPackage whose column SQLite computes as 300 MB of text made ogr2ogr hold
    2.1 GB for 57 s. Under its memory limit GDAL then failed, or wrote the row without
    the column, or with it empty, as the address space fell: the file is refused for
    what it is, a column that is a program, before GDAL reads a row; nothing stored."""
    from hazards.models import ImportRun, Site

    crafted = geopackage_with(
        tmp_path, "ALTER TABLE pts ADD COLUMN note TEXT GENERATED ALWAYS AS (printf('%.*c', 300000000, 'x')) VIRTUAL"
    )
    assert len(crafted) < 200_000
    page = refused_on_the_page(worker_client, "computed.gpkg", crafted)
    assert "computed.gpkg holds “pts”, whose column “note” is computed, not data" in page
    assert not Site.objects.exists() and not ImportRun.objects.exists()


def test_ogr2ogr_stopped_by_its_limits_is_refused_saying_why(worker_client, tmp_path, monkeypatch):
    """The address space and CPU time ogr2ogr may take are its last bound (GDAL's memory is
    not Python's to count); no CPU second at all stops it at its first one."""
    from hazards.models import ImportRun, Site

    monkeypatch.setattr(file_limits, "GDAL_MAX_SECONDS", 0)
    page = refused_on_the_page(worker_client, "plain.gpkg", geopackage_with(tmp_path))
    assert f"plain.gpkg: reading it needs more than {file_limits.GDAL_MAX_MEMORY_BYTES // MB:,} MB of memory" in page
    assert not Site.objects.exists() and not ImportRun.objects.exists()


def test_a_feature_gdal_reports_it_cannot_read_refuses_the_file_not_only_the_row(worker_client, tmp_path):
    """ogr2ogr says "ERROR 1: Unable to read geometry" and goes on, exit status 0, with the
    feature's geometry null: the person is told what GDAL could not read, not that the
    row has no location; nothing stored."""
    from hazards.models import ImportRun, Site

    crafted = geopackage_with(tmp_path, "UPDATE pts SET geom = X'00'", spatial_index=False)
    page = refused_on_the_page(worker_client, "broken.gpkg", crafted)
    assert "broken.gpkg: GDAL cannot read its layer (Unable to read geometry)" in page
    assert not Site.objects.exists() and not ImportRun.objects.exists()


def test_a_geopackage_layer_that_is_a_view_over_an_endless_query_is_refused(worker_client, tmp_path):
    """The review's view_inf.gpkg: GDAL counting the layer ran the view for good (pentest P8)."""
    crafted = geopackage_with(
        tmp_path,
        "CREATE VIEW v AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
        "SELECT x AS fid, (SELECT geom FROM pts LIMIT 1) AS geom, 'a' AS name, 'pond' AS kind FROM c",
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('v','features','v',4326)",
        "INSERT INTO gpkg_geometry_columns VALUES ('v','geom','POINT',4326,0,0)",
    )
    response = worker_client.post(reverse("import-upload"), {"file": SimpleUploadedFile("view.gpkg", crafted)})
    page = html.unescape(worker_client.get(response["Location"], {"sheet": "v"}, follow=True).content.decode())
    assert "view.gpkg holds “v”, a view or a virtual table, not a table of data" in page


@pytest.mark.parametrize("suffix", ["kml", "xlsx"])
def test_one_xml_tag_longer_than_a_tag_may_be_is_refused_before_it_costs_its_square(tmp_path, suffix):
    """expat 2.5 parses an unfinished tag again at every block, so a tag of N bytes cost
    N² / 64 KB: a 378 KB KMZ holding a 20 MB attribute cost 39 s a preview (pentest P6).
    A long text is no tag: it still reads."""
    path = tmp_path / f"tag.{suffix}"
    long_text = b"<description>" + b"x" * 900_000 + b"</description>"
    if suffix == "kml":
        path.write_bytes(kml_with(b"", inside=long_text))
        assert read_whole(path) == 1
        path.write_bytes(
            KML_HEAD.replace(b"<Document>", b'<Document junk="' + b"a" * (4 * MB) + b'">')
            + PLACEMARK
            + b"</Document></kml>"
        )
    else:
        path.write_bytes(workbook_with(b'<x junk="' + base64.b64encode(os.urandom(3 * MB)) + b'"/>'))
    with pytest.raises(import_files.ImportFileError) as refused:
        read_whole(path)
    assert f"tag.{suffix}: it holds an XML tag or comment longer than 262,144 bytes." in refused.value.problems


MANY = 5_000


def many_rows(suffix: str) -> bytes:
    """A file of MANY sites, as a field team's export would hold them."""
    names = [f"Ao {n}" for n in range(MANY)]
    if suffix == ".csv":
        return ("name,kind,latitude,longitude\n" + "".join(f"{n},ao,21.5,105.5\n" for n in names)).encode()
    if suffix == ".geojson":
        point = {"type": "Point", "coordinates": [105.5, 21.5]}
        features = [{"type": "Feature", "properties": {"name": n}, "geometry": point} for n in names]
        return json.dumps({"type": "FeatureCollection", "features": features}).encode()
    if suffix == ".kmz":
        marks = "".join(
            f"<Placemark><name>{n}</name><Point><coordinates>105.5,21.5</coordinates></Point></Placemark>"
            for n in names
        )
        kml = f'<kml xmlns="http://www.opengis.net/kml/2.2"><Document>{marks}</Document></kml>'
        return zip_bytes({"doc.kml": kml.encode()})
    book = Workbook()
    book.active.append(["name", "kind", "latitude", "longitude"])
    for n in names:
        book.active.append([n, "ao", 21.5, 105.5])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def counted(monkeypatch, owner, name: str) -> list[int]:
    """Counts what the generator function `owner.name` yields, wherever it is called from."""
    read = [0]
    whole = getattr(owner, name)

    def counting(*args, **kwargs):
        for item in whole(*args, **kwargs):
            read[0] += 1
            yield item

    monkeypatch.setattr(owner, name, counting)
    return read


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".geojson", ".kmz"])
def test_the_preview_reads_only_the_first_rows_of_a_long_file(worker_client, monkeypatch, suffix):
    """The preview and the mapping step read the first rows, not the whole file: counting a
    16 MB KMZ's million placemarks on every GET cost minutes of CPU a page (pentest P3).
    It says there are more; the check counts them. Rows consumed are counted at the
    readers: lines of a CSV, features of a GeoJSON, XML rows of a workbook or a KML."""
    from areas import geojson_reader

    preview_url = worker_client.post(
        reverse("import-upload"), {"file": SimpleUploadedFile(f"many{suffix}", many_rows(suffix))}
    )["Location"]
    read = [counted(monkeypatch, import_files, "_lines"), counted(monkeypatch, geojson_reader, "features")]
    read.append(counted(monkeypatch, xml_stream, "rows"))
    page = worker_client.get(preview_url)
    assert 0 < sum(r[0] for r in read) <= 2 * (import_files.PREVIEW_FEATURES + import_files.HEADER_SEARCH_ROWS)
    assert page.status_code == 200
    assert "More than 10 rows in the file" in page.content.decode() and "Ao 9" in page.content.decode()
    for r in read:
        r[0] = 0
    mapping = worker_client.post(preview_url, {"latitude": "nothing", "action": "check"})
    assert mapping.status_code == 400
    assert 0 < sum(r[0] for r in read) <= 2 * (import_files.PREVIEW_FEATURES + import_files.HEADER_SEARCH_ROWS)


def test_the_check_counts_every_row_of_a_long_file(worker_client):
    preview_url = worker_client.post(
        reverse("import-upload"), {"file": SimpleUploadedFile("many.csv", many_rows(".csv"))}
    )["Location"]
    run = worker_client.post(preview_url, {"action": "check"})
    assert run.status_code == 302
    run_queued_jobs()
    assert "5,000 rows read from the file" in worker_client.get(run["Location"]).content.decode()

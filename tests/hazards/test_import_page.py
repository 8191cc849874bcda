"""The import page: upload, preview with the guessed columns, the column-mapping step,
a check of every row that stores nothing, the import with its progress, and refusals."""

import csv
import html
import io
import json
import os
import re
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Role
from hazards import imports, tasks
from hazards.models import ImportRun, Site
from tests.conftest import inside, run_queued_jobs
from tests.security.test_no_network import Listener

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(import_officer):
    return import_officer


def csv_file(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def upload(client, file) -> str:
    response = client.post(reverse("import-upload"), {"file": file})
    assert response.status_code == 302, response.content
    return response["Location"]


def submitted(client, preview_url, data) -> str:
    """Posts the mapping step, follows the run through the worker, returns its page."""
    response = client.post(preview_url, data)
    assert response.status_code == 302 and "/imports/runs/" in response["Location"], response.content
    waiting = client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' in waiting and "Waiting for a worker" in waiting
    assert run_queued_jobs() == 1
    page = client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in page
    return page


def test_preview_then_mapping_then_check_then_import(client, officer, demo_tree):
    a, b = inside(demo_tree["99101"]), inside(demo_tree["99102"])
    # Columns no guess recognises: the user maps them.
    text = f"Điểm,Phân loại,VD,KD\nAo ông Ba,Ao,{a.y},{a.x}\nGiếng làng,giếng,{b.y},{b.x}\n"
    preview_url = upload(client, csv_file("danh sach.csv", text))
    page = client.get(preview_url).content.decode()
    assert "2 rows in the file" in page and "Ao ông Ba" in page and "<th>VD</th>" in page
    mapping = {"name": "Điểm", "kind": "Phân loại", "latitude": "VD", "longitude": "KD"}
    checked = submitted(client, preview_url, {**mapping, "action": "check"})
    assert "Every row is good" in checked and "2 sites would be added" in checked
    # The way back to the columns keeps the choices made.
    back = re.search(r'href="([^"]+)">Back to import them', checked).group(1).replace("&amp;", "&")
    assert client.get(back).context["form"].initial["latitude"] == "VD"
    assert not Site.objects.exists()
    imported = submitted(client, preview_url, {**mapping, "action": "import"})
    assert "2 sites added; 0 were already in the registry" in imported
    # The map's link, which mapping offers at the import's place for it (common.navigation).
    assert f'<a href="{reverse("map")}">See them on the map</a>' in imported
    assert sorted(Site.objects.values_list("name", "kind", "area__code")) == [
        ("Ao ông Ba", "pond", "99101"),
        ("Giếng làng", "well", "99102"),
    ]
    again = submitted(client, preview_url, {**mapping, "action": "import"})
    assert "0 sites added; 2 were already in the registry" in again and Site.objects.count() == 2


def test_guessed_columns_are_preselected(client, officer):
    preview_url = upload(client, csv_file("a.csv", "ten,loai,lat,lon\nAo,Ao,22.1,105.8\n"))
    form = client.get(preview_url).context["form"]
    assert {k: v for k, v in form.initial.items()} == {
        "name": "ten",
        "kind": "loai",
        "latitude": "lat",
        "longitude": "lon",
    }


def test_bad_rows_are_listed_by_row_number_and_nothing_is_stored(client, officer, demo_tree):
    a = inside(demo_tree["99101"])
    outside = inside(demo_tree["99201"])  # another district: outside the officer's areas
    text = (
        "name,kind,lat,lon\n"
        f"Ao tốt,ao,{a.y},{a.x}\n"
        f"Núi lửa,volcano,{a.y},{a.x + 0.001}\n"
        f"Đảo ngược,ao,{a.x},{a.y}\n"
        f"Huyện khác,ao,{outside.y},{outside.x}\n"
    )
    preview_url = upload(client, csv_file("x.csv", text))
    page = submitted(
        client, preview_url, {"name": "name", "kind": "kind", "latitude": "lat", "longitude": "lon", "action": "import"}
    )
    assert "Nothing was imported" in page
    assert "row 3: " in page and "volcano" in page
    assert "row 4: " in page and "swapped" in page
    assert "row 5: " in page
    assert "row 2:" not in page
    assert not Site.objects.exists()


def test_progress_is_shown_while_rows_are_checked(client, officer, demo_tree, monkeypatch):
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 2)  # a step every 2 rows instead of every 1,000
    monkeypatch.setattr(tasks, "PROGRESS_EVERY", 0)  # every step written
    pages = []

    def write_then_look(write):
        # The job writes progress on a connection of its own, which this test's
        # transaction would hide: here it is written on the test's, and the page read.
        write()
        pages.append(client.get(reverse("import-run", args=[ImportRun.objects.get().pk])).content.decode())

    monkeypatch.setattr(tasks, "on_own_connection", write_then_look)
    a = inside(demo_tree["99101"])
    rows = "".join(f"Ao {n},ao,{a.y + n * 1e-5},{a.x}\n" for n in range(5))
    preview_url = upload(client, csv_file("big.csv", "name,kind,lat,lon\n" + rows))
    fields = {"name": "name", "kind": "kind", "latitude": "lat", "longitude": "lon", "action": "check"}
    page = submitted(client, preview_url, fields)
    assert '<progress max="5" value="2">' in pages[0] and '<progress max="5" value="4">' in pages[1]
    assert all('http-equiv="refresh"' in p for p in pages)
    assert "5 sites would be added" in page


def test_a_run_is_seen_only_by_whoever_started_it(client, officer, make_user, demo_tree):
    preview_url = upload(client, csv_file("a.csv", "ten,lat,lon\nAo,22.1,105.8\n"))
    response = client.post(preview_url, {"name": "ten", "latitude": "lat", "longitude": "lon", "action": "check"})
    client.force_login(make_user("other", demo_tree["991"], Role.AREA_MANAGER, is_staff=True))
    assert client.get(response["Location"]).status_code == 404


def zipped_shapefile(tmp_path, point, member) -> bytes:
    """A zip of one pond "Ao shp" at `point` as a Shapefile, each part named member(part)."""
    source = tmp_path / "src.geojson"
    source.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Ao shp","kind":"pond"},'
        f'"geometry":{{"type":"Point","coordinates":[{point.x},{point.y}]}}}}]}}',
        encoding="utf-8",
    )
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", str(tmp_path / "shp"), str(source), "-nln", "ao"], check=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in (tmp_path / "shp").iterdir():
            archive.write(part, member(part))
    return buffer.getvalue()


def test_zipped_shapefile_is_read(client, officer, demo_tree, tmp_path):
    zipped = zipped_shapefile(tmp_path, inside(demo_tree["99101"]), lambda part: f"ao/{part.name}")
    preview_url = upload(client, SimpleUploadedFile("ao.zip", zipped, content_type="application/zip"))
    page = submitted(
        client,
        preview_url,
        {"name": "name", "kind": "kind", "latitude": "latitude", "longitude": "longitude", "action": "import"},
    )
    assert "1 sites added" in page and Site.objects.get().name == "Ao shp"


def test_refusals(client, officer, make_user, demo_tree):
    bad = client.post(reverse("import-upload"), {"file": csv_file("list.pdf", "%PDF")})
    assert bad.status_code == 400 and "Use a CSV, XLSX" in bad.content.decode()
    preview_url = upload(client, csv_file("a.csv", "ten,lat,lon\nAo,22.1,105.8\n"))
    # Another account cannot open someone else's upload.
    client.force_login(make_user("other", demo_tree["991"], Role.AREA_MANAGER, is_staff=True))
    assert client.get(preview_url).status_code == 404
    client.force_login(make_user("viewer", demo_tree["99"], Role.VIEWER, is_staff=True))
    assert client.get(reverse("import-upload")).status_code == 403
    client.logout()
    assert client.get(reverse("import-upload")).status_code == 302


def test_the_header_offers_import_to_those_the_page_lets_in(client, make_user, demo_tree):
    link = f'href="{reverse("import-upload")}"'
    # A staff viewer may not import: no link, as the page refuses them.
    client.force_login(make_user("xem", demo_tree["99"], Role.VIEWER, is_staff=True))
    assert link not in client.get(reverse("password-change")).content.decode()
    assert client.get(reverse("import-upload")).status_code == 403
    # A field worker who is no staff may: the link, and the page.
    client.force_login(make_user("tho", demo_tree["99101"], Role.FIELD_WORKER))
    assert link in client.get(reverse("password-change")).content.decode()
    assert client.get(reverse("import-upload")).status_code == 200


def test_uploads_older_than_a_day_are_removed_by_the_next(client, officer, settings):
    first = upload(client, csv_file("a.csv", "ten,lat,lon\nAo,22.1,105.8\n"))
    folder = next(next(settings.IMPORT_UPLOAD_ROOT.iterdir()).iterdir())  # the person's, then the upload's
    old = time.time() - settings.IMPORT_UPLOAD_KEPT_HOURS * 3600 - 60
    os.utime(folder, (old, old))
    upload(client, csv_file("b.csv", "ten,lat,lon\nAo,22.1,105.8\n"))
    assert not folder.exists() and client.get(first).status_code == 404


def test_an_unexpected_error_ends_the_run_with_a_message_and_nothing_stored(client, officer, demo_tree, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError
        yield

    monkeypatch.setattr(tasks, "import_steps", broken)
    a = inside(demo_tree["99101"])
    preview_url = upload(client, csv_file("a.csv", f"name,kind,lat,lon\nAo,ao,{a.y},{a.x}\n"))
    client.post(
        preview_url, {"name": "name", "kind": "kind", "latitude": "lat", "longitude": "lon", "action": "import"}
    )
    with pytest.raises(ZeroDivisionError):  # the job fails, and the worker logs it
        run_queued_jobs()
    run = ImportRun.objects.get()
    assert run.status == "failed" and run.finished_at and not run.parts.exists()
    page = client.get(reverse("import-run", args=[run.pk])).content.decode()
    assert "The import stopped on an unexpected error: nothing was stored." in page and "refresh" not in page
    assert not Site.objects.exists()


def test_own_words_for_choices_and_the_columns_left_out_on_the_page(client, officer, demo_tree):
    """A check that stops on a word the import does not know; the officer says what it
    means on the columns page and the check passes, naming the column left out."""
    a = inside(demo_tree["99101"])
    text = f"Tên,Loại,Vĩ độ,Kinh độ,Biển báo,Rào chắn,Người báo\nAo sen,Ao thả sen,{a.y},{a.x},Có,Lưới B40,Ông Tư\n"
    preview_url = upload(client, csv_file("ao.csv", text))
    mapping = {"name": "Tên", "kind": "Loại", "latitude": "Vĩ độ", "longitude": "Kinh độ"}
    mapping |= {"signage": "Biển báo", "barrier": "Rào chắn"}
    refused = submitted(client, preview_url, {**mapping, "action": "check"})
    assert "row 2: unknown kind &#x27;Ao thả sen&#x27;" in refused
    bad = client.post(preview_url, {**mapping, "kind_words": "Ao thả sen", "action": "check"})
    assert bad.status_code == 400 and "word = choice" in bad.content.decode()
    words = {"kind_words": "ao thả sen = ao", "barrier_words": "Lưới B40 = đầy đủ"}
    checked = submitted(client, preview_url, {**mapping, **words, "action": "check"})
    assert "Every row is good" in checked and "Columns not imported: Người báo." in checked
    submitted(client, preview_url, {**mapping, **words, "action": "import"})
    site = Site.objects.get()
    assert (site.kind, site.signage, site.barrier) == ("pond", "in_place", "complete")


def test_a_shapefile_zipped_on_macos_is_read(client, officer, demo_tree, tmp_path):
    """Finder's "Compress" adds __MACOSX/ with a "._" twin of every file (one more .shp)
    and .DS_Store: they are passed over, the Shapefile is read."""
    a = inside(demo_tree["99102"])
    source = tmp_path / "src.geojson"
    feature = {"type": "Feature", "properties": {"ten": "Ao Mac", "loai": "ao"}, "geometry": json.loads(a.geojson)}
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", str(tmp_path / "shp"), str(source), "-nln", "ao"], check=True)
    apple_double = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(60)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Diem nguy co/", b"")
        for part in sorted((tmp_path / "shp").iterdir()):
            archive.write(part, f"Diem nguy co/{part.name}")
            archive.writestr(f"__MACOSX/Diem nguy co/._{part.name}", apple_double)
        archive.writestr("Diem nguy co/.DS_Store", b"\x00\x00\x00\x01Bud1" + bytes(100))
    preview_url = upload(client, SimpleUploadedFile("Diem nguy co.zip", buffer.getvalue()))
    page = submitted(client, preview_url, {"name": "ten", "kind": "loai", "action": "import"})
    assert "1 sites added" in page and Site.objects.get().name == "Ao Mac"


def test_a_kmz_from_my_maps_on_the_page(client, officer, demo_tree):
    a = inside(demo_tree["99101"])
    kml = f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Điểm nguy cơ</name><Folder><name>Xã Suối Bạc</name>
<Placemark><name>Ao Đồng Chùa</name><description>Sâu khoảng 2 m</description>
<ExtendedData><Data name="Loại"><value>Ao</value></Data><Data name="Biển báo"><value>Có</value></Data></ExtendedData>
<Point><coordinates>{a.x},{a.y},0</coordinates></Point></Placemark></Folder></Document></kml>"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", kml.encode())
        archive.writestr("images/icon-1.png", b"\x89PNG\r\n\x1a\n")
    preview_url = upload(client, SimpleUploadedFile("Điểm nguy cơ.kmz", buffer.getvalue()))
    page = client.get(preview_url).content.decode()
    assert "<th>Loại</th>" in page and "Ao Đồng Chùa" in page
    done = submitted(client, preview_url, {"name": "name", "kind": "Loại", "signage": "Biển báo", "action": "import"})
    assert "1 sites added" in done
    site = Site.objects.get()
    assert (site.name, site.kind, site.signage) == ("Ao Đồng Chùa", "pond", "in_place")
    assert site.location.coords == pytest.approx((a.x, a.y))
    # Two KML files and no doc.kml: which one is meant is not guessed.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("thon-1.kml", kml.encode())
        archive.writestr("thon-2.kml", kml.replace("Ao Đồng Chùa", "Ao khác").encode())
    response = client.post(reverse("import-upload"), {"file": SimpleUploadedFile("hai.kmz", buffer.getvalue())})
    page = html.unescape(client.get(response["Location"]).content.decode())
    assert "the KMZ holds several KML files (thon-1.kml, thon-2.kml) and no doc.kml" in page
    assert Site.objects.count() == 1


def test_outline_cells_geos_cannot_take_are_row_problems_and_fetch_nothing(client, officer, demo_tree):
    """An outline cell naming a coordinate system (a link above all), or any text that is no
    polygon, is reported on its row and the other rows are checked; the job does not stop
    as an unexpected error (pentest F5: Django's refusal of the crs link, SuspiciousOperation,
    escaped the row check), and the link is never requested (a socket listens)."""
    a = inside(demo_tree["99101"])
    x, y, d = round(a.x, 5), round(a.y, 5), 0.0005
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y]]
    listener = Listener()
    try:
        cells = [
            {"type": "Polygon", "coordinates": [ring], "crs": {"type": "link", "properties": {"href": listener.url}}},
            {"type": "Polygon", "coordinates": [ring], "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}},
            {"type": "Polygon", "coordinates": "ring"},
            {"type": "Polygon", "coordinates": [[["a", "b"]]]},
            {"type": "Point", "coordinates": [x, y]},
            "[" * 50_000,
            "POLYGON((1 2, 3",
            f"SRID=3857;POLYGON(({x} {y}, {x + d} {y}, {x + d} {y + d}, {x} {y}))",
            {"type": "Polygon", "coordinates": [ring]},
        ]
        lines = [["name", "kind", "outline"]]
        lines += [[f"Ao {n}", "ao", c if isinstance(c, str) else json.dumps(c)] for n, c in enumerate(cells, start=2)]
        text = io.StringIO()
        csv.writer(text).writerows(lines)
        preview_url = upload(client, csv_file("ao.csv", text.getvalue()))
        page = html.unescape(submitted(client, preview_url, {"name": "name", "kind": "kind", "outline": "outline"}))
    finally:
        listener.stop()
    assert listener.seen == []
    assert "unexpected" not in page
    assert (
        f'row 2: the polygon declares the coordinate system {{"type": "link", "properties": {{"href": "{listener.url}'
        in page
    )
    assert "a link is never followed" in page
    assert (
        'row 3: the polygon declares the coordinate system {"type": "name", "properties": {"name": "EPSG:3857"}}'
        in page
    )
    for row in (4, 5, 7, 8):
        assert f"row {row}: the polygon's coordinates are not valid" in page
    assert "row 6: An outline must be a polygon, not a Point." in page
    assert "row 9: Coordinates must be longitude/latitude in WGS 84 (EPSG:4326), not EPSG:3857." in page
    assert "row 10:" not in page and not Site.objects.exists()


def test_a_file_name_with_a_control_character_is_refused(client, officer, demo_tree, tmp_path):
    """A file's name is kept with its run and shown on its pages. Django drops control
    characters from an upload's own name; a zip's Shapefile brings its name from inside."""
    zipped = zipped_shapefile(tmp_path, inside(demo_tree["99101"]), lambda part: f"ao\x1b[2J{part.suffix}")

    def kept_files():  # uploads sit in a folder per person
        return {path for path in Path(settings.IMPORT_UPLOAD_ROOT).rglob("*") if path.is_file()}

    kept = kept_files()
    refused = client.post(reverse("import-upload"), {"file": SimpleUploadedFile("ao.zip", zipped)})
    assert refused.status_code == 400
    assert "File name contains the control character U+001B" in refused.content.decode()
    assert not ImportRun.objects.exists()
    assert kept_files() == kept


def test_checks_and_imports_count_with_exports_under_one_limit_of_waiting_work(client, officer, settings):
    """Import runs escaped the per-person limit: one field worker queued 20 checks of one
    file and another person's 2.5 s export waited 232 s behind them (pentest P1)."""
    from hazards.models import JobRun

    settings.JOBS_MAX_WAITING_PER_PERSON = 3
    preview_url = upload(client, csv_file("a.csv", "ten,lat,lon\nAo,22.1,105.8\n"))
    check = {"name": "ten", "latitude": "lat", "longitude": "lon", "action": "check"}
    assert [client.post(preview_url, check).status_code for _n in range(3)] == [302, 302, 302]
    refused = client.post(preview_url, check)
    assert refused.status_code == 400
    assert "You already have 3 jobs waiting or running" in html.unescape(refused.content.decode())
    export = client.get(
        reverse("site-export", args=["gpkg"]), {"area": "99101"}, headers={"Accept": "application/json"}
    )
    assert export.status_code == 400 and ImportRun.objects.count() == 3 and not JobRun.objects.exists()
    run_queued_jobs()
    assert client.post(preview_url, check).status_code == 302


def test_a_check_draws_no_site_codes(client, officer, demo_tree):
    """A check stores nothing, codes included: the sites it inserts and undoes drew codes
    from the registry's sequence, which is not undone, so 45 checks moved the next site
    registered anywhere from HZ-000201 to HZ-1500202 (pentest P9)."""
    from tests.hazards.test_sync_api import post, site_record

    a = inside(demo_tree["99101"])
    rows = "".join(f"Ao số {n},ao,{a.y + n / 10_000},{a.x}\n" for n in range(30))
    preview_url = upload(client, csv_file("ao.csv", f"name,kind,latitude,longitude\n{rows}"))
    before = post(client, "sync-site", site_record(demo_tree["99101"])).json()["code"]
    checked = submitted(client, preview_url, {"action": "check"})
    assert "30 sites would be added" in checked and not Site.objects.filter(name__startswith="Ao số").exists()
    after = post(client, "sync-site", site_record(demo_tree["99101"])).json()["code"]
    assert int(after.removeprefix("HZ-")) == int(before.removeprefix("HZ-")) + 1
    imported = submitted(client, preview_url, {"action": "import"})
    assert "30 sites added" in imported
    codes = sorted(
        int(code.removeprefix("HZ-"))
        for code in Site.objects.filter(name__startswith="Ao số").values_list("code", flat=True)
    )
    assert codes == list(range(codes[0], codes[0] + 30)) and codes[0] == int(after.removeprefix("HZ-")) + 1


@pytest.mark.parametrize("stated", ["²", "¹²", "٣"])
def test_a_stated_system_in_digits_of_another_kind_is_no_system_not_a_500(client, officer, stated):
    """str.isdigit() holds for superscripts, which int() refuses: ?system=² answered 500 on
    the preview, as a GET and as the mapping step's POST (pentest 5)."""
    preview_url = upload(client, csv_file("ao.csv", "name,latitude,longitude\nAo,22.1,105.1\n"))
    assert client.get(preview_url, {"system": stated}).status_code == 200
    for posted in (stated, "9" * 5000):
        assert client.post(preview_url, {"system": posted}).status_code in (200, 400)


def test_a_csv_row_with_more_cells_than_the_header_is_a_row_problem(client, officer, demo_tree):
    """A comma inside a value not in quotes moves every value after it one column on: the
    row read "Ao" as the name and the village as the responsible party, and dropped its
    last cell, with "Every row is good" (pentest 6). Its cells cannot be told apart: it is
    refused, saying why; a row whose last cells are left out is read as before."""
    a = inside(demo_tree["99101"])
    text = f"lat,lon,name,responsible_party\n{a.y},{a.x},Ao, xóm 3,Ông Ba\n{a.y},{a.x + 0.001},Giếng làng\n"
    preview_url = upload(client, csv_file("x.csv", text))
    mapping = {"name": "name", "responsible_party": "responsible_party", "latitude": "lat", "longitude": "lon"}
    page = submitted(client, preview_url, {**mapping, "action": "check"})
    assert "row 2: " in page and "5 cells" in page and "4 columns" in page
    assert "row 3:" not in page


def test_a_column_name_used_twice_keeps_both_columns(client, officer):
    """Two columns under one name: the row held only the second's value, and the preview
    showed it under both (pentest 6). The second is shown and chosen as "name (2)"."""
    preview_url = upload(client, csv_file("x.csv", "name,name,lat,lon\nAo nhà ông Ba,Ao làng,21.0,105.8\n"))
    page = client.get(preview_url)
    assert page.context["columns"] == ["name", "name (2)", "lat", "lon"]
    assert page.context["rows"] == [["Ao nhà ông Ba", "Ao làng", "21.0", "105.8"]]

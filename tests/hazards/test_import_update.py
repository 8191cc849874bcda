"""Update mode, as a provincial GIS officer uses it: the province's list exported from the
registry (XLSX), edited in a spreadsheet (states, names, a point moved, new rows) and
imported again changes the sites it names, adds the new rows, lists each change by row,
and refuses whole any file with a row it cannot apply."""

import html
import io
import re
import shutil
import subprocess
import zipfile

import pytest
from django.contrib.gis.geos import Point, Polygon
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEntry
from hazards import services
from hazards.models import Inspection, Site
from tests.conftest import inside, job_file, run_queued_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(import_officer):
    return import_officer


@pytest.fixture
def sites(demo_tree, officer, make_site):
    return {
        "ba": make_site(demo_tree["99101"], name="Ao ông Ba", kind="pond", actor=officer),
        "gieng": make_site(demo_tree["99102"], name="Giếng làng", kind="well", actor=officer),
        "dap": make_site(demo_tree["99103"], name="Đập Suối Bạc", kind="dam", actor=officer),
    }


def exported_workbook(client):
    response = client.get(reverse("site-export", args=["xlsx"]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return load_workbook(io.BytesIO(body))


def edit(book, site, **values):
    sheet = book["sites"]
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == str(site.pk):
            for name, value in values.items():
                row[header.index(name)].value = value
            return
    raise AssertionError(f"{site.code} not in the export")


def add_row(book, **values):
    sheet = book["sites"]
    header = [cell.value for cell in sheet[1]]
    sheet.append([values.get(name) for name in header])


def saved(book, folder, name="danh_sach_tinh.xlsx"):
    path = folder / name
    book.save(path)
    return path


def upload_and_run(client, path, action):
    response = client.post(reverse("import-upload"), {"file": SimpleUploadedFile(path.name, path.read_bytes())})
    assert response.status_code == 302, response.content
    preview_url = response["Location"]
    form = client.get(preview_url).context["form"]
    mapping = {name: value for name, value in form.initial.items() if value and name != "update"}
    response = client.post(preview_url, {**mapping, "update": "on", "action": action})
    assert response.status_code == 302, response.content
    assert run_queued_jobs() == 1
    return client.get(response["Location"]).content.decode()


def test_an_exported_list_edited_and_imported_again_updates_adds_and_lists_each_change(
    client, tmp_path, demo_tree, officer, sites
):
    book = exported_workbook(client)
    ba, gieng, dap = sites["ba"], sites["gieng"], sites["dap"]
    edit(book, ba, name="Ao ông Ba (xóm 2)", signage="in_place", barrier="partial")
    moved_latitude = round(gieng.location.y + 0.00023, 7)  # 25 m north
    edit(book, gieng, latitude=moved_latitude, depth_m=4.5)
    new = inside(demo_tree["99104"])
    add_row(book, name="Hố công trình mới", kind="pit", latitude=new.y, longitude=new.x, signage="none")
    path = saved(book, tmp_path)
    before = {s.pk: (s.name, s.signage, s.location.coords) for s in Site.objects.all()}

    # The check lists what would change and stores nothing.
    checked = upload_and_run(client, path, "check")
    assert "1 sites would be added, 2 updated; 1 are unchanged." in checked, checked
    assert {s.pk: (s.name, s.signage, s.location.coords) for s in Site.objects.all()} == before

    page = upload_and_run(client, path, "import")
    assert "1 sites added, 2 updated; 1 were unchanged." in page, page
    changes = re.findall(r"<li>(row \d+: .*?)</li>", page)
    assert changes == [
        f"row 2: {ba.code} “Ao ông Ba”: name “Ao ông Ba” → “Ao ông Ba (xóm 2)”; "
        "new inspection: No sign → Sign in place, No barrier → Partial barrier",
        f"row 3: {gieng.code} “Giếng làng”: depth (m) — → 4.5; moved 25 m",
    ]
    ba.refresh_from_db()
    gieng.refresh_from_db()
    dap.refresh_from_db()
    assert (ba.name, ba.signage, ba.barrier) == ("Ao ông Ba (xóm 2)", "in_place", "partial")
    assert Inspection.objects.filter(site=ba).count() == 1  # the state is evidence: a new inspection
    assert gieng.location.y == pytest.approx(moved_latitude, abs=1e-9) and str(gieng.depth_m) == "4.50"
    assert gieng.area.code == "99102"
    assert Site.objects.filter(name="Hố công trình mới", kind="pit", area__code="99104").exists()
    # The edits are in each site's history, by the officer.
    assert AuditEntry.objects.filter(site_id=ba.pk, action="update", actor=officer).exists()

    # The same file again changes nothing more.
    again = upload_and_run(client, path, "import")
    assert "0 sites added, 0 updated; 4 were unchanged." in again, again


def test_rows_that_cannot_be_applied_are_refused_by_row_and_nothing_is_stored(
    client, tmp_path, demo_tree, officer, sites, make_site, superuser
):
    book = exported_workbook(client)
    ba, gieng, dap = sites["ba"], sites["gieng"], sites["dap"]
    edit(book, ba, name="Tên mới")
    edit(book, gieng, longitude=inside(demo_tree["992"]).x, latitude=inside(demo_tree["992"]).y)  # moved out
    add_row(book, name="Ao ngoài biên giới", kind="pond", latitude=30, longitude=105)
    page = upload_and_run(client, saved(book, tmp_path), "import")
    assert "Nothing was imported" in page
    assert re.findall(r"<li>(row \d+: .*?)</li>", page) == [
        "row 3: This location is in Xã Phiêng Lầu, outside the areas you work in.",
        "row 5: The location (105.00000, 30.00000) is outside the country.",
    ]

    book = exported_workbook(client)
    elsewhere = make_site(demo_tree["992"], name="Ao huyện khác", kind="pond")  # outside the officer's areas
    edit(book, ba, name="Tên mới")
    mine = inside(demo_tree["99101"])
    add_row(book, id=str(elsewhere.pk), name="Đổi tên", kind="pond", latitude=mine.y, longitude=mine.x)
    add_row(book, id=str(ba.pk), name="Tên khác", kind="pond", latitude=ba.location.y, longitude=ba.location.x)
    services.site_delete(actor=superuser, site=dap)
    edit(book, dap, name="Đập (đã xóa)")
    page = upload_and_run(client, saved(book, tmp_path), "import")
    assert "Nothing was imported" in page, page
    assert re.findall(r"<li>(row \d+: .*?)</li>", page.split("Nothing was imported")[1]) == [
        f"row 4: {dap.code} was deleted: restore it before updating it.",
        f"row 5: The site {elsewhere.pk} is not in your areas.",
        f"row 6: {ba.code} is also in row 2.",
    ]
    ba.refresh_from_db()
    assert ba.name == "Ao ông Ba" and Site.objects.get(pk=elsewhere.pk).name == "Ao huyện khác"
    assert not Inspection.objects.exists()


def test_a_site_out_of_scope_named_by_id_is_refused_with_its_row(tmp_path, demo_tree, officer, sites, make_site):
    elsewhere = make_site(demo_tree["992"], name="Ao huyện khác", kind="pond")
    mine = inside(demo_tree["99101"])
    path = tmp_path / "sua.csv"
    path.write_text(f"id,name,kind,latitude,longitude\n{elsewhere.pk},Đổi tên,pond,{mine.y},{mine.x}\n")
    with pytest.raises(CommandError) as refused:
        call_command("import_sites", str(path), as_user="nam", update=True)
    assert f"row 2: The site {elsewhere.pk} is not in your areas." in str(refused.value)
    assert Site.objects.get(pk=elsewhere.pk).name == "Ao huyện khác"


def test_outlines_redrawn_in_a_gis_come_back_through_the_shapefile_export(client, tmp_path, demo_tree, officer):
    """The Shapefile export (sites.shp and outlines.shp) edited with GDAL as QGIS would
    save it (one outline widened; the other written back clockwise, as Shapefiles turn
    rings) and imported again: only the widened outline changed."""
    shores = {}
    for code in ("99101", "99102"):
        x, y = inside(demo_tree[code]).coords
        shore = Polygon(((x - 3e-4, y), (x, y - 3e-4), (x + 3e-4, y), (x, y + 3e-4), (x - 3e-4, y)), srid=4326)
        site = services.site_register(
            actor=officer, name=f"Ao {code}", kind="pond", location=Point(x, y, srid=4326), outline=shore
        )
        shores[site.code] = site
    response = client.get(reverse("site-export", args=["shp"]))
    _state, body = job_file(client, response)
    exported, edited = tmp_path / "exported", tmp_path / "edited"
    zipfile.ZipFile(io.BytesIO(body)).extractall(exported)
    edited.mkdir()
    for part in exported.glob("sites.*"):
        shutil.copy(part, edited / part.name)
    widened, kept = sorted(shores)
    sql = f"SELECT id, code, CASE WHEN code = '{widened}' THEN ST_Buffer(geometry, 0.0001) ELSE geometry END "
    sql += "AS geometry FROM outlines"
    subprocess.run(
        ["ogr2ogr", "-f", "ESRI Shapefile", edited / "outlines.shp", exported / "outlines.shp", "-dialect", "SQLite",
         "-sql", sql, "-nln", "outlines"],
        check=True, capture_output=True,
    )  # fmt: skip
    out = io.StringIO()
    call_command("import_sites", str(edited / "sites.shp"), as_user="nam", update=True, stdout=out)
    site = shores[widened]
    changed, outcome = out.getvalue().splitlines()
    assert re.fullmatch(rf"row [12]: {site.code} “{site.name}”: outline redrawn", changed), changed
    assert outcome == "Imported 0 sites; updated 1; 1 unchanged."
    before = site.outline.area
    site.refresh_from_db()
    assert site.outline.area > before and site.outline.contains(site.location)
    assert Site.objects.get(code=kept).outline.equals_exact(shores[kept].outline, 1e-7)


def test_a_file_of_signs_only_leaves_the_barriers_as_they_are(tmp_path, demo_tree, officer, sites, inspect):
    """A commune's list of signs put up (id, name, coordinates, sign): the new inspection
    keeps each site's barrier, which the file says nothing of."""
    ba = sites["ba"]
    inspect(ba, "2026-10-01T09:00", "none", "complete")
    x, y = ba.location.coords
    path = tmp_path / "bien_bao.csv"
    path.write_text(f"id,name,latitude,longitude,signage\n{ba.pk},{ba.name},{y},{x},in_place\n")
    out = io.StringIO()
    call_command("import_sites", str(path), as_user="nam", update=True, stdout=out)
    assert out.getvalue().splitlines()[0] == f"row 2: {ba.code} “Ao ông Ba”: new inspection: No sign → Sign in place"
    ba.refresh_from_db()
    assert (ba.signage, ba.barrier) == ("in_place", "complete")


def test_the_shapefile_export_uploaded_as_it_came_is_read_with_its_outlines(client, tmp_path, demo_tree, officer):
    """The zip the registry gave (sites.shp and outlines.shp) sent to the import page."""
    x, y = inside(demo_tree["99101"]).coords
    shore = Polygon(((x - 3e-4, y), (x, y - 3e-4), (x + 3e-4, y), (x, y + 3e-4), (x - 3e-4, y)), srid=4326)
    services.site_register(actor=officer, name="Ao có bờ", kind="pond", location=Point(x, y, srid=4326), outline=shore)
    _state, body = job_file(client, client.get(reverse("site-export", args=["shp"])))
    path = tmp_path / "sites.zip"
    path.write_bytes(body)
    page = upload_and_run(client, path, "check")
    assert "0 sites would be added, 0 updated; 1 are unchanged." in page, page


def test_an_outline_removed_by_writing_xoa_in_its_cell_and_ambiguous_cells_refused(
    client, tmp_path, demo_tree, officer
):
    """A blank outline cell keeps the outline; the officer removes one by writing “xóa”
    (or “remove”) over its WKT in the exported list. A cell that could mean either
    (“không”, “0”, an empty WKT) is refused by its row, and nothing of the file is stored."""
    ponds = {}
    for code, name in (("99101", "Ao đã lấp"), ("99102", "Ao giữ bờ"), ("99103", "Ao bỏ bờ")):
        x, y = inside(demo_tree[code]).coords
        shore = Polygon(((x - 3e-4, y), (x, y - 3e-4), (x + 3e-4, y), (x, y + 3e-4), (x - 3e-4, y)), srid=4326)
        ponds[code] = services.site_register(
            actor=officer, name=name, kind="pond", location=Point(x, y, srid=4326), outline=shore
        )
    filled, kept, dropped = ponds["99101"], ponds["99102"], ponds["99103"]

    for ambiguous in ("không", "0", "POLYGON EMPTY"):
        book = exported_workbook(client)
        edit(book, filled, outline=ambiguous)
        edit(book, dropped, outline="Xoá", name="Ao bỏ bờ (đã san)")
        page = upload_and_run(client, saved(book, tmp_path), "import")
        assert "Nothing was imported" in page, page
        assert re.findall(r"<li>(row \d+: .*?)</li>", html.unescape(page)) == [
            f"row 2: the outline “{ambiguous}” is no polygon: write “xóa” (or “remove”) to remove the site's "
            "outline, or leave the cell empty to keep it"
        ]
    assert all(Site.objects.get(pk=site.pk).outline is not None for site in ponds.values())
    assert Site.objects.get(pk=dropped.pk).name == "Ao bỏ bờ"

    book = exported_workbook(client)
    edit(book, filled, outline="xóa")
    edit(book, kept, outline=None)  # blank: unchanged
    edit(book, dropped, outline="remove")
    path = saved(book, tmp_path)
    checked = upload_and_run(client, path, "check")
    assert "0 sites would be added, 2 updated; 1 are unchanged." in checked, checked
    assert Site.objects.get(pk=filled.pk).outline is not None
    page = upload_and_run(client, path, "import")
    assert re.findall(r"<li>(row \d+: .*?)</li>", page) == [
        f"row 2: {filled.code} “Ao đã lấp”: outline removed",
        f"row 4: {dropped.code} “Ao bỏ bờ”: outline removed",
    ]
    for site in (filled, dropped):
        after = Site.objects.get(pk=site.pk)
        assert after.outline is None and after.location.equals_exact(site.location, 1e-9)
        entry = AuditEntry.objects.get(site_id=site.pk, action="update", actor=officer)
        assert entry.changes["outline"][1] is None and entry.changes["outline"][0]
    assert Site.objects.get(pk=kept.pk).outline.equals_exact(kept.outline, 1e-7)
    # The list exported again carries no outline for them: importing it changes nothing.
    again = upload_and_run(client, saved(exported_workbook(client), tmp_path), "import")
    assert "0 sites added, 0 updated; 3 were unchanged." in again, again


def test_an_outline_removed_in_the_geopackage_export_as_in_qgis(client, tmp_path, demo_tree, officer):
    """In QGIS: a text field “outline” added to the sites layer and “xóa” typed in it. While
    the outlines layer still draws the pond, the row is refused (which one is meant?);
    with that feature deleted too, the outline is removed."""
    x, y = inside(demo_tree["99101"]).coords
    shore = Polygon(((x - 3e-4, y), (x, y - 3e-4), (x + 3e-4, y), (x, y + 3e-4), (x - 3e-4, y)), srid=4326)
    pond = services.site_register(
        actor=officer, name="Ao lấp", kind="pond", location=Point(x, y, srid=4326), outline=shore
    )
    _state, body = job_file(client, client.get(reverse("site-export", args=["gpkg"])))
    path = tmp_path / "tinh.gpkg"
    path.write_bytes(body)

    def sql(statement):
        subprocess.run(["ogrinfo", path, "-sql", statement], check=True, capture_output=True)

    sql("ALTER TABLE sites ADD COLUMN outline TEXT")
    sql("UPDATE sites SET outline = 'xóa'")  # the one pond
    page = html.unescape(upload_and_run(client, path, "import"))
    assert "Nothing was imported" in page, page
    assert re.findall(r"<li>(row \d+: .*?)</li>", page) == [
        "row 1: the outline column says “xóa” but the row's geometry still draws an outline: delete the outline "
        "(in QGIS, its feature in the outlines layer) or empty the cell"
    ]
    assert Site.objects.get(pk=pond.pk).outline is not None

    sql("DELETE FROM outlines")
    page = upload_and_run(client, path, "import")
    assert re.findall(r"<li>(row \d+: .*?)</li>", page) == [f"row 1: {pond.code} “Ao lấp”: outline removed"], page
    assert Site.objects.get(pk=pond.pk).outline is None

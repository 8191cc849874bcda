"""A workbook with a list in several sheets (one a commune, one a village) and a
GeoPackage with several layers: the officer chooses which to import, by name; without a
choice the import names them and stores nothing."""

import json
import re
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import Workbook

from hazards.models import ImportRun, Site
from tests.conftest import inside, run_queued_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(import_officer):
    return import_officer


def two_villages(tmp_path, demo_tree):
    book = Workbook()
    book.active.title = "Hướng dẫn"
    book.active.append(["Điền mỗi điểm một dòng."])
    for title, commune, names in (("Thôn 1", "99101", ["Ao HTX", "Giếng cũ"]), ("Thôn 2", "99102", ["Đập Khe"])):
        sheet = book.create_sheet(title)
        sheet.append(["STT", "Tên điểm", "Loại", "Vĩ độ", "Kinh độ"])
        point = inside(demo_tree[commune])
        for number, name in enumerate(names, start=1):
            sheet.append([number, name, "Ao", point.y + number * 1e-3, point.x])
    path = tmp_path / "danh_sach_xa.xlsx"
    book.save(path)
    return path


def test_a_workbook_with_a_list_in_several_sheets_needs_one_chosen(tmp_path, demo_tree, officer):
    path = two_villages(tmp_path, demo_tree)
    with pytest.raises(CommandError) as refused:
        call_command("import_sites", str(path), as_user="nam")
    assert "danh_sach_xa.xlsx holds a list in several sheets (“Thôn 1”, “Thôn 2”): choose the sheet to import." in str(
        refused.value
    )
    assert not Site.objects.exists()
    with pytest.raises(CommandError) as refused:
        call_command("import_sites", str(path), as_user="nam", sheet="Thôn 3")
    assert "no sheet “Thôn 3” with data; its sheets with data: “Hướng dẫn”, “Thôn 1”, “Thôn 2”" in str(refused.value)
    call_command("import_sites", str(path), as_user="nam", sheet="Thôn 2")
    assert list(Site.objects.values_list("name", "area__code")) == [("Đập Khe", "99102")]


def test_a_geopackage_with_several_layers_needs_one_chosen(tmp_path, demo_tree, officer):
    """Made with ogr2ogr, as QGIS saves layers into one GeoPackage."""
    path = tmp_path / "tinh.gpkg"
    for layer, commune in (("ao_ho", "99101"), ("gieng", "99102")):
        point = inside(demo_tree[commune])
        source = tmp_path / f"{layer}.geojson"
        feature = {"type": "Feature", "properties": {"ten": f"Điểm {layer}", "loai": "ao"},
                   "geometry": {"type": "Point", "coordinates": [point.x, point.y]}}  # fmt: skip
        source.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
        update = ["-update"] if path.exists() else []
        subprocess.run(["ogr2ogr", "-f", "GPKG", *update, "-nln", layer, path, source], check=True)
    with pytest.raises(CommandError) as refused:
        call_command("import_sites", str(path), as_user="nam")
    assert "tinh.gpkg has several layers (“ao_ho”, “gieng”): choose the layer to import." in str(refused.value)
    call_command("import_sites", str(path), as_user="nam", sheet="gieng")
    assert list(Site.objects.values_list("name", "area__code")) == [("Điểm gieng", "99102")]


def test_the_page_names_the_sheets_and_imports_the_one_chosen(client, tmp_path, demo_tree, officer):
    path = two_villages(tmp_path, demo_tree)
    response = client.post(reverse("import-upload"), {"file": SimpleUploadedFile(path.name, path.read_bytes())})
    preview_url = response["Location"]
    page = client.get(preview_url)
    text = page.content.decode()
    assert page.status_code == 200 and "holds a list in several sheets (“Thôn 1”, “Thôn 2”)" in text
    assert re.findall(r'<option value="([^"]*)"', text) == ["", "Hướng dẫn", "Thôn 1", "Thôn 2"]
    assert "Check every row" not in text  # nothing to map until a sheet is chosen
    chosen = client.get(preview_url, {"sheet": "Thôn 1"})
    assert chosen.status_code == 200 and "2 rows in the file" in chosen.content.decode()
    form = chosen.context["form"]
    mapping = {name: value for name, value in form.initial.items() if value}
    response = client.post(f"{preview_url}?sheet=Th%C3%B4n%201", {**mapping, "action": "import"})
    assert response.status_code == 302
    assert run_queued_jobs() == 1
    run = ImportRun.objects.get()
    assert run.sheet == "Thôn 1" and run.created == 2
    assert sorted(Site.objects.values_list("name", flat=True)) == ["Ao HTX", "Giếng cũ"]

"""import_sites: the formats provinces hold, every bad-row kind reported with its row
number and nothing stored, re-imports without duplicates, and round trips with exports."""

import csv
import itertools
import json
import re
import uuid
import zipfile

import pytest
from django.contrib.gis.geos import Polygon
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook

from accounts.audit import audit_of_site
from accounts.models import AuditEntry, Role
from common.readahead import read_ahead
from hazards import import_columns, import_files, imports
from hazards.models import Inspection, Site
from mapping.models import SiteCell, SiteStateCell
from reports.models import AreaDay
from tests.conftest import inside, job_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(demo_tree, make_user):
    return make_user("nam", demo_tree["991"], Role.AREA_MANAGER)


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(path, **options):
    call_command("import_sites", str(path), as_user="nam", **options)


def test_csv_with_vietnamese_columns_and_reimport(tmp_path, demo_tree, officer):
    a, b = inside(demo_tree["99101"]), inside(demo_tree["99102"])
    path = write_csv(
        tmp_path / "danh_sach.csv",
        ["Tên", "Loại", "Vĩ độ", "Kinh độ", "Biển báo", "Rào chắn", "Ngày kiểm tra"],
        [["Ao ông Ba", "Ao", a.y, a.x, "có", "một phần", "2025-05-01"], ["Giếng làng", "giếng", b.y, b.x, "", "", ""]],
    )
    run(path)
    assert sorted(Site.objects.values_list("name", "kind", "area__code")) == [
        ("Ao ông Ba", "pond", "99101"),
        ("Giếng làng", "well", "99102"),
    ]
    ba = Site.objects.get(name="Ao ông Ba")
    assert (ba.signage, ba.barrier) == ("in_place", "partial") and ba.created_by == officer
    # The import's entry sits at the lowest area holding both communes.
    assert AuditEntry.objects.get(table="hazards_site").area_path == "/99/991/"
    run(path)
    assert Site.objects.count() == 2 and Inspection.objects.count() == 1
    assert AuditEntry.objects.filter(table="hazards_site").count() == 1  # a re-import that adds nothing


def test_columns_typed_without_tone_marks_are_recognised(demo_tree, officer):
    """Headers typed on a keyboard without Vietnamese input, or with "_", mean the same."""
    columns = ["Ten", "LOAI", "vi do", "Kinh_do", "Bien bao", "rao_chan", "Ngay kiem tra", "Do sau"]
    assert import_columns.guess_mapping(columns) == {
        "name": "Ten", "kind": "LOAI", "latitude": "vi do", "longitude": "Kinh_do", "signage": "Bien bao",
        "barrier": "rao_chan", "inspected_at": "Ngay kiem tra", "depth_m": "Do sau",
    }  # fmt: skip


def test_kobo_geopoint_and_xlsx(tmp_path, demo_tree, officer):
    point = inside(demo_tree["99103"])
    kobo = write_csv(
        tmp_path / "kobo.csv",
        ["start", "ten_diem", "loai_diem", "geopoint", "_uuid"],
        [["2025-01-01", "Hố cát", "hố", f"{point.y} {point.x} 12 5", "5e0e3f8a-6f1f-4b0a-9a51-111111111111"]],
    )
    run(kobo)
    assert Site.objects.get(pk="5e0e3f8a-6f1f-4b0a-9a51-111111111111").kind == "pit"
    book = Workbook()
    sheet = book.active
    other = inside(demo_tree["99104"])
    sheet.append(["name", "kind", "latitude", "longitude"])
    sheet.append(["Kênh xóm", "canal", other.y, other.x])
    book.save(tmp_path / "list.xlsx")
    run(tmp_path / "list.xlsx")
    assert Site.objects.get(name="Kênh xóm").area.code == "99104"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["Ao", "ao", "hai mốt", "105.8"], "not numbers"),
        (["Ao", "ao", "{lon}", "{lat}"], "look swapped"),
        (["Ao", "ao", "10.5", "106.7"], "outside"),
        (["Ao", "núi lửa", "{lat}", "{lon}"], "unknown kind"),
        (["", "ao", "{lat}", "{lon}"], "name"),
    ],
    ids=["not-a-number", "swapped", "outside-areas", "unknown-kind", "no-name"],
)
def test_each_bad_row_is_reported_and_nothing_stored(tmp_path, demo_tree, officer, row, reason):
    good = inside(demo_tree["99101"])
    bad = [v.format(lat=good.y, lon=good.x) for v in row]
    path = write_csv(
        tmp_path / "bad.csv", ["name", "kind", "latitude", "longitude"], [["Ao tốt", "ao", good.y, good.x], bad]
    )
    with pytest.raises(CommandError) as error:
        run(path)
    assert "row 3:" in str(error.value) and reason in str(error.value)
    assert not Site.objects.exists()


def test_bad_states_and_dates_are_reported(tmp_path, demo_tree, officer):
    p = inside(demo_tree["99101"])
    path = write_csv(
        tmp_path / "states.csv",
        ["name", "kind", "latitude", "longitude", "signage", "barrier", "date"],
        [["A", "ao", p.y, p.x, "lung lay", "", ""], ["B", "ao", p.y + 0.0005, p.x, "có", "có", "hôm qua"]],
    )
    with pytest.raises(CommandError) as error:
        run(path)
    assert "row 2: unknown signage state" in str(error.value) and "row 3: the date" in str(error.value)
    assert not Site.objects.exists() and not Inspection.objects.exists()


def test_missing_coordinate_columns_and_unknown_format(tmp_path, officer):
    path = write_csv(tmp_path / "no_coords.csv", ["name", "kind"], [["Ao", "ao"]])
    with pytest.raises(CommandError, match="--lat-column"):
        run(path)
    (tmp_path / "list.txt").write_text("x")
    with pytest.raises(CommandError, match="CSV, XLSX, GeoJSON"):
        run(tmp_path / "list.txt")


@pytest.mark.parametrize("fmt", ["geojson", "csv", "xlsx", "gpkg", "kml", "shp"])
def test_round_trip_with_an_export(client, tmp_path, demo_tree, officer, make_site, fmt):
    for code in ("99101", "99102", "99103"):
        point = inside(demo_tree[code])
        x, y = point.coords
        shore = Polygon(((x - 3e-4, y), (x, y - 3e-4), (x + 3e-4, y), (x, y + 3e-4), (x - 3e-4, y)), srid=4326)
        make_site(demo_tree[code], name=f"Ao {code}", kind="pond", actor=officer, location=point, outline=shore)
    client.force_login(officer)
    response = client.get(reverse("site-export", args=[fmt]))
    if fmt in ("gpkg", "kml", "shp"):  # made by the worker
        _state, body = job_file(client, response)
    else:
        body = b"".join(response.streaming_content) if response.streaming else b"".join(response)
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(body)
    if fmt == "shp":  # unzipped, as a GIS officer opens it in QGIS
        zipfile.ZipFile(path).extractall(tmp_path / "shp")
        path = tmp_path / "shp" / "sites.shp"
    before = sorted(Site.objects.values_list("id", "name", "kind", "area__code"))
    located = {s.pk: (s.location.coords, s.outline) for s in Site.objects.all()}
    Site.objects.all().delete()
    run(path)
    after = sorted(Site.objects.values_list("id", "name", "kind", "area__code"))
    assert after == before
    for site in Site.objects.all():
        assert site.location.coords == pytest.approx(located[site.pk][0], abs=1e-6)
        if fmt != "kml":  # KML is written with the points only
            assert site.outline.equals_exact(located[site.pk][1], 1e-6), fmt
    run(path)
    assert Site.objects.count() == 3


def test_rows_outside_the_importers_areas_and_non_points_are_reported(tmp_path, demo_tree, make_user):
    make_user("nam", demo_tree["991"], Role.AREA_MANAGER)
    mine, theirs = inside(demo_tree["99101"]), inside(demo_tree["992"])
    features = [
        {"type": "Feature", "properties": {"name": "Ao nhà", "kind": "ao"}, "geometry": json.loads(mine.geojson)},
        {"type": "Feature", "properties": {"name": "Ao xã khác", "kind": "ao"}, "geometry": json.loads(theirs.geojson)},
        {
            "type": "Feature",
            "properties": {"name": "Kênh", "kind": "kênh"},
            "geometry": {"type": "LineString", "coordinates": [list(mine.coords), [mine.x + 0.001, mine.y]]},
        },
    ]
    path = tmp_path / "sites.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    with pytest.raises(CommandError) as error:
        run(path)
    message = str(error.value)
    assert re.search(r"row 2: This location is in [^\n]+, outside the areas you work in", message)
    assert "row 3: A location must be a point, not a LineString" in message
    assert "row 1:" not in message
    assert not Site.objects.exists() and not AuditEntry.objects.filter(table="hazards_site").exists()


def test_a_site_listed_twice_is_imported_once_and_audited_with_its_file_and_row(
    client, tmp_path, demo_tree, officer, make_site
):
    p = inside(demo_tree["99102"])
    path = write_csv(
        tmp_path / "twice.csv",
        ["name", "kind", "latitude", "longitude", "signage", "barrier", "date"],
        [["Ao đôi", "ao", p.y, p.x, "có", "đầy đủ", "2025-03-04"]] * 2 + [["Giếng", "giếng", p.y, p.x, "", "", ""]],
    )
    run(path)
    pond = Site.objects.get(name="Ao đôi")
    assert Site.objects.count() == 2 and pond.inspections.count() == 1
    assert (pond.signage, pond.barrier, pond.is_protected) == ("in_place", "complete", True)
    assert timezone.localtime(pond.last_checked_at).isoformat() == "2025-03-04T12:00:00+07:00"
    assert pond.code.startswith("HZ-")
    # One audit entry for the import, named by each of its sites with the site's row.
    entry = AuditEntry.objects.get(table="hazards_site")
    assert (entry.action, entry.actor, entry.object_id) == ("insert", officer, "twice.csv")
    assert entry.area_path == "/99/991/99102/"
    assert entry.changes == {"imported_from": "twice.csv", "rows": 3, "sites_added": 2}
    assert not AuditEntry.objects.filter(table="hazards_inspection").exists()
    assert (pond.import_entry, pond.import_row) == (entry, 2)
    assert Site.objects.get(name="Giếng").import_row == 4
    assert list(audit_of_site(pond)) == [entry]
    officer.is_staff = True
    officer.save()
    client.force_login(officer)
    page = client.get(reverse("admin:hazards_site_change", args=[pond.pk]))
    assert "Imported from twice.csv, row 2" in page.text
    # The current summary counts the imported sites, as it counts registered ones.
    assert Site.objects.filter(area=demo_tree["99102"]).count() == 2
    assert AreaDay.objects.filter(area=demo_tree["99"]).aggregate(n=Sum("protected"))["n"] == 1
    # Later writes in the same transaction are audited in full again.
    later = make_site(demo_tree["99103"], actor=officer, name="Ao sau")
    assert AuditEntry.objects.get(object_id=str(later.pk)).changes["name"] == [None, "Ao sau"]


def test_the_read_ahead_thread_speaks_the_callers_language_hands_over_errors_and_stops():
    closed = []

    def failing():
        try:
            yield translation.get_language()
            raise ValueError("unreadable row")
        finally:
            closed.append("failing")

    with translation.override("vi"):
        items = read_ahead(failing())
        assert next(items) == "vi"
        with pytest.raises(ValueError, match="unreadable row"):
            next(items)

    def endless():
        try:
            yield from itertools.count()
        finally:
            closed.append("endless")

    items = read_ahead(endless())
    assert [next(items) for _i in range(3)] == [0, 1, 2]
    items.close()
    assert closed == ["failing", "endless"]


def test_a_file_that_is_not_utf8_or_a_cell_with_a_nul_is_refused_with_its_reason(tmp_path, demo_tree, officer):
    p = inside(demo_tree["99101"])
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(f"name,kind,latitude,longitude\nAo \xf4ng Ba,ao,{p.y},{p.x}\n".encode("latin-1"))
    with pytest.raises(CommandError, match="UTF-8"):
        run(latin)
    nul = write_csv(tmp_path / "nul.csv", ["name", "kind", "latitude", "longitude"], [["Ao\x00", "ao", p.y, p.x]])
    with pytest.raises(CommandError, match=r"row 2: .*NUL"):
        run(nul)
    assert not Site.objects.exists()


def test_a_cell_with_a_control_character_is_refused_naming_its_field(tmp_path, demo_tree, officer):
    """Stored, it would break every XLSX export covering the site (pentest F13)."""
    p = inside(demo_tree["99101"])
    header = ["name", "kind", "latitude", "longitude", "responsible party", "notes"]
    rows = [
        ["A\x0bo", "ao", p.y, p.x, "", ""],
        ["Ao", "ao", p.y, p.x, "UBND\x1b", ""],
        ["Ao", "ao", p.y, p.x, "", "a\x07"],
    ]
    with pytest.raises(CommandError) as refused:
        run(write_csv(tmp_path / "control.csv", header, rows))
    said = str(refused.value)
    assert re.search(r"row 2: .*Name contains the control character U\+000B", said), said
    assert re.search(r"row 3: .*Responsible party contains the control character U\+001B", said), said
    assert re.search(r"row 4: .*Notes contains the control character U\+0007", said), said
    assert not Site.objects.exists()


def test_a_one_column_csv_is_read_not_refused_as_unreadable(tmp_path, demo_tree, officer):
    p = inside(demo_tree["99101"])
    path = tmp_path / "points.csv"
    path.write_text(f"geopoint\n{p.y} {p.x}\n", encoding="utf-8")
    with pytest.raises(CommandError, match="row 2: name: Give the site a name"):
        run(path)


def test_a_file_read_in_several_chunks_is_written_as_one(tmp_path, demo_tree, officer, monkeypatch):
    """Chunks are staged and placed as they are read; the file is written as one: a site
    listed again in a later chunk keeps its first row, codes follow the file, and a bad
    row in the last chunk stores nothing of the chunks before it."""
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 2)
    p, q = inside(demo_tree["99101"]), inside(demo_tree["99102"])
    header = ["id", "name", "kind", "latitude", "longitude"]
    first, again = "0b5c8a52-5f4e-4c39-9a59-6a3d1f0e7c11", "0b5c8a52-5f4e-4c39-9a59-6a3d1f0e7c22"
    rows = [[first, "Ao một", "ao", p.y, p.x], [again, "Hồ hai", "hồ", q.y, q.x]]
    rows += [[first, "Ao một (lần hai)", "giếng", q.y, q.x], ["", "Đập ba", "đập", p.y, p.x]]
    run(write_csv(tmp_path / "chunks.csv", header, rows))
    sites = list(Site.objects.order_by("code").values_list("name", "kind", "area__code"))
    assert sites == [("Ao một", "pond", "99101"), ("Hồ hai", "lake", "99102"), ("Đập ba", "dam", "99101")]
    entry = AuditEntry.objects.get(table="hazards_site")
    assert sorted(Site.objects.filter(import_entry=entry).values_list("import_row", flat=True)) == [2, 3, 5]

    bad = [*rows[:2], ["", "Giếng bốn", "giếng", q.y, q.x], ["", "Ao năm", "ao", 10.5, 106.7]]
    Site.objects.all().delete()
    with pytest.raises(CommandError) as error:
        run(write_csv(tmp_path / "bad_last_chunk.csv", header, bad))
    assert re.findall(r"row (\d+):", str(error.value)) == ["5"]
    assert not Site.objects.exists()


def grid_and_summary() -> tuple[list, list, list]:
    cells = SiteCell.objects.values_list("level", "cx", "cy", "area_id", "kind", "signage", "barrier", "closed", "n")
    by_state = SiteStateCell.objects.values_list("level", "cx", "cy", "area_id", "state", "n")
    days = AreaDay.objects.values_list("area_id", "is_temporary", "day", "counting", "signed", "fenced", "protected")
    return sorted(cells), sorted(by_state), sorted(days)


def rebuilt_grid_and_summary() -> tuple[list, list, list]:
    with connection.cursor() as cursor:
        # The summary's rebuild truncates, which waits for no pending key check.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SELECT mapping_rebuild_cells(), reports_rebuild_summary()")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return grid_and_summary()


def test_the_map_grid_and_summary_take_an_import_and_the_writes_after_it(
    tmp_path, demo_tree, officer, make_site, monkeypatch
):
    """An import adds its sites to the map grid and the summary at its end, as a rebuild
    would count them; a refused file changes neither; writes after an import in the same
    transaction are kept up again, and their keys are checked at commit as before."""
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 2)
    make_site(demo_tree["99101"], name="Ao có trước")
    p, q = inside(demo_tree["99101"]), inside(demo_tree["99102"])
    header = ["name", "kind", "latitude", "longitude", "signage", "barrier", "ngay_kiem_tra"]
    rows = [["Ao một", "ao", p.y, p.x, "có", "đầy đủ", "2026-05-02"], ["Hồ hai", "hồ", q.y, q.x, "", "", ""]]
    rows += [["Đập ba", "đập", q.y, q.x, "hỏng", "một phần", "2026-05-03"]]
    run(write_csv(tmp_path / "sites.csv", header, rows))
    with connection.cursor() as cursor:  # an unknown area: refused at commit, not here
        cursor.execute("UPDATE hazards_site SET area_id = -1 WHERE name = 'Ao một'")
        cursor.execute("UPDATE hazards_site SET area_id = %s WHERE name = 'Ao một'", [demo_tree["99101"].pk])
    imported = grid_and_summary()
    assert imported == rebuilt_grid_and_summary()
    assert sum(n for level, *_rest, n in imported[0] if level == 3) == 4

    with pytest.raises(CommandError):
        run(write_csv(tmp_path / "bad.csv", header, [*rows, ["Ao năm", "ao", 10.5, 106.7, "", "", ""]]))
    assert grid_and_summary() == imported

    make_site(demo_tree["99102"], name="Ao đăng ký sau")
    after = grid_and_summary()
    assert after == rebuilt_grid_and_summary()
    assert sum(n for level, *_rest, n in after[0] if level == 3) == 5


def test_geojson_layouts_are_read_with_their_coordinates_as_written(tmp_path, demo_tree, officer):
    """A FeatureCollection in any layout (pretty-printed, features before "type"), a lone
    Feature and GeoJSON lines: the same sites, at the coordinates the file gives."""
    a, b = inside(demo_tree["99101"]), inside(demo_tree["99102"])
    points = [[round(a.x, 6) + 0.0000009, round(a.y, 6)], [round(b.x, 6), round(b.y, 6)]]
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"Ao {n}", "kind": "ao"},
            "geometry": {"type": "Point", "coordinates": c},
        }
        for n, c in enumerate(points)
    ]
    layouts = {
        "pretty.geojson": json.dumps({"features": features, "type": "FeatureCollection"}, indent=2),
        "lines.geojson": "".join(json.dumps(f) + "\n" for f in features),
    }
    for name, text in layouts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        run(tmp_path / name)
        located = sorted((s.name, s.location.coords) for s in Site.objects.all())
        assert located == [("Ao 0", tuple(points[0])), ("Ao 1", tuple(points[1]))], name
        Site.all_objects.all().delete()
    (tmp_path / "one.geojson").write_text(json.dumps(features[1]), encoding="utf-8")
    run(tmp_path / "one.geojson")
    assert list(Site.objects.values_list("name", flat=True)) == ["Ao 1"]


@pytest.mark.parametrize(
    "geometry",
    ['{"type": "Point", "coordinates": ' + "[" * 1200 + "]" * 1200 + "}", '{"a": ' * 5000 + "1" + "}" * 5000],
)
def test_a_geojson_nested_deeper_than_python_reads_is_refused_not_a_crash(tmp_path, demo_tree, officer, geometry):
    """json's decoder gives up (RecursionError) on deep nesting: a 2.5 KB file made the
    preview answer 500 (pentest N4)."""
    path = tmp_path / "deep.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "Ao", "kind": "ao"},'
        f' "geometry": {geometry}}}]}}',
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match=r"deep\.geojson is not valid GeoJSON: .* at character \d+"):
        run(path)
    assert not Site.objects.exists()


def test_a_geojson_cut_short_is_refused_with_where_it_breaks(tmp_path, demo_tree, officer, monkeypatch):
    p = inside(demo_tree["99101"])
    feature = {"type": "Feature", "properties": {"name": "Ao", "kind": "ao"}, "geometry": json.loads(p.geojson)}
    text = json.dumps({"type": "FeatureCollection", "features": [feature, feature]})
    path = tmp_path / "cut.geojson"
    path.write_text(text, encoding="utf-8")
    # GDAL reads the whole file when it opens it; the break shows when the rows are read.
    opened = import_files.open_layer(path, None)
    monkeypatch.setattr(import_files, "open_layer", lambda *_args: opened)
    path.write_text(text[: len(text) // 2 + 30], encoding="utf-8")
    with pytest.raises(CommandError, match=r"cut\.geojson is not valid GeoJSON: .* at character \d+"):
        run(path)
    assert not Site.objects.exists()


def test_name_based_ids_are_those_of_earlier_imports():
    """Rows without an id get uuid5 of their place, kind and name, as before: importing an
    old list again still finds its sites."""
    for name in ["105.800000|21.000000|pond|ao ông ba", "", "x" * 300]:
        assert imports.name_based_id(name) == str(uuid.uuid5(imports.IMPORT_NAMESPACE, name))

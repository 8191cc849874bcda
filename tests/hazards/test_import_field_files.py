"""The files field teams and communes really bring: KoboToolbox exports (XML values with
group prefixes, and labels in decomposed Unicode, semicolon-separated), an ODK Central
export, and a commune's Excel sheet with a title block above its header, day-first dates
and an instructions sheet before the list. Each is read as the people who made it meant."""

import datetime as dt
import unicodedata

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from openpyxl import Workbook

from accounts.models import Role
from hazards.models import Site
from tests.conftest import inside

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(demo_tree, make_user):
    return make_user("nam", demo_tree["991"], Role.AREA_MANAGER)


def run(path, **options):
    call_command("import_sites", str(path), as_user="nam", **options)


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def test_kobo_xlsx_export_with_xml_values_and_group_headers(tmp_path, demo_tree, officer, capsys):
    """KoboToolbox → Export → XLS, "XML values and headers", groups in headers: choice
    names (ho_chua, co, mot_phan), the geopoint split into _latitude/_longitude columns;
    the inspection is when the form was opened on the phone (start, with its offset)."""
    a, b = inside(demo_tree["99101"]), inside(demo_tree["99102"])
    header = [
        "start", "end", "today", "username", "diem/ten_diem", "diem/loai_diem", "diem/vi_tri", "_diem/vi_tri_latitude",
        "_diem/vi_tri_longitude", "_diem/vi_tri_altitude", "_diem/vi_tri_precision", "kiem_tra/bien_bao",
        "kiem_tra/rao_chan", "kiem_tra/do_sau", "kiem_tra/nguoi_phat_hien", "_id", "_uuid", "_submission_time",
        "_validation_status", "_notes", "_status", "_submitted_by", "__version__", "_tags", "_index",
    ]  # fmt: skip
    rows = [
        ["2025-05-01T07:20:11.000+07:00", "2025-05-01T07:31:40.000+07:00", "2025-05-01", "ctv_thon1",
         "Hồ Bản Chang", "ho_chua", f"{a.y} {a.x} 0 4", a.y, a.x, 0, 4, "co",
         "mot_phan", 3.5, "Lò Văn Páo", 101, "7d3c1f0e-52a4-4b8e-a1d2-0c9b8e7f6a51", "2025-05-01T00:36:12", "", "",
         "submitted_via_web", "ctv_thon1", "vQx8", "", 1],
        ["2025-05-02T15:58:02.000+07:00", "2025-05-02T16:01:15.000+07:00", "2025-05-02", "ctv_thon1",
         "Kênh Nà Lầu", "kenh_muong", f"{b.y} {b.x} 0 6", b.y, b.x, 0, 6, "khong",
         "khong", "", "", 102, "7d3c1f0e-52a4-4b8e-a1d2-0c9b8e7f6a52", "2025-05-02T09:05:00", "", "",
         "submitted_via_web", "ctv_thon1", "vQx8", "", 2],
    ]  # fmt: skip
    book = Workbook()
    sheet = book.active
    sheet.title = "diem_nguy_co"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(tmp_path / "Diem_nguy_co_-_all_versions_-_False_-_2025-05-03-02-11-09.xlsx")
    run(tmp_path / "Diem_nguy_co_-_all_versions_-_False_-_2025-05-03-02-11-09.xlsx")

    lake = Site.objects.get(pk="7d3c1f0e-52a4-4b8e-a1d2-0c9b8e7f6a51")
    assert (lake.name, lake.kind, lake.signage, lake.barrier) == ("Hồ Bản Chang", "lake", "in_place", "partial")
    assert float(lake.depth_m) == 3.5 and lake.location.coords == pytest.approx((a.x, a.y))
    assert local(lake.last_checked_at) == "2025-05-01 07:20"
    canal = Site.objects.get(pk="7d3c1f0e-52a4-4b8e-a1d2-0c9b8e7f6a52")
    assert (canal.kind, canal.signage, canal.barrier) == ("canal", "none", "none")
    assert local(canal.last_checked_at) == "2025-05-02 15:58"
    # The question left unmapped is named; Kobo's bookkeeping columns are not.
    notices = capsys.readouterr().err
    assert "Columns not imported: kiem_tra/nguoi_phat_hien." in notices


def test_kobo_csv_with_labels_in_decomposed_unicode(tmp_path, demo_tree, officer):
    """Kobo's CSV export ("Labels", ";" separated) of a form typed with Unikey in "tổ hợp"
    mode: letters and tone marks apart. Everyday words ("Ao cá", "Sông", "Chưa có") are
    understood, and names are stored composed, so they are found when searched."""
    a, b = inside(demo_tree["99103"]), inside(demo_tree["99104"])
    lines = [
        "Tên điểm;Loại điểm nguy cơ;Vị trí;Biển báo;Rào chắn;_submission_time;_uuid",
        f"Ao cá nhà ông Tư;Ao cá;{a.y} {a.x} 12 5;Chưa có;Chưa có;2025-06-10T01:00:00;",
        f"Bến sông Đà;Sông;{b.y} {b.x} 8 3;Có;Một phần;2025-06-10T02:30:00;",
    ]
    path = tmp_path / "kobo_labels.csv"
    path.write_text(unicodedata.normalize("NFD", "\n".join(lines) + "\n"), encoding="utf-8")
    run(path)
    assert sorted(Site.objects.values_list("name", "kind", "signage", "barrier")) == [
        ("Ao cá nhà ông Tư", "pond", "none", "none"),
        ("Bến sông Đà", "river_landing", "in_place", "partial"),
    ]
    landing = Site.objects.get(name="Bến sông Đà")  # stored composed, as typed in a search box
    # Submitted at 02:30 UTC without an offset (Kobo's _submission_time): 09:30 in Vietnam.
    assert local(landing.last_checked_at) == "2025-06-10 09:30"


def test_odk_central_export(tmp_path, demo_tree, officer):
    """ODK Central's CSV: groups joined with "-", the geopoint as -Latitude/-Longitude
    columns, SubmissionDate in UTC with "Z", and meta-instanceID "uuid:..." as the id."""
    a = inside(demo_tree["99104"])
    header = [
        "SubmissionDate", "grp_site-site_name", "grp_site-kind", "grp_site-geo-Latitude", "grp_site-geo-Longitude",
        "grp_site-geo-Altitude", "grp_site-geo-Accuracy", "grp_check-signage", "grp_check-barrier",
        "meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected",
        "Status", "ReviewState", "DeviceID", "Edits", "FormVersion",
    ]  # fmt: skip
    row = [
        "2025-04-20T23:15:42.031Z", "Giếng cạn xóm Đông", "gieng", str(a.y), str(a.x), "12.3", "4.9", "hong",
        "day_du", "uuid:0a9f3c52-1d2e-4f6a-8b7c-5d4e3f2a1b0c", "uuid:0a9f3c52-1d2e-4f6a-8b7c-5d4e3f2a1b0c", "7",
        "ctv02", "0", "0", "", "", "collect:Xy12", "0", "2025041801",
    ]  # fmt: skip
    path = tmp_path / "diem_nguy_co.csv"
    path.write_text(",".join(header) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    run(path)
    well = Site.objects.get(pk="0a9f3c52-1d2e-4f6a-8b7c-5d4e3f2a1b0c")
    assert (well.name, well.kind, well.signage, well.barrier) == ("Giếng cạn xóm Đông", "well", "damaged", "complete")
    assert local(well.last_checked_at) == "2025-04-21 06:15"


def commune_workbook(path, demo_tree):
    """A commune's list as its officer keeps it: an instructions sheet first, then the list
    under the committee's title block, a numbering row under the header, day-first dates
    typed as text and as Excel dates, an empty row, and a second village's sheet."""
    a, b, c = (inside(demo_tree[code]) for code in ("99101", "99102", "99103"))
    book = Workbook()
    guide = book.active
    guide.title = "Hướng dẫn"
    guide.append(["Ghi loại điểm: ao, hồ, đập, kênh mương, giếng, hố, bến sông"])
    sheet = book.create_sheet("Thôn 1")
    sheet.append(["UBND XÃ SUỐI BẠC", None, None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"])
    sheet.append([None, None, None, None, "Độc lập - Tự do - Hạnh phúc"])
    sheet.append([])
    sheet.append(["DANH SÁCH CÁC ĐIỂM NGUY CƠ ĐUỐI NƯỚC TRÊN ĐỊA BÀN XÃ"])
    sheet.append(["(Kèm theo Báo cáo số 45/BC-UBND ngày 12/5/2025)"])
    sheet.append(
        ["STT", "Tên điểm", "Loại", "Vĩ độ", "Kinh độ", "Biển báo", "Rào chắn", "Ngày kiểm tra", "Ghi chú", "Xác nhận"]
    )
    sheet.append(["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)", "(8)", "(9)", "(10)"])
    sheet.append([1, "Ao HTX", "Ao", a.y, a.x, "Có", "Đầy đủ", "05/03/2025", "Sâu 2m", "Đã xác minh"])
    sheet.append([])
    sheet.append([2, "Hố bom thôn 1", "Hố bom", b.y, b.x, "Không", "Một phần", dt.datetime(2025, 3, 7), ""])
    sheet.append([3, "Đập Khe Cát", "Đập", c.y, c.x, "Hỏng", "Không", "7/3/2025", ""])
    other = book.create_sheet("Thôn 2")
    other.append(["STT", "Tên điểm", "Loại", "Vĩ độ", "Kinh độ"])
    other.append([1, "Giếng thôn 2", "Giếng", c.y, c.x])
    book.save(path)
    return path


def test_commune_excel_sheet_with_title_block(tmp_path, demo_tree, officer, capsys):
    # Two villages' lists: the officer chooses the sheet (test_import_sheets.py).
    run(commune_workbook(tmp_path / "DS diem nguy co xa Suoi Bac.xlsx", demo_tree), sheet="Thôn 1")
    sites = {s.name: s for s in Site.objects.all()}
    assert sorted(sites) == ["Ao HTX", "Hố bom thôn 1", "Đập Khe Cát"]
    assert (sites["Ao HTX"].kind, sites["Ao HTX"].signage, sites["Ao HTX"].barrier) == ("pond", "in_place", "complete")
    assert sites["Hố bom thôn 1"].kind == "pit" and sites["Đập Khe Cát"].signage == "damaged"
    # Day first, as Vietnam writes dates; a bare day counts at noon.
    assert local(sites["Ao HTX"].last_checked_at) == "2025-03-05 12:00"
    assert local(sites["Hố bom thôn 1"].last_checked_at) == "2025-03-07 12:00"
    assert local(sites["Đập Khe Cát"].last_checked_at) == "2025-03-07 12:00"
    # The rows keep the numbers Excel shows them under, the empty row counted.
    assert sites["Ao HTX"].import_row == 8 and sites["Đập Khe Cát"].import_row == 11
    notices = capsys.readouterr().err
    assert "Only the sheet “Thôn 1” was read" in notices and "“Thôn 2”" in notices
    assert "Columns not imported: Xác nhận." in notices and "STT" not in notices


def test_a_bad_row_in_the_commune_sheet_names_the_row_excel_shows(tmp_path, demo_tree, officer):
    path = commune_workbook(tmp_path / "ds.xlsx", demo_tree)
    from openpyxl import load_workbook

    book = load_workbook(path)
    book["Thôn 1"]["C11"] = "Ao sen"  # not a word the import knows
    book.save(path)
    with pytest.raises(CommandError) as error:
        run(path, sheet="Thôn 1")
    assert "row 11: unknown kind 'Ao sen'" in str(error.value)
    assert not Site.objects.exists()
    # The officer says what the word means: the file imports as it is.
    run(path, sheet="Thôn 1", kind_word=["ao sen=ao"])
    assert Site.objects.get(name="Đập Khe Cát").kind == "pond"


def test_a_file_without_kind_or_state_columns_says_so(tmp_path, demo_tree, officer, capsys):
    a = inside(demo_tree["99101"])
    path = tmp_path / "toa_do.csv"
    path.write_text(f"Tên,Vĩ độ,Kinh độ,Người báo\nAo làng,{a.y},{a.x},Ông Sáu\n", encoding="utf-8")
    run(path)
    notices = capsys.readouterr().err
    assert "No column gives the kind: every site is imported as “Other”." in notices
    assert "No column gives the sign or the barrier" in notices
    assert "Columns not imported: Người báo." in notices


def test_own_words_that_name_no_choice_are_refused(tmp_path, demo_tree, officer):
    a = inside(demo_tree["99101"])
    path = tmp_path / "x.csv"
    path.write_text(f"name,kind,lat,lon\nAo,ao sen,{a.y},{a.x}\n", encoding="utf-8")
    with pytest.raises(CommandError, match="unknown kind 'hoa sen'"):
        run(path, kind_word=["ao sen=hoa sen"])
    with pytest.raises(CommandError, match="word = choice"):
        run(path, kind_word=["ao sen"])


def test_kml_from_google_earth_reads_placemarks_and_follows_no_link(tmp_path, demo_tree, officer, capsys):
    """Placemarks with ExtendedData in folders; a NetworkLink to a listening socket is
    never opened; a placemark that is a line or has bad coordinates is named by its row."""
    from tests.security.test_no_network import Listener

    a, b = inside(demo_tree["99101"]), inside(demo_tree["99102"])
    listener = Listener()
    try:

        def kml(extra=""):
            return f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2"><Document>
<NetworkLink><name>Lớp cập nhật</name><Link><href>{listener.url}/layer.kml</href></Link></NetworkLink>
<Style id="s"><IconStyle><Icon><href>{listener.url}/icon.png</href></Icon></IconStyle></Style>
<Folder><name>Thôn 1</name>
<Placemark><name>Giếng bỏ hoang</name><styleUrl>#s</styleUrl>
<ExtendedData><SchemaData schemaUrl="#diem"><SimpleData name="loai">giếng</SimpleData>
<SimpleData name="rao_chan">không</SimpleData></SchemaData></ExtendedData>
<Point><gx:drawOrder>1</gx:drawOrder><coordinates> {a.x},{a.y},0 </coordinates></Point></Placemark>
<Placemark><name>Hồ Đá Mài</name><ExtendedData><SchemaData><SimpleData name="loai">hồ</SimpleData></SchemaData>
</ExtendedData><Point><coordinates>{b.x},{b.y}</coordinates></Point></Placemark>{extra}
</Folder></Document></kml>"""

        bad = tmp_path / "bad.kml"
        bad.write_text(
            kml(
                f"<Placemark><name>Mương</name><LineString><coordinates>{a.x},{a.y} {b.x},{b.y}</coordinates>"
                "</LineString></Placemark><Placemark><name>Ao</name><Point><coordinates>105,8;21,0</coordinates>"
                f"</Point></Placemark><Placemark><name>Giếng</name><Point><coordinates>{a.x},{a.y} {b.x},{b.y}"
                "</coordinates></Point></Placemark>"
            ),
            encoding="utf-8",
        )
        with pytest.raises(CommandError) as error:
            run(bad)
        assert "row 3: A location must be a point, not a LineString" in str(error.value)
        assert "row 4: the coordinates are not numbers" in str(error.value)
        # A Point of two positions: the first is not the one meant any more than the second.
        assert "row 5: A location must be a point, not a MultiPoint" in str(error.value)
        assert not Site.objects.exists()
        good = tmp_path / "diem.kml"
        good.write_text(kml(), encoding="utf-8")
        run(good)
    finally:
        listener.stop()
    assert listener.seen == []
    assert sorted(Site.objects.values_list("name", "kind", "barrier")) == [
        ("Giếng bỏ hoang", "well", "none"),
        ("Hồ Đá Mài", "lake", "none"),
    ]
    assert "1 network links in the file were not followed" in capsys.readouterr().err


def test_a_kml_with_an_entity_declaration_is_refused(tmp_path, demo_tree, officer):
    path = tmp_path / "lol.kml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa">]>'
        "<kml><Placemark><name>&a;</name></Placemark></kml>",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match=r"lol\.kml: it declares a document type or entities"):
        run(path)


def test_a_site_at_the_same_place_under_a_new_name_is_listed_as_a_possible_duplicate(
    tmp_path, demo_tree, officer, make_site, capsys
):
    """The survey app's rule: a site of the same kind within 30 m. The rows are imported
    (the list is a warning, as in the app) and the outcome names each with the site."""
    from django.contrib.gis.geos import Point

    registered = make_site(demo_tree["99101"], name="Ao ông Ba", kind="pond")
    lon, lat = registered.location.coords
    metre = 1 / 111_320  # a metre of latitude, in degrees
    path = tmp_path / "ra_soat_2026.csv"
    path.write_text(
        "Tên,Loại,Vĩ độ,Kinh độ\n"
        f"Ao nhà ông Ba (xóm Đình),ao,{lat + 12 * metre},{lon}\n"
        f"Giếng nhà ông Ba,giếng,{lat + 5 * metre},{lon}\n"
        f"Ao xóm Trại,ao,{lat + 45 * metre},{lon}\n",
        encoding="utf-8",
    )
    run(path)
    assert Site.objects.count() == 4
    notices = capsys.readouterr().err
    assert f"row 2: 12 m from {registered.code} “Ao ông Ba”, a site of the same kind" in notices
    assert "row 3:" not in notices and "row 4:" not in notices
    assert Point(lon, lat).distance(Site.objects.get(name="Ao xóm Trại").location) > 40 * metre


def test_pond_outlines_are_stored_with_the_site_on_their_surface(tmp_path, demo_tree, officer):
    """Ponds drawn as polygons (QGIS, My Maps): the outline is kept and the site placed at
    a point on its surface, even for a pond bent like a U whose centroid lies outside it;
    an outline that is not a valid polygon, or a whole commune, is named by its row."""
    import json

    from django.contrib.gis.geos import Polygon

    c = inside(demo_tree["99102"])
    x, y, d = c.x, c.y, 0.0005
    u_pond = [[x, y], [x + 3 * d, y], [x + 3 * d, y + 3 * d], [x + 2 * d, y + 3 * d], [x + 2 * d, y + d],
              [x + d, y + d], [x + d, y + 3 * d], [x, y + 3 * d], [x, y]]  # fmt: skip
    bow_tie = [[x, y], [x + d, y + d], [x + d, y], [x, y + d], [x, y]]
    commune = [[x - 0.2, y - 0.2], [x + 0.2, y - 0.2], [x + 0.2, y + 0.2], [x - 0.2, y + 0.2], [x - 0.2, y - 0.2]]

    def feature(name, ring):
        return {"type": "Feature", "properties": {"ten": name, "loai": "ao"},
                "geometry": {"type": "Polygon", "coordinates": [ring]}}  # fmt: skip

    bad = tmp_path / "ao_ve.geojson"
    features = [feature("Ao chữ U", u_pond), feature("Ao lỗi", bow_tie), feature("Cả xã", commune)]
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    with pytest.raises(CommandError) as error:
        run(bad)
    assert "row 2: The outline is not a valid polygon" in str(error.value)
    assert "row 3: The outline is too large for one site" in str(error.value)
    assert "row 1:" not in str(error.value) and not Site.objects.exists()

    good = tmp_path / "ao.geojson"
    good.write_text(json.dumps({"type": "FeatureCollection", "features": features[:1]}), encoding="utf-8")
    run(good)
    pond = Site.objects.get()
    assert pond.outline.equals(Polygon(u_pond)) and pond.outline.contains(pond.location)
    assert not Polygon(u_pond).centroid.within(pond.outline)  # why not the centroid
    assert pond.area.code == "99102"

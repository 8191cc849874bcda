"""`load_areas` on the real Vietnamese boundary files and on every kind of bad file."""

import io
import json
import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from areas.models import Area, AreaPiece
from tests.conftest import BOUNDARIES, communes_covering, inside

pytestmark = pytest.mark.django_db


def load(*paths, **options):
    call_command("load_areas", *[str(p) for p in paths], **options)


def test_pre2025_province_district_commune_tree(demo_tree):
    # Three levels: the demo province, its districts, their communes (as before July 2025).
    commune = Area.objects.get(code="99101")
    assert commune.level == "commune"
    assert commune.parent.code == "991"
    assert commune.parent.parent.code == "99"
    assert commune.path == "/99/991/99101/"
    assert commune.depth == 2


def test_real_pre2025_provinces_and_districts():
    load(BOUNDARIES / "vn_provinces_63_pre2025_dvhcvn.geojson")
    load(BOUNDARIES / "districts_pre2025_06_bac_kan_dvhcvn.geojson")
    assert Area.objects.filter(level="province").count() == 63
    districts = Area.objects.filter(level="district")
    assert districts.count() == 8
    assert {d.parent.code for d in districts} == {"06"}
    # Codes are text with their leading zeros.
    assert Area.objects.filter(code="058", name="Thành Phố Bắc Kạn").exists()
    assert Area.objects.get(code="01").name == "Thành phố Hà Nội"


def test_real_post2025_province_commune_tree():
    load(BOUNDARIES / "vn_provinces_34_post2025_gisvn_simplified.geojson")
    load(BOUNDARIES / "wards_post2025_19_thai_nguyen_incl_bac_kan_gisvn.geojson")
    wards = Area.objects.filter(level="commune")
    assert wards.count() == 92
    ward = wards.get(code="05809")
    assert ward.parent.code == "19" and ward.parent.level == "province"
    assert ward.path == "/19/05809/" and ward.depth == 1
    assert ward.unit_type == "Xã"
    # Every ward boundary is cut into pieces for fast point lookups.
    assert AreaPiece.objects.filter(area=ward).exists()


def test_reload_updates_by_code_and_reassigns_sites(demo_tree, make_site, tmp_path):
    site = make_site(demo_tree["99102"], location=inside(demo_tree["99102"]))
    assert site.area.code == "99102"
    # A corrected commune file: 99101 is renamed and now covers the site's point.
    communes = communes_covering("99101", site.location)
    for feature in communes["features"]:
        if feature["properties"]["ma_xa"] == "99101":
            feature["properties"]["ten_xa"] = "Xã Suối Bạc Mới"
    changed = tmp_path / "communes.geojson"
    changed.write_text(json.dumps(communes))
    count = Area.objects.count()
    said = io.StringIO()
    load(changed, stdout=said)
    assert Area.objects.count() == count
    assert Area.objects.get(code="99101").name == "Xã Suối Bạc Mới"
    site.refresh_from_db()
    assert site.area.code == "99101"
    # The sites' new areas come from hazards, through areas' hook; the load counts them.
    assert "1 sites re-assigned." in said.getvalue()


def test_shapefile_and_geopackage(tmp_path):
    load(BOUNDARIES / "vn_provinces_63_pre2025_dvhcvn.geojson")
    source = BOUNDARIES / "districts_pre2025_06_bac_kan_dvhcvn.geojson"
    gpkg = tmp_path / "bac_kan.gpkg"
    shp = tmp_path / "bac_kan.shp"
    subprocess.run(["ogr2ogr", "-f", "GPKG", gpkg, source], check=True)
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", "-lco", "ENCODING=UTF-8", shp, source], check=True)
    load(gpkg)
    assert Area.objects.filter(parent__code="06").count() == 8
    Area.objects.filter(parent__code="06").update(name="x")
    load(shp)
    assert Area.objects.get(code="058").name == "Thành Phố Bắc Kạn"
    assert Area.objects.filter(parent__code="06").count() == 8


def test_explicit_field_options(tmp_path):
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"MA": "0042", "TEN": "Tỉnh Thử"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[105, 21], [106, 21], [106, 22], [105, 22], [105, 21]]],
                },
            }
        ],
    }
    path = tmp_path / "custom.geojson"
    path.write_text(json.dumps(collection))
    load(path, code_field="MA", name_field="TEN", level="province")
    assert Area.objects.get(code="0042").name == "Tỉnh Thử"


def feature(props, geometry):
    return {"type": "Feature", "properties": props, "geometry": geometry}


SQUARE = {"type": "Polygon", "coordinates": [[[105, 21], [105.5, 21], [105.5, 21.5], [105, 21.5], [105, 21]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[105, 21], [105.5, 21.5], [105.5, 21], [105, 21.5], [105, 21]]]}


def write(tmp_path, features, name="bad.geojson", extra=None):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", **(extra or {}), "features": features}))
    return path


def good(code="01", **geometry):
    return feature({"ma_tinh": code, "ten_tinh": f"Tỉnh {code}"}, geometry or SQUARE)


@pytest.mark.parametrize(
    ("features", "extra", "message"),
    [
        ([feature({"ten_tinh": "X"}, SQUARE)], None, "--code-field"),
        (
            [good(), feature({"ma_tinh": "02", "ten_tinh": "Tỉnh 2"}, BOWTIE)],
            None,
            "feature 2 (code 02): The boundary is not a valid polygon",
        ),
        (
            [good(), feature({"ma_tinh": "03", "ten_tinh": "Tỉnh 3"}, {"type": "Point", "coordinates": [105, 21]})],
            None,
            "feature 2 (code 03): A boundary must be a polygon",
        ),
        (
            [
                good(),
                feature(
                    {"ma_tinh": "04", "ten_tinh": "Tỉnh 4"},
                    {"type": "LineString", "coordinates": [[105, 21], [106, 22]]},
                ),
            ],
            None,
            "feature 2 (code 04)",
        ),
        (
            [good(), feature({"ma_tinh": "", "ten_tinh": "Tỉnh"}, SQUARE)],
            None,
            "feature 2 (code ?): the code field ma_tinh is empty",
        ),
        ([good(), good()], None, "feature 2 (code 01): code repeats feature 1"),
        (
            [good(), feature({"ma_tinh": "05", "ten_tinh": "Tỉnh 5"}, None)],
            None,
            "feature 2 (code 05): it has no geometry",
        ),
        (
            [
                good(),
                feature(
                    {"ma_tinh": "06", "ten_tinh": "T"},
                    {"type": "Polygon", "coordinates": [[[2, 48], [3, 48], [3, 49], [2, 48]]]},
                ),
            ],
            None,
            "feature 2 (code 06): The location",
        ),
        (
            [
                good(),
                feature(
                    {"ma_tinh": "07", "ten_tinh": "T"},
                    {"type": "Polygon", "coordinates": [[[105, 21, 5], [106, 21, 5], [106, 22, 5], [105, 21, 5]]]},
                ),
            ],
            None,
            "without height",
        ),
        (
            [
                feature(
                    {"ma_tinh": "08", "ten_tinh": "T"},
                    {
                        "type": "Polygon",
                        "coordinates": [
                            [[11700000, 2400000], [11800000, 2400000], [11800000, 2500000], [11700000, 2400000]]
                        ],
                    },
                )
            ],
            {"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}},
            "not WGS 84 (EPSG:4326)",
        ),
        ([], None, "has no features"),
    ],
    ids=[
        "no-code-field",
        "invalid",
        "point",
        "line",
        "empty-code",
        "repeated-code",
        "no-geometry",
        "outside-country",
        "3d",
        "wrong-crs",
        "empty",
    ],
)
def test_bad_files_store_nothing(tmp_path, features, extra, message):
    path = write(tmp_path, features, extra=extra)
    with pytest.raises(CommandError) as error:
        load(path)
    assert message in str(error.value)
    assert "Nothing was loaded" in str(error.value)
    assert Area.objects.count() == 0


def test_unknown_parent_code_stores_nothing(tmp_path):
    load(write(tmp_path, [good("01")], "provinces.geojson"))
    communes = [
        feature({"ma_xa": "00001", "ten_xa": "Xã A", "ma_tinh": "01"}, SQUARE),
        feature({"ma_xa": "00002", "ten_xa": "Xã B", "ma_tinh": "77"}, SQUARE),
    ]
    with pytest.raises(CommandError, match="code 00002: unknown parent code 77"):
        load(write(tmp_path, communes, "communes.geojson"))
    assert list(Area.objects.values_list("code", flat=True)) == ["01"]


def test_numeric_code_field_is_refused(tmp_path):
    path = write(tmp_path, [feature({"ma_tinh": 1, "ten_tinh": "Tỉnh 1"}, SQUARE)])
    with pytest.raises(CommandError, match="ma_tinh holds numbers"):
        load(path)
    assert Area.objects.count() == 0


def test_bad_second_file_undoes_the_first(tmp_path):
    first = write(tmp_path, [good("01")], "a.geojson")
    second = write(tmp_path, [feature({"ma_tinh": "02", "ten_tinh": "X"}, BOWTIE)], "b.geojson")
    with pytest.raises(CommandError, match=r"b\.geojson feature 1"):
        load(first, second)
    assert Area.objects.count() == 0


def test_missing_field_and_unreadable_file(tmp_path):
    path = write(tmp_path, [feature({"MA": "01"}, SQUARE)])
    with pytest.raises(CommandError, match="missing field"):
        load(path, code_field="MA", name_field="TEN", level="province")
    junk = tmp_path / "notes.geojson"
    junk.write_text("this is not geojson")
    with pytest.raises(CommandError, match="not a readable"):
        load(junk)
    with pytest.raises(CommandError, match="no such file"):
        load(tmp_path / "absent.geojson")


def test_real_projected_geopackage_is_refused(tmp_path):
    projected = tmp_path / "bac_kan_3857.gpkg"
    subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "GPKG",
            "-t_srs",
            "EPSG:3857",
            projected,
            BOUNDARIES / "districts_pre2025_06_bac_kan_dvhcvn.geojson",
        ],
        check=True,
    )
    with pytest.raises(CommandError, match="Pseudo-Mercator"):
        load(projected, level="district")
    assert Area.objects.count() == 0


assert shutil.which("ogr2ogr"), "gdal-bin is installed by scripts/system-packages.sh"


@pytest.mark.parametrize("name", ["Xã\x07 Chuông", "Xã\x1b[31m Đỏ", "Xã\u0085 C1", "Xã\nhai dòng"])
def test_an_area_name_with_a_control_character_is_refused_naming_its_feature(tmp_path, name):
    """Area names head pages, PDFs and every spreadsheet's rows (pentest F13's class): they
    keep the stored text rule of sites' names (common/text.py)."""
    features = [
        feature({"ma_tinh": "01", "ten_tinh": "Tỉnh A", "loai": "Tỉnh"}, SQUARE),
        feature({"ma_tinh": "03", "ten_tinh": name, "loai": "Tỉnh"}, SQUARE),
        feature({"ma_tinh": "02", "ten_tinh": "Tỉnh B", "loai": "Tỉnh\x07"}, SQUARE),
    ]
    with pytest.raises(CommandError) as error:
        load(write(tmp_path, features))
    code = f"U+{ord(next(c for c in name if ord(c) < 32 or 127 <= ord(c) < 160)):04X}"
    assert f"feature 2 (code 03): Name contains the control character {code}" in str(error.value)
    assert "feature 3 (code 02): Unit type contains the control character U+0007" in str(error.value)
    assert Area.objects.count() == 0


def test_each_demo_area_s_unit_type_is_the_whole_start_of_its_name(demo_tree):
    """The demo city's type was "Thành" (the name's first word), so its documents named
    the place "phố Sông Xanh"; a type of two words is whole."""
    types = {"Tỉnh", "Thành phố", "Thị xã", "Thị trấn", "Huyện", "Quận", "Phường", "Xã"}
    for area in demo_tree.values():
        assert area.unit_type in types and area.name.startswith(area.unit_type + " "), area.name
    assert demo_tree["993"].unit_type == "Thành phố"

"""VN-2000 coordinates: a cadastral officer's table of X/Y metres in the province's TM-3
zone, and GIS layers whose .prj declares VN-2000, are placed where they are, by the
official transformation (Circular 973/2001/TT-TCĐC, EPSG:6960); a coordinate system the
registry cannot identify is refused, not guessed.

The control points: two places given in WGS 84, whose VN-2000 coordinates were computed
with Debian's PROJ 9.1 (`cct`, not the PROJ inside pyproj that the import uses) from the
circular's seven parameters and the zones' EPSG definitions:

    Thái Nguyên (TM-3 106°30', EPSG:9213): 105.8482 E 21.5942 N = X 2388879.3462, Y 432314.3641
    TP. Hồ Chí Minh (TM-3 105°45', EPSG:9210): 106.7009 E 10.7769 N = X 1191942.3050, Y 603797.2607

In the south PROJ's own choice of transformation (EPSG:5194, an academic set for two
Mekong delta blocks, as `cs2cs EPSG:9210 EPSG:4326` picks) puts the second 0.8 m east."""

import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pyproj import Geod

from accounts.models import Role
from areas.loader import load_boundaries
from hazards.models import Site
from tests.conftest import BOUNDARIES

pytestmark = pytest.mark.django_db

THAI_NGUYEN = {"wgs84": (105.8482, 21.5942), "x": 2388879.3462, "y": 432314.3641, "epsg": 9213}
HO_CHI_MINH = {"wgs84": (106.7009, 10.7769), "x": 1191942.3050, "y": 603797.2607, "epsg": 9210}
# cs2cs EPSG:9210 EPSG:4326 for HO_CHI_MINH's X/Y (PROJ's choice, not the official one)
PROJ_DEFAULT_HCM = (106.7009073, 10.7769004)


@pytest.fixture
def officer(make_user):
    load_boundaries([BOUNDARIES / "vn_provinces_34_post2025_gisvn_simplified.geojson"])
    from areas.models import Area

    user = make_user("nam", Area.objects.get(code="19"), Role.AREA_MANAGER)
    user.memberships.create(area=Area.objects.get(code="79"), role=Role.AREA_MANAGER)
    return user


def metres(a, b) -> float:
    return Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2]


def run(path, **options):
    call_command("import_sites", str(path), as_user="nam", **options)


def test_a_cadastral_table_of_x_y_metres(tmp_path, officer, capsys):
    """Vietnamese survey tables call the northing X and the easting Y, with a comma for
    decimals; the officer states the province's zone."""
    path = tmp_path / "toa_do_vn2000.csv"
    path.write_text(
        "STT;Tên điểm;Loại;X (m);Y (m)\n"
        f"1;Hồ Núi Cốc (cửa tràn);Hồ;{THAI_NGUYEN['x']:.4f};{THAI_NGUYEN['y']:.4f}\n".replace(".", ","),
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match=r"row 2: Coordinates are out of range"):
        run(path)  # taken for degrees without the zone: refused, nothing stored
    run(path, crs=9213)
    site = Site.objects.get()
    assert site.name == "Hồ Núi Cốc (cửa tràn)" and site.area.code == "19"
    assert metres(site.location.coords, THAI_NGUYEN["wgs84"]) < 0.05
    assert "Coordinates converted to WGS 84 from VN-2000 / TM-3 106°30' (EPSG:9213)" in capsys.readouterr().err


def gpkg(tmp_path, name, point, srs: str):
    source = tmp_path / f"{name}.csv"
    source.write_text(f"ten,loai,E,N\nAo Thủ Thiêm,ao,{point['y']},{point['x']}\n", encoding="utf-8")
    target = tmp_path / f"{name}.gpkg"
    subprocess.run(
        ["ogr2ogr", "-f", "GPKG", target, source, "-oo", "X_POSSIBLE_NAMES=E", "-oo", "Y_POSSIBLE_NAMES=N",
         "-a_srs", srs, "-nln", "diem"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return target


def test_a_geopackage_declaring_vn2000_goes_by_the_official_transformation(tmp_path, officer):
    run(gpkg(tmp_path, "hcm", HO_CHI_MINH, "EPSG:9210"))
    site = Site.objects.get()
    assert site.area.code == "79"
    assert metres(site.location.coords, HO_CHI_MINH["wgs84"]) < 0.05
    assert metres(site.location.coords, PROJ_DEFAULT_HCM) > 0.7  # not where PROJ alone would put it


UNNAMED_DATUM = (
    'PROJCS["VN2000 HCM",GEOGCS["unknown",DATUM["unknown",SPHEROID["WGS84",6378137,298.257223563]],'
    'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",105.75],PARAMETER["scale_factor",0.9999],'
    'PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1]]'
)


def test_a_system_that_cannot_be_identified_is_refused_until_stated(tmp_path, officer):
    """A .prj on WGS 84's ellipsoid with an unnamed datum: GDAL would move it by nothing
    (224 m off); the registry refuses it, and takes it as the system the officer states."""
    path = gpkg(tmp_path, "unnamed", HO_CHI_MINH, UNNAMED_DATUM)
    with pytest.raises(CommandError, match="declares the coordinate system “VN2000 HCM”, which is not one"):
        run(path)
    assert not Site.objects.exists()
    (tmp_path / "a.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(CommandError, match="GeoJSON and KML are always in WGS 84"):
        run(tmp_path / "a.geojson", crs=9210)
    run(path, crs=9210)
    assert metres(Site.objects.get().location.coords, HO_CHI_MINH["wgs84"]) < 0.05


def test_a_stated_system_must_agree_with_the_declared_one(tmp_path, officer):
    with pytest.raises(CommandError, match=r"declares VN-2000 / TM-3 105°45' \(EPSG:9210\), not the VN-2000 / TM-3"):
        run(gpkg(tmp_path, "hcm", HO_CHI_MINH, "EPSG:9210"), crs=9213)
    assert not Site.objects.exists()


def test_the_page_takes_the_zone_of_a_table(client, officer, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from tests.hazards.test_import_page import submitted

    settings.IMPORT_UPLOAD_ROOT = tmp_path / "imports"
    client.force_login(officer)
    table = f"Tên điểm,Loại,X,Y\nAo Thủ Thiêm,ao,{HO_CHI_MINH['x']},{HO_CHI_MINH['y']}\n"
    response = client.post(
        reverse("import-upload"), {"file": SimpleUploadedFile("toa_do.csv", table.encode()), "system": "9210"}
    )
    assert response.status_code == 302 and response["Location"].endswith("?system=9210")
    page = submitted(client, response["Location"], {"system": "9210", "action": "import"})
    assert "1 sites added" in page and "Coordinates converted to WGS 84 from VN-2000 / TM-3 105°45&#x27;" in page
    assert metres(Site.objects.get().location.coords, HO_CHI_MINH["wgs84"]) < 0.05

"""The data behind the planner map: sites in view, child areas with their protected
share, a site's panel, the priority list and its file, and the schools layer."""

import csv
import io
import json
import subprocess

import pytest
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from hazards import services
from mapping.models import Place
from tests.conftest import inside

pytestmark = pytest.mark.django_db


def offset(point: Point, metres_east: float) -> Point:
    moved = Point(point.x + metres_east / 103_000, point.y, srid=4326)  # about 103 km per degree at 22° N
    return moved


@pytest.fixture
def world(demo_tree, make_site, inspect, make_user, superuser):
    commune = demo_tree["99101"]
    here = inside(commune)
    sites = {
        "pond": make_site(commune, kind="pond", name="Ao gần trường", location=offset(here, 50)),
        "well": make_site(commune, kind="well", name="Giếng xa", location=offset(here, 1500), deep_water=False),
        "dam": make_site(commune, kind="dam", name="Đập đã bảo vệ", location=offset(here, 300)),
        "canal": make_site(commune, kind="canal", name="Kênh có biển", location=offset(here, 700)),
        "other": make_site(demo_tree["99201"], name="Ao huyện khác"),
    }
    inspect(sites["dam"], timezone.now(), "in_place", "complete")
    inspection = inspect(sites["canal"], "2026-05-02T10:00", "in_place", "none", notes="Biển mới")
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, format="JPEG")
    services.photo_attach(actor=superuser, inspection=inspection, data=out.getvalue())
    Place.objects.create(kind="kindergarten", name="Trường Mầm non Hoa Sen", location=here)
    manager = make_user("huyen1", demo_tree["991"], Role.AREA_MANAGER, is_staff=True, first_name="Lan")
    viewer = make_user("xem1", demo_tree["991"], Role.VIEWER)
    return {"sites": sites, "here": here, "manager": manager, "viewer": viewer, "tree": demo_tree}


def bbox_around(point: Point, d: float = 0.05) -> str:
    return f"{point.x - d},{point.y - d},{point.x + d},{point.y + d}"


def test_sites_in_view_follow_bbox_filters_and_scope(client, world):
    client.force_login(world["manager"])
    url = reverse("map-sites")
    body = client.get(url, {"bbox": bbox_around(world["here"])}).json()
    assert body["total"] == 4 and not body["more"]
    codes = [s["code"] for s in body["sites"]]
    assert codes == sorted(codes)
    names = [s["name"] for s in body["sites"]]
    assert "Ao huyện khác" not in names
    states = {s["name"]: s["state"] for s in body["sites"]}
    assert states == {
        "Ao gần trường": "unprotected",
        "Giếng xa": "unprotected",
        "Đập đã bảo vệ": "protected",
        "Kênh có biển": "signed_only",
    }
    filtered = client.get(url, {"bbox": bbox_around(world["here"]), "signage": "in_place"}).json()
    assert {s["name"] for s in filtered["sites"]} == {"Đập đã bảo vệ", "Kênh có biển"}
    far = client.get(url, {"bbox": "106.5,20.0,106.6,20.1"}).json()
    assert far["total"] == 0
    assert client.get(url).status_code == 400
    assert "bbox" in client.get(url, {"bbox": "1,2,3"}).json()["detail"]


def test_area_layer_gives_children_with_their_protected_share(client, world):
    client.force_login(world["manager"])
    body = client.get(reverse("map-areas")).json()
    assert body["area"]["code"] == "991"
    # The province above is outside the manager's scope: the way up starts at the district.
    assert [c["code"] for c in body["crumbs"]] == ["991"] and not body["national"]
    by_code = {f["properties"]["code"]: f["properties"] for f in body["children"]["features"]}
    assert by_code["99101"]["counting"] == 3  # the well has no deep water
    # Rounded and written as the reports write shares (half up; the page's language).
    assert by_code["99101"]["protected"] == 33.3 and by_code["99101"]["protected_text"] == "33.3%"
    assert body["total"] == {"counting": 3, "counting_text": "3", "protected": 33.3, "protected_text": "33.3%"}
    vietnamese = client.get(reverse("map-areas"), HTTP_ACCEPT_LANGUAGE="vi").json()
    assert vietnamese["total"]["protected_text"] == "33,3%"
    assert all(code.startswith("991") for code in by_code)
    commune = client.get(reverse("map-areas"), {"area": "99101"}).json()
    assert commune["area"]["name"] == world["tree"]["99101"].name and commune["children"]["features"] == []
    # An area outside the manager's areas is refused in the words a code no area has gets.
    outside = client.get(reverse("map-areas"), {"area": "992"})
    assert outside.status_code == 400 and list(outside.json()["errors"]) == ["area"]


def test_national_user_starts_at_the_country(client, superuser, world):
    client.force_login(superuser)
    body = client.get(reverse("map-areas")).json()
    assert (
        body["crumbs"] == []
        and body["national"]
        and [f["properties"]["code"] for f in body["children"]["features"]] == ["99"]
    )


def test_site_panel_shows_history_with_who_states_and_photos(client, world):
    client.force_login(world["manager"])
    canal = world["sites"]["canal"]
    page = client.get(reverse("map-site-panel", args=[canal.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert canal.code in text and "Signed only" in text
    assert "02/05/2026 10:00" in text and "Sign in place" in text and "No barrier" in text and "Biển mới" in text
    assert "root" in text  # who inspected
    assert canal.inspections.get().photos.get().thumbnail.url in text
    assert reverse("admin:hazards_site_change", args=[canal.pk]) in text


def test_site_panel_edit_link_only_for_editors_and_404_outside(client, world):
    client.force_login(world["viewer"])
    canal = world["sites"]["canal"]
    text = client.get(reverse("map-site-panel", args=[canal.pk])).content.decode()
    assert canal.code in text and "/change/" not in text
    assert client.get(reverse("map-site-panel", args=[world["sites"]["other"].pk])).status_code == 404


def test_priority_list_ranks_unprotected_sites_by_risk(client, world):
    client.force_login(world["manager"])
    body = client.get(reverse("map-priority")).json()
    ranked = [(s["name"], s["score"]) for s in body["sites"]]
    # Deep pond 50 m from a kindergarten: 35 + 20 + 35 * (1 - 50/2000) + 10 = 99.
    # Deep canal with a sign, 700 m away: 35 + 15 + 35 * (1 - 700/2000) = 73.
    # Shallow well, nothing in place, 1.5 km away: 0 + 20 + 35 * 0.25 + 10 = 39.
    assert ranked == [("Ao gần trường", 99), ("Kênh có biển", 73), ("Giếng xa", 39)]
    assert body["total"] == 3
    first = body["sites"][0]
    assert first["place_name"] == "Trường Mầm non Hoa Sen" and 45 <= first["place_distance_m"] <= 55
    assert [s["rank"] for s in body["sites"]] == [1, 2, 3]
    assert [s["state"] for s in body["sites"]] == ["unprotected", "signed_only", "unprotected"]
    assert client.get(reverse("map-priority"), {"kind": "well"}).json()["total"] == 1


def test_the_priority_note_says_which_sites_get_the_unprotected_points(client, world, inspect):
    """The 10 points go to every unprotected site: a damaged sign and a partial barrier
    protect nothing, and the note above the list says so, in both languages."""
    inspect(world["sites"]["well"], timezone.now(), "damaged", "partial")
    client.force_login(world["manager"])
    well = next(s for s in client.get(reverse("map-priority")).json()["sites"] if s["name"] == "Giếng xa")
    assert (well["state"], well["score"]) == ("unprotected", 39)  # 0 + 20 + 35 * 0.25 + 10
    english = client.get(reverse("map"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "neither a sign in place nor a complete barrier (10)" in english
    vietnamese = " ".join(client.get(reverse("map"), HTTP_ACCEPT_LANGUAGE="vi").content.decode().split())
    assert "chưa có biển báo tại chỗ cũng chưa có rào chắn đầy đủ (10)" in vietnamese


def test_priority_file_lists_the_whole_ranking(client, world):
    client.force_login(world["manager"])
    response = client.get(reverse("map-priority-file"))
    assert response["Content-Disposition"] == 'attachment; filename="priority-sites.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [(r["rank"], r["code"], r["score"]) for r in rows] == [
        ("1", world["sites"]["pond"].code, "99"),
        ("2", world["sites"]["canal"].code, "73"),
        ("3", world["sites"]["well"].code, "39"),
    ]


def test_data_endpoints_ask_for_sign_in(client):
    for name in ("map-sites", "map-areas", "map-priority", "map-priority-file"):
        assert client.get(reverse(name)).status_code == 401
    assert client.get(reverse("map")).status_code == 302


def places_file(tmp_path, features) -> str:
    path = tmp_path / "truong.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return str(path)


def place(name, kind, lon=105.8, lat=22.1):
    return {
        "type": "Feature",
        "properties": {"ten": name, "loai": kind},
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


def test_load_places_reads_vietnamese_kinds_and_replaces_the_layer(db, tmp_path):
    Place.objects.create(kind="school", name="Cũ", location=Point(105, 21, srid=4326))
    path = places_file(
        tmp_path,
        [place("Trường Tiểu học Kim Đồng", "Tiểu học"), place("Trường Mầm non Sơn Ca", "Trường mầm non"),
         place("Nhóm trẻ Hoa Mai", "Mẫu giáo")],
    )  # fmt: skip
    out = io.StringIO()
    call_command("load_places", path, stdout=out)
    assert "3" in out.getvalue()
    assert dict(Place.objects.values_list("name", "kind")) == {
        "Trường Tiểu học Kim Đồng": "school",
        "Trường Mầm non Sơn Ca": "kindergarten",
        "Nhóm trẻ Hoa Mai": "kindergarten",
    }


def test_load_places_reports_each_bad_feature_and_stores_nothing(db, tmp_path):
    Place.objects.create(kind="school", name="Cũ", location=Point(105, 21, srid=4326))
    path = places_file(
        tmp_path,
        [place("Trường A", "school"), place("", "school"), place("Chợ", "market"),
         place("Trường đảo ngược", "school", lon=22.1, lat=105.8),
         {"type": "Feature", "properties": {"ten": "Vùng", "loai": "school"},
          "geometry": {"type": "Polygon", "coordinates": [[[105, 21], [105.1, 21], [105.1, 21.1], [105, 21]]]}}],
    )  # fmt: skip
    with pytest.raises(CommandError) as error:
        call_command("load_places", path)
    lines = str(error.value).splitlines()
    assert lines[0] == "Nothing was loaded:"
    assert lines[1].startswith("truong.geojson feature 2:") and "name" in lines[1]
    assert lines[2].startswith("truong.geojson feature 3:") and "market" in lines[2]
    assert lines[3].startswith("truong.geojson feature 4:") and "swapped" in lines[3]
    assert lines[4].startswith("truong.geojson feature 5:") and "point" in lines[4]
    assert list(Place.objects.values_list("name", flat=True)) == ["Cũ"]


def test_load_places_reads_geopackage_with_a_kind_for_all(db, tmp_path):
    source = places_file(tmp_path, [place("Trường 1", ""), place("Trường 2", "")])
    target = tmp_path / "truong.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(target), source], check=True)
    call_command("load_places", str(target), "--kind", "school", stdout=io.StringIO())
    assert Place.objects.filter(kind="school").count() == 2

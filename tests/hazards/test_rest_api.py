"""The REST API: sites as GeoJSON with bbox, area, kind and state filters and pages;
inspections; areas; all within the user's scope."""

import pytest
from django.urls import reverse

from accounts.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, demo_tree, make_user, make_site, inspect):
    make_user("nam", demo_tree["991"], Role.VIEWER)
    client.force_login(make_user("nam2", demo_tree["991"], Role.VIEWER))
    protected = make_site(demo_tree["99101"], name="Ao rào", kind="pond")
    inspect(protected, "2026-03-01T09:00", "in_place", "complete")
    signed = make_site(demo_tree["99102"], name="Giếng biển", kind="well")
    inspect(signed, "2026-03-02T09:00", "in_place", "none")
    make_site(demo_tree["99103"], name="Kênh trống", kind="canal")
    make_site(demo_tree["99201"], name="Ao huyện khác")
    return client


def names(response):
    return sorted(f["properties"]["name"] for f in response.json()["features"])


def test_sites_are_geojson_within_scope(api):
    response = api.get(reverse("site-list"))
    body = response.json()
    assert body["type"] == "FeatureCollection" and body["count"] == 3
    assert names(response) == ["Ao rào", "Giếng biển", "Kênh trống"]
    assert body["features"][0]["geometry"]["type"] == "Point"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "well"}, ["Giếng biển"]),
        ({"state": "protected"}, ["Ao rào"]),
        ({"state": "signed_only"}, ["Giếng biển"]),
        ({"state": "unprotected"}, ["Kênh trống"]),
        ({"signage": "in_place"}, ["Ao rào", "Giếng biển"]),
        ({"area": "99102"}, ["Giếng biển"]),
        ({"due": "true"}, ["Kênh trống"]),
    ],
)
def test_site_filters(api, params, expected):
    assert names(api.get(reverse("site-list"), params)) == expected


def test_bbox_filter_and_paging(api, demo_tree):
    box = ",".join(str(v) for v in demo_tree["99103"].geom.extent)
    assert "Kênh trống" in names(api.get(reverse("site-list"), {"bbox": box}))
    page = api.get(reverse("site-list"), {"page_size": 2}).json()
    assert len(page["features"]) == 2 and page["next"]
    assert len(api.get(page["next"]).json()["features"]) == 1


@pytest.mark.parametrize(
    "params", [{"bbox": "1,2,3"}, {"bbox": "a,b,c,d"}, {"kind": "volcano"}, {"state": "fine"}, {"due": "maybe"}]
)
def test_bad_filters_are_400_with_a_reason(api, params):
    response = api.get(reverse("site-list"), params)
    assert response.status_code == 400
    assert response.json()["errors"]


def test_single_site_and_its_inspections(api, demo_tree):
    other = api.get(reverse("site-list"), {"kind": "pond"}).json()["features"][0]
    assert api.get(reverse("site-detail", args=[other["id"]])).json()["properties"]["protected"] is True
    inspections = api.get(reverse("inspection-list"), {"site": other["id"]}).json()
    assert inspections["count"] == 1 and inspections["results"][0]["signage"] == "in_place"
    assert api.get(reverse("inspection-list"), {"site": "x"}).status_code == 400


def test_other_district_is_invisible(api, demo_tree):
    from hazards.models import Site

    hidden = Site.objects.get(name="Ao huyện khác")
    assert api.get(reverse("site-detail", args=[hidden.pk])).status_code == 404
    assert api.get(reverse("area-detail", args=["99201"])).status_code == 404
    assert api.get(reverse("inspection-list")).json()["count"] == 2
    # Filtered by its area's code, it is refused as a code no area has: not an empty list.
    asked, unknown = (api.get(reverse("site-list"), {"area": code}) for code in ("99201", "99999"))
    assert asked.status_code == 400 and asked.json() == unknown.json() and list(asked.json()["errors"]) == ["area"]


def test_areas(api):
    communes = api.get(reverse("area-list"), {"level": "commune"}).json()
    assert sorted(f["id"] for f in communes["features"]) == ["99101", "99102", "99103", "99104"]
    assert api.get(reverse("area-detail", args=["99101"])).json()["properties"]["parent_code"] == "991"

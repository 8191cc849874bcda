"""OGC API - Features: what GDAL's OAPIF driver (as QGIS uses it) reads, paging, filters,
errors, and the area scope."""

import json
import os
import subprocess

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.tokens import token_issue
from hazards.models import Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def district(demo_tree, make_user, make_site, inspect, superuser):
    user = make_user("nam", demo_tree["991"], Role.AREA_MANAGER)
    for code in ("99101", "99101", "99102", "99103", "99201", "99301"):
        site = make_site(demo_tree[code], name=f"Ao {code}")
        inspect(site, "2026-02-01T09:00")
    _token, key = token_issue(actor=superuser, user=user, name="qgis")
    return user, key


def get(client, url, key, **params):
    return client.get(url, params, headers={"Authorization": f"Token {key}"})


@pytest.mark.django_db(transaction=True)
def test_gdal_reads_the_collections_and_every_feature_of_the_users_areas(live_server, district, tmp_path):
    _user, key = district
    env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: Token {key}"}
    source = f"OAPIF:{live_server.url}/ogc/"
    listing = subprocess.run(
        ["ogrinfo", "-ro", "-q", source], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "sites" in listing and "areas" in listing
    out = tmp_path / "sites.geojson"
    # A page size of 2 makes GDAL follow the next links.
    subprocess.run(
        ["ogr2ogr", "-oo", "PAGE_SIZE=2", "-f", "GeoJSON", out, source, "sites"],
        env=env,
        check=True,
        capture_output=True,
    )
    features = json.loads(out.read_text())["features"]
    expected = Site.objects.filter(area__path__startswith="/99/991/").count()
    assert len(features) == expected == 4
    assert {f["properties"]["area_code"] for f in features} <= {"99101", "99102", "99103"}
    refused = subprocess.run(["ogrinfo", "-ro", "-q", source], env={**os.environ}, capture_output=True, text=True)
    assert refused.returncode != 0


def test_landing_conformance_and_collections(client, district):
    _user, key = district
    landing = get(client, reverse("ogc-landing"), key).json()
    assert {link["rel"] for link in landing["links"]} >= {"self", "conformance", "data", "service-desc"}
    conformance = get(client, reverse("ogc-conformance"), key).json()["conformsTo"]
    assert any(c.endswith("/conf/core") for c in conformance) and any(c.endswith("/conf/geojson") for c in conformance)
    collections = get(client, reverse("ogc-collections"), key).json()["collections"]
    sites = next(c for c in collections if c["id"] == "sites")
    west, south, east, north = sites["extent"]["spatial"]["bbox"][0]
    assert 105 < west < east < 107 and 21 < south < north < 23


def test_paging_bbox_datetime_and_single_items(client, district, demo_tree):
    _user, key = district
    url = reverse("ogc-items", args=["sites"])
    first = get(client, url, key, limit=3).json()
    assert first["numberMatched"] == 4 and first["numberReturned"] == 3
    next_link = next(link["href"] for link in first["links"] if link["rel"] == "next")
    rest = client.get(next_link, headers={"Authorization": f"Token {key}"}).json()
    assert rest["numberReturned"] == 1 and not [link for link in rest["links"] if link["rel"] == "next"]
    ids = {f["id"] for f in first["features"]} | {f["id"] for f in rest["features"]}
    assert len(ids) == 4
    commune = demo_tree["99103"].geom.extent
    in_box = get(client, url, key, bbox=",".join(str(v) for v in commune)).json()
    assert {f["properties"]["area_code"] for f in in_box["features"]} >= {"99103"}
    assert get(client, url, key, datetime="2026-02-01").json()["numberMatched"] == 4
    assert get(client, url, key, datetime="2026-03-01/..").json()["numberMatched"] == 0
    one = get(client, reverse("ogc-item", args=["sites", next(iter(ids))]), key)
    assert one.status_code == 200 and one.json()["type"] == "Feature"
    area = get(client, reverse("ogc-item", args=["areas", "99101"]), key).json()
    assert area["properties"]["parent_code"] == "991"


def test_other_districts_features_are_404(client, district, demo_tree):
    _user, key = district
    other = Site.objects.get(area__code="99201")
    assert get(client, reverse("ogc-item", args=["sites", str(other.pk)]), key).status_code == 404
    assert get(client, reverse("ogc-item", args=["areas", "99201"]), key).status_code == 404
    everything = get(client, reverse("ogc-items", args=["sites"]), key, limit=1000, bbox="100,5,120,25").json()
    assert str(other.pk) not in {f["id"] for f in everything["features"]}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"bbox": "1,2,3"}, "four numbers"),
        ({"bbox": "106,22,105,21"}, "swapped"),
        ({"limit": "0"}, "between 1 and 10000"),
        ({"limit": "lots"}, "whole number"),
        ({"datetime": "yesterday"}, "RFC 3339"),
    ],
)
def test_bad_parameters_are_400_with_a_reason(client, district, params, message):
    _user, key = district
    response = get(client, reverse("ogc-items", args=["sites"]), key, **params)
    assert response.status_code == 400 and message in response.json()["description"]


def test_unknown_collection_and_no_credentials(client, district):
    _user, key = district
    assert get(client, reverse("ogc-collection", args=["schools"]), key).status_code == 404
    assert get(client, reverse("ogc-item", args=["sites", "not-a-uuid"]), key).status_code == 404
    assert client.get(reverse("ogc-collections")).status_code == 401
    assert (
        client.get(reverse("ogc-collections"), headers={"Authorization": "Token revoked-or-wrong"}).status_code == 401
    )

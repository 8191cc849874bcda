"""OGC API - Features as GIS clients use it: GDAL's OAPIF driver with a stored Basic
credential, the OpenAPI document that describes every /ogc/ path, typed schemas and
queryables, the sites filters, coordinate reference systems, keyset paging with a capped
limit, strict parameters, HEAD, CORS, and the area scope."""

import base64
import json
import subprocess
from xml.etree import ElementTree

import pytest
import schemathesis
from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, get_resolver, reverse
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from accounts.models import Membership, Role
from accounts.tokens import token_issue
from hazards import lifecycle
from hazards.models import Site
from mapping.ogc import params as ogc_params
from mapping.tile_documents import palette
from tests.conftest import inside

pytestmark = pytest.mark.django_db


@pytest.fixture
def district(demo_tree, make_user, make_site, inspect, superuser):
    """A district manager with a device token; four sites in the district (one pond
    closed, a well never inspected) and two elsewhere."""
    user = make_user("nam", demo_tree["991"], Role.AREA_MANAGER)
    for code, kind in (("99101", "pond"), ("99101", "well"), ("99102", "pond"), ("99103", "pit"), ("99201", "pond")):
        site = make_site(demo_tree[code], name=f"{kind} {code}", kind=kind)
        if kind != "well":
            inspect(site, "2026-02-01T09:00", signage="in_place", barrier="complete" if code != "99102" else "none")
    make_site(demo_tree["99301"], name="pond 99301")
    pond = Site.objects.get(name="pond 99102")
    lifecycle.site_close(actor=superuser, site=pond, reason="filled_in", closed_at=pond.active_from)
    _token, key = token_issue(actor=superuser, user=user, name="qgis")
    return user, key


def basic(username: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def get(client, url, key, **params):
    return client.get(url, params, headers={"Authorization": f"Bearer {key}"})


def items(client, key, collection="sites", **params):
    response = get(client, reverse("ogc-items", args=[collection]), key, **params)
    assert response.status_code == 200, response.content
    return response.json()


def names(page) -> set[str]:
    return {f["properties"]["name"] for f in page["features"]}


@pytest.mark.django_db(transaction=True)
def test_gdal_reads_every_feature_with_typed_fields_signed_in_with_basic(live_server, district, tmp_path):
    _user, key = district
    source = f"OAPIF:{live_server.url}/ogc/"
    signed_in = ["-oo", f"USERPWD=nam:{key}"]
    info = subprocess.run(
        ["ogrinfo", "-ro", "-so", *signed_in, source, "sites"], capture_output=True, text=True, check=True
    ).stdout
    # Types from the schema, not guessed from a page: no site has a depth or an expected end,
    # which a guess from the values would make text fields.
    typed = {"depth_m": "Real", "expected_end": "Date", "closed_at": "Date", "last_checked_at": "DateTime"}
    for field, kind in typed.items():
        assert f"{field}: {kind}" in info, info
    out = tmp_path / "sites.geojson"
    subprocess.run(
        ["ogr2ogr", "-oo", "PAGE_SIZE=2", *signed_in, "-f", "GeoJSON", out, source, "sites"],
        check=True,
        capture_output=True,
    )
    features = json.loads(out.read_text())["features"]
    assert sorted(f["properties"]["name"] for f in features) == ["pit 99103", "pond 99101", "pond 99102", "well 99101"]
    assert {f["properties"]["id"] for f in features} == {
        str(s.pk) for s in Site.objects.filter(area__code__startswith="991")
    }
    password = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-oo", "USERPWD=nam:pw-Secret-123", source, "sites"], capture_output=True, text=True
    )
    assert password.returncode != 0 and "401" in password.stderr


def test_landing_conformance_and_collections(client, district, demo_tree):
    _user, key = district
    landing = get(client, reverse("ogc-landing"), key).json()
    links = {link["rel"]: link for link in landing["links"]}
    assert links["service-desc"]["href"].endswith("/ogc/api")
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert links["data"]["href"].endswith("/ogc/collections")
    conformance = get(client, reverse("ogc-conformance"), key).json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30" in conformance
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conformance
    collections = get(client, reverse("ogc-collections"), key).json()["collections"]
    sites = next(c for c in collections if c["id"] == "sites")
    # The extent is the user's district, from its boundary.
    west, south, east, north = sites["extent"]["spatial"]["bbox"][0]
    assert [round(v, 4) for v in (west, south, east, north)] == [round(v, 4) for v in demo_tree["991"].geom.extent]
    assert sites["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert "http://www.opengis.net/def/crs/EPSG/0/4326" in sites["crs"]
    rels = {link["rel"] for link in sites["links"]}
    assert {"items", "describedBy", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= rels


def test_the_openapi_document_describes_every_ogc_path(client, district):
    _user, key = district
    response = get(client, reverse("ogc-api"), key)
    assert response["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    document = response.json()
    assert document["openapi"].startswith("3.0") and document["servers"][0]["url"].endswith("/ogc")
    ogc_routes = next(p for p in get_resolver().url_patterns if str(p.pattern) == "ogc/").url_patterns
    described = set(document["paths"])
    for route in ogc_routes:
        assert isinstance(route, URLPattern)
        pattern = "/" + str(route.pattern).replace("<str:feature_id>", "{featureId}")
        for collection in ("sites", "areas"):
            assert pattern.replace("<str:collection_id>", collection) in described, pattern
    # QGIS takes its page size from here: the default and the maximum.
    limit = document["components"]["parameters"]["limit"]["schema"]
    assert (limit["default"], limit["maximum"]) == (1000, 10000)
    site_parameters = {p.get("name") for p in document["paths"]["/collections/sites/items"]["get"]["parameters"]}
    assert {"kind", "signage", "barrier", "state", "area", "due"} <= site_parameters


def test_no_request_the_api_describes_gets_a_server_error(district):
    """Schemathesis over /ogc/api: whatever a client sends within the description (and
    beyond it), the answer is never a 5xx and matches the description's status codes."""
    _user, key = district
    headers = {"Authorization": f"Bearer {key}"}
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/ogc/api", WSGIHandler(), headers=headers)
        operations = [result.ok() for result in schema.get_all_operations()]
        labels = {operation.label for operation in operations}
        assert {"GET /collections/sites/items", "GET /collections/areas/items/{featureId}"} <= labels
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=15,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
                derandomize=True,
            )
            def no_server_error(case):
                case.validate_response(case.call(headers=headers), checks=[not_a_server_error])

            no_server_error()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_schema_and_queryables_give_each_property_its_type(client, district):
    _user, key = district
    schema = get(client, reverse("ogc-schema", args=["sites"]), key)
    assert schema["Content-Type"] == "application/schema+json"
    properties = schema.json()["properties"]["properties"]["properties"]
    assert properties["closed_at"]["format"] == "date" and properties["last_checked_at"]["format"] == "date-time"
    assert properties["depth_m"]["type"] == "number" and properties["due"]["type"] == "boolean"
    assert "pond" in properties["kind"]["enum"]
    queryables = get(client, reverse("ogc-queryables", args=["sites"]), key).json()
    assert queryables["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert queryables["$id"].endswith("/ogc/collections/sites/queryables")
    assert set(queryables["properties"]) == {"kind", "signage", "barrier", "state", "due"}
    page = get(client, reverse("ogc-items", args=["sites"]), key)
    assert 'rel="http://www.opengis.net/def/rel/ogc/1.0/queryables"' in page["Link"]


def test_sites_filters_as_query_parameters(client, district):
    _user, key = district
    assert names(items(client, key, kind="pond")) == {"pond 99101", "pond 99102"}
    assert names(items(client, key, state="protected")) == {"pond 99101", "pit 99103"}
    assert names(items(client, key, state="closed")) == {"pond 99102"}
    assert names(items(client, key, signage="none")) == {"well 99101"}
    assert names(items(client, key, barrier="none")) == {"well 99101", "pond 99102"}
    assert names(items(client, key, due="true")) == {"well 99101"}
    assert names(items(client, key, area="99101")) == {"pond 99101", "well 99101"}
    # Another district's commune is refused as a code no area has.
    outside = get(client, reverse("ogc-items", args=["sites"]), key, area="99201")
    assert outside.status_code == 400 and list(outside.json()["errors"]) == ["area"]
    assert names(items(client, key, kind="pond", area="99101")) == {"pond 99101"}
    assert {f["properties"]["level"] for f in items(client, key, "areas", level="commune")["features"]} == {"commune"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"bbox": "1,2,3"}, "four numbers"),
        ({"bbox": "106,22,105,21"}, "swapped"),
        ({"limit": "0"}, "limit must be a whole number from 1"),
        ({"limit": "lots"}, "limit must be a whole number from 1"),
        ({"kind": "lake-ish"}, "kind: Choose one of"),
        ({"knd": "pond"}, "Unknown parameter knd"),
        ({"offset": "10"}, "Pages follow the next link"),
        ({"crs": "EPSG:32648"}, "crs must be one of"),
        ({"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/9999", "bbox": "1,2,3,4"}, "bbox-crs must be one of"),
        ({"datetime": "yesterday"}, "RFC 3339"),
        ({"datetime": "2026-02-30"}, "that exists"),
        ({"datetime": "2026-13-45T25:61:61Z"}, "that exists"),
        ({"datetime": "99999-01-01"}, "RFC 3339"),
        ({"datetime": "2026-03-01/2026-02-01"}, "after its end"),
        ({"after": "not-a-site-id"}, "next link"),
        ({"kind": "po\x00nd"}, "NUL"),
    ],
)
def test_bad_parameters_are_400_with_a_reason(client, district, params, message):
    _user, key = district
    response = get(client, reverse("ogc-items", args=["sites"]), key, **params)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid" and message in response.json()["description"]


def test_datetime_selects_by_last_check_and_takes_what_qgis_sends(client, district):
    _user, key = district
    checked = {"pond 99101", "pond 99102", "pit 99103"}
    assert names(items(client, key, datetime="2026-02-01")) == checked
    assert names(items(client, key, datetime="2026-02-01T09:00:00+07:00")) == checked
    assert names(items(client, key, datetime="2026-02-01T02:00:00Z")) == checked
    assert names(items(client, key, datetime="2026-03-01/..")) == set()
    # QGIS 3.22 writes open ends as year 0000 and 9999.
    assert names(items(client, key, datetime="0000-01-01T00:00:00Z/2026-02-01T09:00:00+07:00")) == checked
    assert names(items(client, key, datetime="2026-01-01T00:00:00Z/9999-12-31T00:00:00Z")) == checked
    assert names(items(client, key, datetime="../9999-12-31")) == checked
    assert names(items(client, key, datetime="0001-01-01T00:00:00+14:00/9999-12-31T23:59:59-14:00")) == checked


def test_pages_follow_the_key_capped_at_the_maximum_without_offset_or_count(client, district, monkeypatch):
    _user, key = district
    url = reverse("ogc-items", args=["sites"])
    whole = items(client, key)
    assert whole["numberMatched"] == whole["numberReturned"] == 4  # all on one page: counted for free
    with CaptureQueriesContext(connection) as queries:
        first = items(client, key, limit=3)
    sql = " ".join(q["sql"] for q in queries.captured_queries).upper()
    assert "OFFSET" not in sql and "COUNT(" not in sql
    assert first["numberReturned"] == 3 and "numberMatched" not in first
    next_link = next(link["href"] for link in first["links"] if link["rel"] == "next")
    assert "after=" in next_link
    rest = client.get(next_link, headers={"Authorization": f"Bearer {key}"}).json()
    assert rest["numberReturned"] == 1 and not [link for link in rest["links"] if link["rel"] == "next"]
    ids = [f["id"] for f in first["features"] + rest["features"]]
    assert ids == sorted(ids) and len(set(ids)) == 4
    # Beyond the maximum: the maximum, not a refusal.
    monkeypatch.setattr(ogc_params, "MAX_LIMIT", 2)
    capped = get(client, url, key, limit=50000)
    assert capped.status_code == 200 and capped.json()["numberReturned"] == 2
    assert "limit=2" in next(link["href"] for link in capped.json()["links"] if link["rel"] == "next")
    hits = items(client, key, resultType="hits", kind="pond")
    assert hits["numberMatched"] == 2 and hits["features"] == []


def _followed(client, key, page) -> tuple[dict | None, list[str]]:
    """The page the next link of `page` gives, and the SQL its request ran itself."""
    next_link = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    if next_link is None:
        return None, []
    with CaptureQueriesContext(connection) as queries:
        response = client.get(next_link, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.content
    return response.json(), [q["sql"] for q in queries.captured_queries]


def _builds_features(sql: list[str]) -> bool:
    return any("json_build_object" in statement for statement in sql)


@pytest.mark.django_db(transaction=True)  # the page built ahead is read on a connection of its own
def test_a_client_paging_through_gets_each_next_page_built_while_it_reads_one(client, district):
    """GDAL asks for a page only once it has read the one before: the server built each page
    only then, and sat idle while GDAL read (bench/NOTES.md). Once a client has followed a
    next link, the page after is built meanwhile and handed over: the same features, in the
    same order."""
    _user, key = district
    page = items(client, key, limit=1)
    pages, built_on_request = [page], []
    while page is not None:
        page, sql = _followed(client, key, page)
        if page is not None:
            pages.append(page)
            built_on_request.append(_builds_features(sql))
    # The second page is built on request (a first page alone may be all a client wants);
    # from the third on, each was built while the client read the one before.
    assert built_on_request == [True, False, False]
    whole = items(client, key, limit=10)
    assert [f for p in pages for f in p["features"]] == whole["features"]


@pytest.mark.django_db(transaction=True)
def test_a_page_built_ahead_is_never_handed_over_after_the_scope_changed(client, district, demo_tree):
    user, key = district
    second, _sql = _followed(client, key, items(client, key, limit=1))
    Membership.objects.filter(user=user).update(area=demo_tree["992"])
    third, sql = _followed(client, key, second)
    assert _builds_features(sql)  # built again for the scope of the moment
    assert all(f["properties"]["area_code"].startswith("992") for f in third["features"])
    # Given its area back, the user is handed the page built for that scope, and reads on.
    Membership.objects.filter(user=user).update(area=demo_tree["991"])
    page, sql = _followed(client, key, second)
    assert not _builds_features(sql) and page["features"][0]["properties"]["area_code"].startswith("991")
    while page is not None:
        page, _sql = _followed(client, key, page)


def test_features_in_each_offered_crs(client, district):
    _user, key = district
    site = Site.objects.get(name="pit 99103")
    lon, lat = site.location.coords
    feature_url = reverse("ogc-item", args=["sites", site.pk])
    default = get(client, feature_url, key)
    assert default["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    assert default.json()["geometry"]["coordinates"] == [round(lon, 7), round(lat, 7)]
    latitude_first = get(client, feature_url, key, crs="http://www.opengis.net/def/crs/EPSG/0/4326")
    assert latitude_first["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    assert latitude_first.json()["geometry"]["coordinates"] == [round(lat, 7), round(lon, 7)]
    x, y = get(client, feature_url, key, crs="EPSG:3857").json()["geometry"]["coordinates"]
    assert 11_700_000 < x < 11_900_000 and 2_500_000 < y < 2_600_000
    # The same box in three CRSs selects the same site.
    box = (lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001)
    as_crs84 = ",".join(str(v) for v in box)
    as_4326 = ",".join(str(v) for v in (box[1], box[0], box[3], box[2]))
    mercator = site.location.transform(3857, clone=True)
    as_3857 = f"{mercator.x - 50},{mercator.y - 50},{mercator.x + 50},{mercator.y + 50}"
    assert names(items(client, key, bbox=as_crs84)) == {"pit 99103"}
    assert names(items(client, key, bbox=as_4326, **{"bbox-crs": "EPSG:4326"})) == {"pit 99103"}
    assert names(items(client, key, bbox=as_3857, **{"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/3857"})) == {
        "pit 99103"
    }


def test_times_are_vietnam_time_and_values_typed(client, district):
    _user, key = district
    pit = next(f for f in items(client, key)["features"] if f["properties"]["name"] == "pit 99103")["properties"]
    assert pit["last_checked_at"] == "2026-02-01T09:00:00+07:00"
    assert pit["state"] == "protected" and pit["protected"] is True and pit["due"] is False
    closed = next(f for f in items(client, key, state="closed")["features"])["properties"]
    assert closed["closed_at"] == Site.objects.get(name="pond 99102").active_from.isoformat()


def test_head_options_and_cross_origin_reads(client, district):
    _user, key = district
    url = reverse("ogc-items", args=["sites"])
    head = client.head(url, headers={"Authorization": f"Bearer {key}"})
    assert head.status_code == 200 and head["Content-Type"] == "application/geo+json" and not head.content
    read = client.get(url, headers={"Authorization": f"Bearer {key}", "Origin": "https://maps.example.org"})
    assert read["Access-Control-Allow-Origin"] == "*" and "Content-Crs" in read["Access-Control-Expose-Headers"]
    preflight = client.options(
        url,
        headers={
            "Origin": "https://maps.example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 200 and preflight["Access-Control-Allow-Origin"] == "*"
    assert "authorization" in preflight["Access-Control-Allow-Headers"]
    assert "POST" not in preflight["Access-Control-Allow-Methods"]
    post = client.post(url, headers={"Authorization": f"Bearer {key}"})
    assert post.status_code == 405 and post["Allow"] == "GET, HEAD, OPTIONS"
    # Only the GIS endpoints are open to other sites.
    api = client.get(
        reverse("site-list"), headers={"Authorization": f"Bearer {key}", "Origin": "https://maps.example.org"}
    )
    assert "Access-Control-Allow-Origin" not in api


def test_other_districts_features_are_404(client, district, demo_tree):
    _user, key = district
    other = Site.objects.get(area__code="99201")
    assert get(client, reverse("ogc-item", args=["sites", str(other.pk)]), key).status_code == 404
    assert get(client, reverse("ogc-item", args=["areas", "99201"]), key).status_code == 404
    everything = items(client, key, limit=10000, bbox="100,5,120,25")
    assert str(other.pk) not in {f["id"] for f in everything["features"]}
    area = get(client, reverse("ogc-item", args=["areas", "99101"]), key).json()
    assert area["properties"]["parent_code"] == "991"


def test_sign_in_with_a_device_token_never_a_password(client, district, make_user, superuser):
    user, key = district
    url = reverse("ogc-collections")
    assert client.get(url, headers=basic("nam", key)).status_code == 200
    assert client.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.get(url, headers={"Authorization": f"Token {key}"}).status_code == 200
    anonymous = client.get(url)
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == 'Basic realm="Hazard registry", charset="UTF-8"'
    # A page's own script is not offered Basic: Chromium would put a sign-in dialog over it.
    assert client.get(url, headers={"Sec-Fetch-Dest": "empty"})["WWW-Authenticate"].startswith("Bearer ")
    password = client.get(url, headers=basic("nam", "pw-Secret-123"))
    assert password.status_code == 401 and "account password is not accepted" in password.json()["description"]
    other = make_user("lan")
    assert client.get(url, headers=basic(other.username, key)).status_code == 401  # not lan's token
    assert client.get(url, headers={"Authorization": "Basic not-base64!"}).status_code == 401
    user.is_active = False
    user.save()
    assert "deactivated" in client.get(url, headers=basic("nam", key)).json()["description"]


def test_pond_outlines_are_a_layer_of_their_own_joined_by_the_site_id(client, district, demo_tree, make_site):
    """A layer has one geometry type: sites are points, their outlines polygons in a
    second collection whose feature ids are the sites', in the same area scope."""
    _user, key = district

    def pond(code: str, name: str) -> Site:
        point = inside(demo_tree[code])
        shore = Polygon.from_bbox((point.x - 0.0005, point.y - 0.0004, point.x + 0.0005, point.y + 0.0004))
        return make_site(demo_tree[code], name=name, location=point, outline=shore)

    mine, _elsewhere = pond("99101", "Ao cá Đồng Bến"), pond("99201", "ao huyện khác")
    page = items(client, key, "site-outlines")
    assert [f["id"] for f in page["features"]] == [str(mine.pk)]
    feature = page["features"][0]
    assert feature["geometry"]["type"] == "Polygon" and feature["properties"]["name"] == "Ao cá Đồng Bến"
    assert GEOSGeometry(json.dumps(feature["geometry"])).equals_exact(mine.outline, 1e-7)
    assert str(mine.pk) in {f["id"] for f in items(client, key, "sites")["features"]}
    assert items(client, key, "site-outlines", state="protected")["features"] == []
    schema = get(client, reverse("ogc-schema", args=["site-outlines"]), key).json()
    assert schema["properties"]["geometry"]["properties"]["type"]["enum"] == ["Polygon"]


def test_each_collection_offers_a_qgis_style_with_its_field_names_and_colours(client, district):
    """QGIS 3.22 reads no style from an OGC API: the officer loads this file once. Field
    titles become aliases, choices show their labels, sites take the maps' colours."""
    _user, key = district
    collection = get(client, reverse("ogc-collection", args=["sites"]), key).json()
    link = next(link for link in collection["links"] if link["rel"] == "stylesheet")
    assert link["type"] == "application/vnd.qgis.qml" and link["href"].endswith("/ogc/collections/sites/style.qml")
    response = client.get(link["href"], headers={"Authorization": f"Bearer {key}", "Accept-Language": "vi"})
    assert response.status_code == 200 and response["Content-Type"] == "application/vnd.qgis.qml"
    assert response["Content-Disposition"] == 'attachment; filename="sites.qml"'
    root = ElementTree.fromstring(response.content)  # noqa: S314 (the registry's own answer)
    renderer = root.find("renderer-v2")
    assert (renderer.get("type"), renderer.get("attr")) == ("categorizedSymbol", "state")
    colours, _ring = palette()
    for category in renderer.iter("category"):
        symbol = renderer.find(f"symbols/symbol[@name='{category.get('symbol')}']")
        colour = symbol.find("layer/prop[@k='color']").get("v")
        assert colour == ",".join(str(int(colours[category.get("value")][i : i + 2], 16)) for i in (1, 3, 5)) + ",255"
    assert next(renderer.iter("category")).get("label") == "Chưa đạt cả biển và rào"
    aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
    assert aliases["last_checked_at"] == "kiểm tra lần cuối"
    kinds = root.find("fieldConfiguration/field[@name='kind']/editWidget")
    assert kinds.get("type") == "ValueMap"
    assert {"Ao": "pond"} in [{o.get("name"): o.get("value")} for o in kinds.iter("Option") if o.get("value")]
    areas = ElementTree.fromstring(get(client, reverse("ogc-qml", args=["areas"]), key).content)  # noqa: S314
    assert areas.find("renderer-v2").get("type") == "singleSymbol"
    assert client.get(reverse("ogc-qml", args=["sites"])).status_code == 401
    assert get(client, reverse("ogc-qml", args=["nothing"]), key).status_code == 404

"""One error shape: every JSON answer to a refused or failed request, from the REST and
sync APIs, the planner map's data, the tiles and OGC API Features, and from Django
itself at those addresses, is {"code", "detail"[, "errors"]}; pages answer with the
project's error pages, in the person's language."""

import json
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client, make_user, demo_tree):
    client.force_login(make_user("nam", demo_tree["991"], Role.AREA_MANAGER))
    return client


def shape(response) -> set:
    body = json.loads(response.content)
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["detail"], str) and body["detail"]
    return set(body)


def test_refused_parameters_have_one_shape_everywhere(manager):
    answers = {
        "rest": manager.get(reverse("site-list"), {"kind": "volcano"}),
        "map list": manager.get(reverse("map-sites"), {"bbox": "1,2,3,4", "kind": "volcano"}),
        "tiles": manager.get(reverse("site-tile", args=[14, 13000, 7000]), {"kind": "volcano"}),
        "ogc": manager.get(reverse("ogc-items", args=["sites"]), {"kind": "volcano"}),
    }
    for where, response in answers.items():
        assert response.status_code == 400, where
        assert shape(response) >= {"code", "detail", "errors"}, where
        assert "kind" in response.json()["errors"], where
        assert "kind" in response.json()["detail"], where


def test_a_serializer_refusal_names_each_field(manager):
    response = manager.post(reverse("sync-site"), {"id": "not-an-id"}, content_type="application/json")
    assert response.status_code == 400
    assert shape(response) == {"code", "detail", "errors"} and response.json()["code"] == "invalid"
    assert "id" in response.json()["errors"]


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/tiles/nothing/", "/map/nothing.json"])
def test_an_unknown_address_under_the_apis_is_a_json_404(manager, path, settings):
    settings.DEBUG = False
    response = manager.get(path)
    assert response.status_code == 404 and shape(response) == {"code", "detail"}
    assert response.json()["code"] == "not_found"


def test_api_refusals_before_any_view_have_the_shape_too(client):
    signed_out = client.get(reverse("site-list"))
    assert signed_out.status_code in (401, 403) and shape(signed_out) == {"code", "detail"}
    assert client.get(reverse("map-sites"), {"bbox": "1,2,3,4"}).json()["code"] == "not_authenticated"


@pytest.mark.parametrize("credentials", [{}, {"HTTP_AUTHORIZATION": "Token not-a-token"}], ids=["none", "refused"])
def test_not_signed_in_is_one_code_everywhere(client, demo_tree, credentials):
    """REST, sync, the map's data, the tiles and OGC API Features: one code for a client
    to act on (sign in again), whether no credentials came or they were refused; OGC's
    exception schema fixes no code names (mapping/ogc/views.py, ogc_error)."""
    answers = {
        "rest": client.get(reverse("site-list"), **credentials),
        "sync": client.get(reverse("sync-site"), **credentials),
        "map": client.get(reverse("map-sites"), {"bbox": "1,2,3,4"}, **credentials),
        "tiles": client.get(reverse("site-tile", args=[14, 13000, 7000]), **credentials),
        "ogc": client.get(reverse("ogc-items", args=["sites"]), **credentials),
    }
    for where, response in answers.items():
        assert response.status_code == 401, where
        assert shape(response) >= {"code", "detail"} and response.json()["code"] == "not_authenticated", where


def test_ogc_answers_with_the_registrys_codes(manager):
    assert manager.get(reverse("ogc-items", args=["sites"]), {"limit": "many"}).json()["code"] == "invalid"
    assert manager.get(reverse("ogc-item", args=["sites", uuid.uuid4()])).json()["code"] == "not_found"
    assert manager.post(reverse("ogc-items", args=["sites"])).json()["code"] == "method_not_allowed"


def test_a_page_past_the_end_says_which_pages_there_are(manager, make_site, demo_tree):
    make_site(demo_tree["99101"])
    response = manager.get(reverse("site-list"), {"page": 999})
    assert response.status_code == 404 and shape(response) == {"code", "detail"}
    assert response.json()["code"] == "not_found"
    assert response.json()["detail"] == "There is no page 999 in this list: its pages run from 1 to 1 (100 a page)."
    vietnamese = manager.get(reverse("site-list"), {"page": 999, "page_size": 20}, HTTP_ACCEPT_LANGUAGE="vi")
    assert "Không có trang 999" in vietnamese.json()["detail"] and "từ 1 đến 1 (20 " in vietnamese.json()["detail"]
    assert manager.get(reverse("site-list"), {"page": "last"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "parameters"),
    [
        ("/api/v1/sites/", {"page": "abc"}),
        ("/api/v1/sites/", {"page": "0"}),
        ("/api/v1/sites/", {"page_size": "abc"}),
        ("/api/v1/areas/", {"page_size": "-5"}),
        ("/api/v1/inspections/", {"limit": "abc"}),
        ("/api/v1/inspections/", {"offset": "-1"}),
        ("/api/v1/orders/", {"limit": "abc"}),
        ("/api/v1/orders/", {"limit": "0"}),
        ("/api/v1/campaigns/", {"offset": "x"}),
    ],
)
def test_a_paging_parameter_it_cannot_read_is_refused_by_name(manager, path, parameters):
    """Not taken for the default: the client would get another page than it asked for."""
    response = manager.get(path, parameters)
    assert response.status_code == 400 and shape(response) == {"code", "detail", "errors"}
    (parameter,) = parameters
    assert list(response.json()["errors"]) == [parameter] and parameter in response.json()["detail"]
    assert "whole number" in response.json()["detail"]


def test_the_schema_documents_the_error_shape(manager):
    schema = manager.get(reverse("api-schema"), {"format": "json"}).json()
    error = schema["components"]["schemas"]["ApiError"]
    assert set(error["properties"]) == {"code", "detail", "errors"} and set(error["required"]) == {"code", "detail"}
    documented = {
        (path, method, status): response["content"]["application/json"]["schema"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status.startswith(("4", "5"))
    }
    assert len(documented) >= 13
    assert {where for where, body in documented.items() if body != {"$ref": "#/components/schemas/ApiError"}} == set()


def test_a_site_outside_the_areas_is_not_found_in_the_shape(manager):
    response = manager.get(reverse("site-detail", args=[uuid.uuid4()]))
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_pages_answer_with_the_error_page_in_the_persons_language(settings, demo_tree):
    settings.DEBUG = False
    page = Client(HTTP_ACCEPT_LANGUAGE="vi").get("/khong-co-trang-nay/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
    assert "Không có gì ở địa chỉ này" in page.content.decode()


def test_a_crash_is_a_500_in_the_shape_without_the_sites_frame(rf):
    from config.errors import server_error

    api = server_error(rf.get("/api/v1/sites/"))
    assert api.status_code == 500 and shape(api) == {"code", "detail"}
    page = server_error(rf.get("/reports/"))
    assert page.status_code == 500 and b"<h1>" in page.content


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/api/v1/sites/", "/reports/"])
def test_a_database_out_of_reach_is_a_503_to_try_again_not_a_crash(path, settings, make_user, demo_tree):
    """While PostgreSQL restarts, every request answers 503 with Retry-After: tablets and
    GIS clients retry, and a person reads that the registry is back in a moment."""
    from django.db import connection

    settings.DEBUG = False
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(make_user("nam", demo_tree["991"], Role.AREA_MANAGER))  # a session to read
    saved = dict(connection.settings_dict)
    connection.close()
    # A real connection attempt that fails: a port nothing listens on, on this machine.
    connection.settings_dict.update(HOST="127.0.0.1", PORT="9")
    try:
        response = client.get(path)
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    if path.startswith("/api/"):
        assert shape(response) == {"code", "detail"} and response.json()["code"] == "unavailable"
    else:
        assert "thử lại" in response.content.decode()


def test_a_method_an_address_does_not_take_is_refused_in_the_shape(manager):
    """Django's own 405 has an empty body: a program posting to the map's data read
    nothing it could act on (review of issue 23)."""
    for name in ("map-sites", "map-areas", "map-tile-token", "report-areas"):
        response = manager.post(reverse(name))
        assert response.status_code == 405, name
        assert response["Allow"] == "GET", name
        assert shape(response) == {"code", "detail"}, name
        assert json.loads(response.content)["code"] == "method_not_allowed"
        assert "GET" in json.loads(response.content)["detail"]


def test_a_page_refuses_a_method_with_the_error_page(manager):
    response = manager.put(reverse("report"))
    assert response.status_code == 405
    assert response["Content-Type"].startswith("text/html")
    assert b"GET" in response.content


def test_every_data_address_answers_401_when_nobody_is_signed_in():
    """Not a redirect to the sign-in page, which a program follows to an HTML form."""
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en")
    for name in ("map-sites", "map-areas", "map-tile-token", "report-areas"):
        response = anonymous.get(reverse(name), {"q": "Ba"})
        assert response.status_code == 401, name
        assert json.loads(response.content)["code"] == "not_authenticated", name


def test_a_refused_csrf_check_answers_in_the_shape_at_data_addresses(make_user, demo_tree):
    """Django answered a POST without its CSRF token with its own English HTML page, even
    at the map's data (walkthrough)."""
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="vi")
    browser.force_login(make_user("nam", demo_tree["991"], Role.AREA_MANAGER))
    response = browser.post(reverse("map-sites"))
    assert response.status_code == 403
    assert shape(response) == {"code", "detail"}
    assert json.loads(response.content)["code"] == "csrf_failed"
    page = browser.post(reverse("report"))
    assert page.status_code == 403 and page["Content-Type"].startswith("text/html")
    assert "CSRF" not in page.content.decode()  # the registry's page, in the person's words

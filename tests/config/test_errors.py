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

"""A filter the registry cannot apply is refused, never ignored: at every data address (the
REST API, the exports, the map's JSON and tiles, OGC API Features) each filter and paging
parameter given a value it cannot use (unknown, of the wrong type, out of range, a bbox
with its corners swapped, the parameter given twice) answers 400 in the one error shape
(common/errors.py) with the parameter named in `errors`, in the caller's language: never a
server error, and never a 200 with another list than the one asked for (an unknown area
answered an empty list, a mistyped bbox a message under "non_field_errors").

An empty value is the parameter not given: the registry's own GET forms send `order=`
for "All". test_hostile_parameters.py walks every route for server errors; this file the
data addresses for refusals a person or a program can act on."""

import pytest
from django.test import Client

from accounts.models import Role
from tests.security.test_hostile_parameters import _tile_of, world  # noqa: F401 (the fixture, by name below)

pytestmark = pytest.mark.django_db

SITE_FILTERS = ("area", "bbox", "kind", "signage", "barrier", "state", "due", "order")

# Values each parameter cannot take, and one it can (given twice, with another valid
# value, it must be refused too: which one the caller meant is not for the registry to guess).
WRONG = {
    "area": ["zzz", "99999", "99 1"],
    "bbox": ["102,6,118", "a,b,c,d", "118,6,102,24", "102,24,118,6", "200,6,210,24", "102,6,118,95", "1,2,3,4,5"],
    "kind": ["zzz", "POND"],
    "signage": ["zzz"],
    "barrier": ["zzz"],
    "state": ["zzz"],
    "due": ["yes", "1", "TRUE"],
    "order": ["zzz"],
    "limit": ["0", "-1", "x", "1.5", "²"],
    "offset": ["-1", "x"],
    "page": ["0", "x", "-1"],
    "page_size": ["0", "x"],
    "level": ["zzz"],
    "status": ["zzz"],
    "site": ["zzz", "0b9c3f2e-5a55-4d8e-9a51-4f6f3c1f0e11"],  # no UUID; no site's
    "campaign": ["x", "999999"],
    "in_period": ["zzz"],
    "from": ["2025-13-01", "x"],
    "to": ["2025-02-30", "2024-12-31"],
    "datetime": ["2026-02-30", "x", "2026-06-01/2026-01-01", ".."],
    "crs": ["EPSG:9999"],
    "bbox-crs": ["EPSG:9999"],
    "f": ["xml"],
    "resultType": ["zzz"],
    "after": ["zzz"],
    "format": ["zzz", "xml"],
}
VALID = {
    "area": ("991", "992"),
    "bbox": ("102,6,118,24", "103,7,117,23"),
    "kind": ("pond", "well"),
    "signage": ("none", "in_place"),
    "barrier": ("none", "complete"),
    "state": ("unprotected", "protected"),
    "due": ("true", "false"),
    "order": ("overdue", "open"),
    "limit": ("10", "20"),
    "offset": ("0", "10"),
    "page": ("1", "1"),
    "page_size": ("10", "20"),
    "level": ("commune", "district"),
    "status": ("pending", "declined"),
    "in_period": ("opened", "verified"),
    "from": ("2025-01-01", "2025-02-01"),
    "to": ("2025-06-30", "2025-05-31"),
    "datetime": ("2025-01-01T00:00:00Z/..", "../2030-01-01"),
    "crs": ("EPSG:4326", "OGC:CRS84"),
    "f": ("json", "geojson"),
    "resultType": ("results", "hits"),
    "format": ("json", "api"),
}

# The REST API's pages, and the format it answers in (its JSON, or the browsable API).
PAGES = ("page", "page_size", "format")
OFFSETS = ("limit", "offset", "format")
PERIOD = ("in_period", "from", "to")
OGC_ITEMS = ("bbox", "datetime", "limit", "crs", "bbox-crs", "f", "resultType", "after")


def addresses(tile: str) -> dict[str, tuple[str, ...]]:
    """Each data address with the parameters it reads."""
    return {
        "/api/v1/sites/": (*SITE_FILTERS, *PAGES),
        "/api/v1/orders/": (*SITE_FILTERS, *OFFSETS, "site", "campaign", *PERIOD),
        "/api/v1/areas/": ("area", "level", *PAGES),
        "/api/v1/inspections/": ("site", *OFFSETS),
        "/api/v1/campaigns/": OFFSETS,
        "/api/v1/closure-proposals/": ("status", "format"),
        "/api/v1/exports/sites.csv": (*SITE_FILTERS, "format"),
        "/api/v1/exports/sites.geojson": (*SITE_FILTERS, "format"),
        "/map/sites.json": SITE_FILTERS,
        "/map/areas.json": ("area",),
        "/map/priority.json": SITE_FILTERS,
        tile: tuple(p for p in SITE_FILTERS if p != "bbox"),
        "/ogc/collections/sites/items": (*OGC_ITEMS, *(p for p in SITE_FILTERS if p not in ("bbox", "order"))),
        "/ogc/collections/orders/items": (*OGC_ITEMS, "order", "area"),
        # An area's feature id is its code, any text: `after` one that is no code pages on.
        "/ogc/collections/areas/items": (*(p for p in OGC_ITEMS if p != "after"), "level", "area"),
    }


# What a parameter is read with: a period's event with its days.
COMPANIONS = {name: {"in_period": "opened", "from": "2025-01-01", "to": "2025-06-30"} for name in PERIOD}


def baseline(url: str, parameter: str) -> dict:
    """What an address needs besides the parameter under test to read it."""
    needed = {"bbox": VALID["bbox"][0]} if url == "/map/sites.json" else {}
    return {**needed, **COMPANIONS.get(parameter, {})}


@pytest.fixture
def data(request):
    """Sites, an order, a campaign (test_hostile_parameters' world): something for each
    filter to find, and the tile of the first site."""
    found = request.getfixturevalue("world")
    return {"tile": "/tiles/sites/14/{}/{}.pbf".format(*_tile_of(found["point"])), "tree": found["tree"]}


def signed_in(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def refusal(response, parameter: str) -> list[str]:
    """The messages about `parameter` of a refusal in the one shape, or why it is none."""
    shown = b"(streamed)" if response.streaming else response.content[:300]
    assert response.status_code == 400, (response.status_code, shown)
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["code"] == "invalid" and body["detail"], body
    assert parameter in body.get("errors", {}), f"{parameter} is not named: {body}"
    assert all(message.strip() for message in body["errors"][parameter]), body
    return body["errors"][parameter]


def cases(tile: str):
    for url, parameters in addresses(tile).items():
        for parameter in parameters:
            for value in WRONG[parameter]:
                yield url, {parameter: value}, parameter
            if parameter in VALID:
                yield url, {parameter: list(VALID[parameter])}, parameter


def test_every_wrong_filter_value_is_refused_naming_its_parameter(data, superuser):
    client = signed_in(superuser)
    failures = []
    for url, params, parameter in cases(data["tile"]):
        response = client.get(url, {**baseline(url, parameter), **params})
        try:
            refusal(response, parameter)
        except AssertionError as exc:
            failures.append(f"{url} {params}: {exc}")
    assert not failures, "\n".join(failures)


def test_valid_values_are_answered_and_empty_ones_taken_as_not_given(data, make_user):
    """The refusals above are of the values, not of the parameters: each address takes
    each of its parameters at a valid value (as a province's manager, whose exports are
    made at once; a national one is a job), and answers an empty one as it answers the
    request without it."""
    client = signed_in(make_user("quanly.tinh", data["tree"]["99"], Role.AREA_MANAGER))
    failures = []
    for url, parameters in addresses(data["tile"]).items():
        for parameter in parameters:
            given = baseline(url, parameter)
            if parameter in VALID:
                response = client.get(url, {**given, parameter: VALID[parameter][0]})
                if response.status_code != 200:
                    failures.append(f"{url} {parameter}={VALID[parameter][0]}: {response.status_code}")
            without = {name: value for name, value in given.items() if name != parameter}
            empty, absent = client.get(url, {**without, parameter: ""}), client.get(url, without)
            if empty.status_code != absent.status_code:
                failures.append(f"{url} {parameter}=: {empty.status_code}, without it {absent.status_code}")
    assert not failures, "\n".join(failures)


def test_refusals_are_in_the_callers_language(data, superuser):
    """The same wrong value in Vietnamese and in English: two texts, each in its language."""
    english, vietnamese = signed_in(superuser), signed_in(superuser, "vi")
    failures = []
    for url, params, parameter in cases(data["tile"]):
        en = refusal(english.get(url, {**baseline(url, parameter), **params}), parameter)
        vi = refusal(vietnamese.get(url, {**baseline(url, parameter), **params}), parameter)
        if en == vi:
            failures.append(f"{url} {params}: {vi}")
    assert not failures, "\n".join(failures)


def test_an_area_outside_the_callers_areas_is_refused_as_one_that_does_not_exist(data, make_user):
    """The registry never tells that an area outside a person's areas exists (a record
    there is not found, accounts/scope.py): asking for one is refused exactly as a code no
    area has, at every address that takes an area."""
    manager = make_user("quanly.huyen", data["tree"]["991"], Role.AREA_MANAGER)
    client = signed_in(manager)
    for url, parameters in addresses(data["tile"]).items():
        if "area" not in parameters:
            continue
        outside = client.get(url, {**baseline(url, "area"), "area": "992"})
        unknown = client.get(url, {**baseline(url, "area"), "area": "998"})
        assert refusal(outside, "area") == refusal(unknown, "area"), url
        assert client.get(url, {**baseline(url, "area"), "area": "99101"}).status_code == 200, url


def test_the_tiles_answer_in_the_callers_language_with_the_maps_tile_token(data, superuser):
    """The map asks for tiles with its tile token, which skips the language middleware
    (mapping/middleware.py): a refusal is in the language of the request all the same."""
    client = signed_in(superuser, "vi")
    token = client.get("/map/tile-token.json").json()["token"]
    url = f"{data['tile']}?kind=zzz"
    english = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Tile {token}").get(url)
    vietnamese = Client(HTTP_ACCEPT_LANGUAGE="vi", HTTP_AUTHORIZATION=f"Tile {token}").get(url)
    assert refusal(english, "kind") != refusal(vietnamese, "kind")

"""Bad input never reaches a server error. Every route the URL resolver knows is found
here (a route added later is covered without touching this file), and every GET
parameter it reads gets hostile values, one at a time, the others kept valid, as a
signed-in user who may see everything: a NUL byte, overlong text, numbers that overflow,
impossible and out-of-range dates, wrong types. Any 5xx, or an error raised while a
response streams, fails the test with the route, parameter and value.

What a route reads is found three ways: the route is asked once with every known
parameter at a valid value while its query dictionary records each name it reads; the
OpenAPI schema lists the API's parameters; the admin lists its pages' filters and form
fields. A fixed set of common names is sent too, all at once, for routes that read a
name only in some state this test does not reach."""

import datetime as dt
import io
import json
import logging
import re
import uuid

import pytest
from django.contrib import admin
from django.http import QueryDict
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.regex_helper import normalize

from accounts.models import Role
from tests.conftest import inside

pytestmark = pytest.mark.django_db

HOSTILE = [
    "\x00",
    "x" * 4000,
    "9" * 30,
    "-1",
    "1e309",
    "NaN",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "0001-01-01T00:00:00-14:00/9999-12-31T23:59:59+14:00",
    "[]",
    # A digit str.isdigit() takes and int() refuses (pentest 5: ?system=² on the import
    # preview). More than the 4,300 digits int() converts never arrive: gunicorn refuses
    # a request line over 4,094 bytes.
    "²",
]

# Parameters the registry's own views know, at a valid value: the state in which a route
# reads the most (a view that stops at a bad bbox never looks at the area).
BASELINE = {
    "bbox": "102,6,118,24",
    "area": "991",
    "kind": "pond",
    "signage": "none",
    "barrier": "none",
    "state": "unprotected",
    "due": "true",
    "child": "99101",
    "indicator": "counting",
    "event": "opened",
    "datetime": "2025-01-01T00:00:00Z/..",
    "limit": "10",
    "offset": "0",
    "page": "1",
    "page_size": "10",
    "year": "2025",
    "half": "1",
    "start": "2025-01-01",
    "end": "2025-06-30",
    "level": "commune",
    "q": "Ao",
    "order": "overdue",
}
# Where a name means something else.
BASELINE_FOR = {
    "report": {"kind": "range"},
    "report-sites": {"kind": "range"},
    "report-file": {"kind": "range"},
    "admin:autocomplete": {"app_label": "hazards", "model_name": "inspection", "field_name": "site", "term": "Ao"},
}
# Sent all at once with each hostile value, whatever the route is seen to read.
COMMON = sorted(
    set(BASELINE)
    | {"within", "f", "format", "o", "p", "e", "id", "code", "site", "inspection", "next", "lang", "language"}
    | {"sort", "order", "search", "from", "to", "token", "_popup", "_to_field", "_changelist_filters", "all"}
)


class RecordingQueryDict(QueryDict):
    """request.GET that notes every name a view asks it for."""

    def __init__(self, original: QueryDict, seen: set):
        super().__init__(mutable=True)
        for key, values in original.lists():
            self.setlist(key, values)
        self._mutable = False
        self.seen = seen

    def __getitem__(self, key):
        self.seen.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.seen.add(key)
        return super().get(key, default)

    def getlist(self, key, default=None):
        self.seen.add(key)
        return super().getlist(key, default)

    def __contains__(self, key):
        self.seen.add(key)
        return super().__contains__(key)

    # Going through every parameter (the admin, a cache key) reads none by name.
    def items(self):
        for key in self.keys():
            yield key, super().__getitem__(key)

    def lists(self):
        for key in self.keys():
            yield key, super().getlist(key)

    def copy(self):
        plain = QueryDict(mutable=True)
        for key, values in self.lists():
            plain.setlist(key, values)
        return plain

    __copy__ = copy

    def __deepcopy__(self, memo):
        return self.copy()


SEEN: set = set()


class RecordingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.GET = RecordingQueryDict(request.GET, SEEN)
        return self.get_response(request)


def _patterns(patterns, chain=(), namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _patterns(pattern.url_patterns, (*chain, pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield (*chain, pattern.pattern), f"{namespace}{pattern.name}"


def all_routes():
    """(pattern chain, route name) of every URL pattern, admin and API included."""
    return list(_patterns(get_resolver().url_patterns))


ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*)\)")


def _choices(pattern) -> dict[str, list[str]]:
    """Values a regex group spells out (fmt=geojson|csv|...): each is its own route."""
    if not isinstance(pattern, RegexPattern):
        return {}
    found = {}
    for group in GROUP.finditer(pattern._regex):
        body = group["body"]
        if "|" in body and re.fullmatch(r"[\w|]+", body):
            found[group["name"]] = body.split("|")
    return found


def _fill(pattern, values: dict) -> str | None:
    if isinstance(pattern, RoutePattern):
        return ROUTE_PARAM.sub(lambda m: str(values[m["name"]]), str(pattern))
    text, _params = normalize(pattern._regex)[0]
    return text % {k: str(v) for k, v in values.items()}


def _parameter_names(pattern) -> list[tuple[str, str]]:
    """(name, converter) of each parameter; a regex group's converter is "str"."""
    if isinstance(pattern, RoutePattern):
        return [(m["name"], m["converter"] or "str") for m in ROUTE_PARAM.finditer(str(pattern))]
    numbers = {g["name"] for g in GROUP.finditer(pattern._regex) if g["body"] in ("[0-9]+", r"\d+")}
    return [(name, "int" if name in numbers else "str") for name in pattern.regex.groupindex]


# A value each converter accepts, for a parameter the world has no sample of.
BY_CONVERTER = {"int": lambda: 1, "uuid": uuid.uuid4, "path": lambda: "x", "str": lambda: "x", "slug": lambda: "x"}


def _bare(route: str) -> str:
    return route.replace("^", "").replace("$", "")


def concrete_urls(chain, name, samples) -> list[str]:
    """Addresses that resolve to this route: each named choice of a regex group, and for
    other parameters the world's sample for the route and name."""
    variants = [{}]
    for pattern in chain:
        for parameter, options in _choices(pattern).items():
            variants = [{**v, parameter: option} for v in variants for option in options]
    urls = []
    for chosen in variants:
        values = dict(chosen)
        for pattern in chain:
            for parameter, converter in _parameter_names(pattern):
                if parameter not in values:
                    values[parameter] = samples(name, parameter, values)
                    if values[parameter] is None:
                        values[parameter] = BY_CONVERTER[converter]()
        url = "/" + "".join(_fill(pattern, values) for pattern in chain)
        match = resolve(url.split("?")[0])
        assert _bare(match.route) == _bare("".join(str(p) for p in chain)), (
            f"{url} does not reach {name}: give tests/security/test_hostile_parameters.py a sample for it"
        )
        urls.append(url)
    return urls


@pytest.fixture
def world(demo_tree, make_site, inspect, superuser, make_user):
    """One of everything a route's address can name, so that each route reaches its view
    (a random id would stop at 404 before any parameter is read)."""
    from django.utils import timezone
    from PIL import Image

    from accounts.tokens import token_issue
    from hazards import campaigns, job_queue, lifecycle, orders, services
    from hazards.models import ImportRun
    from hazards.tasks import EXPORT_JOB
    from reports import services as report_services
    from reports.periods import Period
    from tests.conftest import run_queued_jobs
    from tests.reports.test_submissions import DETAILS

    site = make_site(demo_tree["99101"], name="Ao làng")
    inspection = inspect(site, "2026-01-10T09:00")
    jpeg = io.BytesIO()
    Image.new("RGB", (32, 24)).save(jpeg, format="JPEG")
    photo, _created = services.photo_attach(actor=superuser, inspection=inspection, data=jpeg.getvalue())
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    order = orders.order_open(
        actor=superuser,
        site=make_site(demo_tree["99101"], name="Giếng bỏ hoang"),
        party_kind="household",
        party_name="Hộ ông Ba",
        requirements=["sign"],
        deadline=timezone.localdate() + dt.timedelta(days=20),
        follow_up=worker,
    )
    today = timezone.localdate()
    campaign = campaigns.campaign_start(
        actor=superuser, name="Trước hè", area=demo_tree["99"], starts_on=today, ends_on=today + dt.timedelta(days=60)
    )
    proposal = lifecycle.closure_propose(
        actor=worker, site=make_site(demo_tree["99101"]), reason="filled_in", observed_at=timezone.now()
    )
    job = job_queue.job_start(
        actor=superuser, kind=EXPORT_JOB, params={"fmt": "csv", "query": "area=991"}, language="en"
    )
    run_queued_jobs()  # done, with its file
    kept, duplicate = make_site(demo_tree["99102"]), make_site(demo_tree["99102"])
    lifecycle.site_merge(actor=superuser, duplicate=duplicate, kept=kept)
    token_issue(actor=superuser, user=worker, name="máy tính bảng")
    report_services.target_set(
        actor=superuser, area=demo_tree["99"], indicator="protected", value=80, deadline=today + dt.timedelta(days=300)
    )
    submission = report_services.report_submit(
        actor=superuser,
        area=demo_tree["991"],
        period=Period(dt.date(2025, 1, 1), dt.date(2025, 6, 30), "half"),
        **DETAILS,
    )
    import_run = ImportRun.objects.create(
        created_by=superuser, upload_id="x", file_name="ds.csv", dry_run=True, language="en"
    )
    return {
        "site": site,
        "inspection": inspection,
        "photo": photo,
        "order": order,
        "campaign": campaign,
        "proposal": proposal,
        "job": job,
        "import_run": import_run,
        "submission": submission,
        "orderable": make_site(demo_tree["99101"], name="Ao chưa có lệnh"),
        "tree": demo_tree,
        "point": inside(demo_tree["99101"]),
    }


def _tile_of(point, z=14):
    import math

    lon, lat = point.coords
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def make_samples(world, upload_id):
    site, inspection, photo = world["site"], world["inspection"], world["photo"]
    x, y = _tile_of(world["point"])

    def admin_object(name):
        _ns, _sep, rest = name.partition(":")
        for model, model_admin in admin.site._registry.items():
            prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
            if rest.startswith(prefix):
                obj = model_admin.get_queryset(_admin_request()).first() or model._default_manager.first()
                return obj.pk if obj else 1
        return 1

    by_name = {
        ("site-tile", "z"): 14,
        ("site-tile", "x"): x,
        ("site-tile", "y"): y,
        ("site-detail", "pk"): site.pk,
        ("inspection-detail", "pk"): inspection.pk,
        ("area-detail", "code"): "99101",
        ("map-site-panel", "pk"): site.pk,
        ("import-preview", "upload_id"): upload_id,
        ("evidence-file", "name"): photo.thumbnail.name,
        ("ogc-item", "feature_id"): None,  # depends on the collection
        ("admin:auth_user_password_change", "id"): world["superuser_id"],
        # Remediation orders and campaigns, their pages, API and notices.
        ("order-detail", "pk"): world["order"].pk,
        ("order-edit", "pk"): world["order"].pk,
        ("order-action", "pk"): world["order"].pk,
        ("order-action", "action"): "acknowledge",
        ("order-notice", "pk"): world["order"].pk,
        ("order-notice", "fmt"): "pdf",
        ("campaign-detail", "pk"): world["campaign"].pk,
        ("campaign-board", "pk"): world["campaign"].pk,
        ("campaign-edit", "pk"): world["campaign"].pk,
        ("campaign-file", "pk"): world["campaign"].pk,
        # Site lifecycle: closing, reopening, merging, closure proposals.
        ("site-close", "pk"): site.pk,
        ("site-reopen", "pk"): site.pk,
        ("site-merge", "pk"): site.pk,
        ("closure-confirm", "pk"): world["proposal"].pk,
        ("closure-decline", "pk"): world["proposal"].pk,
        # Jobs (a finished export with its file) and imports.
        ("job-page", "run_id"): world["job"].pk,
        ("api-job", "run_id"): world["job"].pk,
        ("job-file", "run_id"): world["job"].pk,
        ("import-run", "run_id"): world["import_run"].pk,
        ("submission-detail", "pk"): world["submission"].pk,
        ("submission-sites", "pk"): world["submission"].pk,
        ("submission-orders", "pk"): world["submission"].pk,
        ("submission-decide", "pk"): world["submission"].pk,
        ("submission-document", "pk"): world["submission"].pk,
    }

    def samples(name, parameter, chosen):
        if name.startswith("ogc-") and parameter == "collection_id":
            return "sites"
        if (name, parameter) == ("ogc-item", "feature_id"):
            return site.pk if chosen.get("collection_id") == "sites" else "99101"
        if (name, parameter) in by_name:
            return by_name[(name, parameter)]
        if parameter == "object_id":
            return admin_object(name)
        if parameter == "content_type_id":
            from django.contrib.contenttypes.models import ContentType

            return ContentType.objects.get_for_model(type(site)).pk
        if parameter == "photo_id":
            return uuid.uuid4()
        return None

    return samples


ADMIN_REQUEST = {}


def _admin_request():
    return ADMIN_REQUEST["request"]


def schema_parameters(client) -> list[tuple[re.Pattern, set]]:
    """Query parameters the OpenAPI schema names, by the addresses its paths match."""
    schema = client.get("/api/v1/schema/?format=json").json()
    found = []
    for path, operations in schema["paths"].items():
        template = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
        names = {
            parameter["name"]
            for operation in operations.values()
            for parameter in operation.get("parameters", [])
            if parameter.get("in") == "query"
        }
        found.append((template, names))
    return found


def schema_names_for(schema, url: str) -> set:
    return set().union(*(names for template, names in schema if template.match(url)))


def admin_parameters(name: str) -> set:
    """What an admin page reads from its query string: its filters, its date drill-down,
    and on an add page its form's fields (taken as initial values)."""
    request = _admin_request()
    found = set()
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if not name.startswith(prefix):
            continue
        if name.endswith("_changelist"):
            changelist = model_admin.get_changelist_instance(request)
            for spec in changelist.filter_specs:
                found.update(spec.expected_parameters())
            if model_admin.date_hierarchy:
                found.update(f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day"))
        if name.endswith("_add") and model_admin.has_add_permission(request):
            found.update(model_admin.get_form(request)().fields)
    return found


def send(client, url, params):
    """The status, or the error raised, of GET url?params, streamed content included."""
    try:
        response = client.get(url, params)
        if response.streaming:
            b"".join(response.streaming_content)  # the client closes it at the end
        return response.status_code
    except Exception as exc:  # any error the view raises is what this test looks for
        return f"{type(exc).__name__}: {str(exc)[:120]}"


# Routes whose 5xx is their purpose: /readyz answers 503 while no job worker beats (none
# runs in tests). Its answer must just not depend on what the address carries.
OWN_5XX = {"readyz": 503}
# Routes whose 404 is their purpose: the admin's catch-all for addresses it does not know.
OWN_404 = {"admin:None"}


def _bad(outcome, name) -> bool:
    return not isinstance(outcome, int) or (outcome >= 500 and outcome != OWN_5XX.get(name))


def test_no_route_answers_a_hostile_parameter_with_a_server_error(world, superuser, settings, caplog, tmp_path):
    caplog.set_level(logging.WARNING)  # not a line per request for ten thousand requests
    settings.MIDDLEWARE = ["tests.security.test_hostile_parameters.RecordingMiddleware", *settings.MIDDLEWARE]
    settings.IMPORT_UPLOAD_ROOT = tmp_path / "imports"  # its upload leaves nothing for other tests
    world["superuser_id"] = superuser.pk
    ADMIN_REQUEST["request"] = RequestFactory().get("/")
    ADMIN_REQUEST["request"].user = superuser
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=True)
    client.force_login(superuser)
    upload = client.post("/imports/", {"file": _csv()})
    assert upload.status_code == 302
    upload_id = upload["Location"].rstrip("/").rsplit("/", 1)[1]
    samples = make_samples(world, upload_id)
    # What a route needs in its query string to name its object (the site of a new order).
    addressed = {"order-new": {"site": str(world["orderable"].pk)}}
    baseline_for = {**BASELINE_FOR, **addressed}
    schema = schema_parameters(client)
    routes = all_routes()
    assert len(routes) > 60, "the resolver lists the admin, the API and the pages"
    failures, unreached, requests = [], [], 0
    for chain, name in routes:
        for variant, url in enumerate(concrete_urls(chain, name, samples)):
            SEEN.clear()
            for bare, params in ((True, addressed.get(name, {})), (False, {**BASELINE, **baseline_for.get(name, {})})):
                outcome = send(client, url, params)
                requests += 1
                if _bad(outcome, name):
                    failures.append((url, "(valid values)", "", outcome))
                if outcome == 404 and bare and name not in OWN_404:
                    unreached.append(url)
            names = SEEN | schema_names_for(schema, url) | admin_parameters(name)
            baseline = {k: v for k, v in {**BASELINE, **baseline_for.get(name, {})}.items() if k in names}
            # One by one on the first of a route's variants (the others parse the same
            # parameters: they differ in what they write, e.g. an export's format).
            for parameter in sorted(names) if variant == 0 else ():
                for value in HOSTILE:
                    outcome = send(client, url, {**baseline, parameter: value})
                    requests += 1
                    if _bad(outcome, name):
                        failures.append((url, parameter, value[:40], outcome))
            for value in HOSTILE:
                outcome = send(client, url, dict.fromkeys(sorted(names | set(COMMON)), value))
                requests += 1
                if _bad(outcome, name):
                    failures.append((url, "(all at once)", value[:40], outcome))
            # Bytes that are no UTF-8, as a raw query string.
            outcome = send(client, f"{url}?{'&'.join(f'{n}=%ff%fe%00' for n in sorted(names) or ['area'])}", {})
            requests += 1
            if _bad(outcome, name):
                failures.append((url, "(raw bytes)", "%ff%fe%00", outcome))
    report = "\n".join(f"{url} {parameter}={value!r}: {outcome}" for url, parameter, value, outcome in failures)
    assert not failures, f"{len(failures)} of {requests} requests failed:\n{report[:20000]}"
    # A route that answers 404 to its valid address never read a parameter: give it a sample.
    assert not unreached, f"these addresses name nothing: give make_samples a sample for them: {unreached}"
    print(f"{requests} requests to {len(routes)} routes")


def _csv():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("ds.csv", b"ten,lat,lon\nAo,21,105\n")


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_nested_a_hundred_thousand_levels_is_a_client_error(world, superuser):
    """Every route that takes a body gets JSON nested 100,000 levels deep."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    client.force_login(superuser)
    samples = make_samples({**world, "superuser_id": superuser.pk}, "x")
    ADMIN_REQUEST["request"] = RequestFactory().get("/")
    ADMIN_REQUEST["request"].user = superuser
    body = json.dumps({"records": None})[:-1] + nested(100_000) + "}"
    failures = []
    for chain, name in all_routes():
        for url in concrete_urls(chain, name, samples):
            for method in (client.post, client.put, client.patch):
                for document in (nested(100_000), body):
                    status = method(url, document, content_type="application/json").status_code
                    if _bad(status, name):
                        failures.append((method.__name__, url, status))
    assert not failures, failures

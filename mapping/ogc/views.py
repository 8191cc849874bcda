"""The views of /ogc/: landing page, conformance, the OpenAPI document, collections, items
(GeoJSON built by PostgreSQL, paged by key), single items, queryables and schemas.

Who may read: the session's user, or a device token sent as Basic (user name and token),
Bearer or Token (accounts/tokens.py); a 401 asks for Basic so QGIS prompts for it. Every
read passes the area scope. GET and HEAD are answered; cross-origin reads are allowed
(CORS, config/settings), since a device token, never a cookie, opens the data to them."""

import contextlib
import functools
import json

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.db.models import F, Func, QuerySet, TextField, Value
from django.db.models.functions import Cast
from django.http import Http404, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from rest_framework import exceptions

from accounts.scope import VIEW, scope_for
from accounts.tokens import challenge, signed_in_user
from common.errors import NOT_AUTHENTICATED, error_body, field_errors, sentence
from hazards.exports import JSONBuild

from . import crs as crs_module
from . import next_page, openapi, params, qml
from .collections import COLLECTIONS, Collection
from .openapi import GEOJSON, JSON, OPENAPI, QML, SCHEMA

QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
SCHEMA_REL = "http://www.opengis.net/def/rel/ogc/1.0/schema"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]
# The items' own parameters; a collection adds its filters. Any other is refused (a typo
# must not silently return everything).
ITEM_PARAMETERS = ("limit", "after", "bbox", "bbox-crs", "crs", "datetime", "resultType", "f")
ALLOWED = "GET, HEAD, OPTIONS"


def _json(data, status=200, content_type=JSON) -> HttpResponse:
    return HttpResponse(json.dumps(data, ensure_ascii=False), status=status, content_type=content_type)


def ogc_error(status: int, code: str, message, errors: dict | None = None) -> HttpResponse:
    """The registry's error shape (common/errors.py) with the standard's `description`. Its
    codes are the registry's too (invalid, not_found, not_authenticated): OGC API - Features
    Part 1's exception schema (17-069r4, openapi/schemas/exception.yaml) requires a `code`
    string but fixes no names for it; "InvalidParameterValue" and the like are OWS Common's
    (WFS 2.0), which the API standard does not take over."""
    return _json(error_body(code, message, errors, description=str(message)), status=status)


def ogc_view(view):
    """Methods, sign-in and errors as every /ogc/ resource answers them."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Allow"] = ALLOWED
            return response
        if request.method not in ("GET", "HEAD"):
            response = ogc_error(405, "method_not_allowed", _("Only GET and HEAD are answered here."))
            response["Allow"] = ALLOWED
            return response
        try:
            user = signed_in_user(request)
        except (exceptions.NotAuthenticated, exceptions.AuthenticationFailed) as refused:
            response = ogc_error(401, NOT_AUTHENTICATED, str(refused.detail))
            response["WWW-Authenticate"] = challenge(request)
            return response
        request.user = user
        try:
            holding_nul = [name for name, values in request.GET.lists() if any("\x00" in v for v in values)]
            if holding_nul:
                raise ValidationError(dict.fromkeys(holding_nul, _("A parameter holds a NUL character.")))
            response = view(request, user, *args, **kwargs)
        except ValidationError as exc:
            errors = field_errors(exc)
            response = ogc_error(400, "invalid", sentence(errors), errors)
        except Http404:
            response = ogc_error(404, "not_found", _("No such collection or feature in your areas."))
        # What the answer holds depends on who asks: never kept by a shared cache.
        response["Cache-Control"] = "private, no-cache"
        patch_vary_headers(response, ["Authorization", "Cookie", "Accept-Language"])
        return response

    return wrapped


def _url(request, name: str, *args, query: str = "") -> str:
    return request.build_absolute_uri(reverse(name, args=args)) + (f"?{query}" if query else "")


def _link(href: str, rel: str, media: str, title: str | None = None) -> dict:
    link = {"href": href, "rel": rel, "type": media}
    if title:
        link["title"] = title
    return link


def _collection(collection_id: str) -> Collection:
    if collection_id not in COLLECTIONS:
        raise Http404
    return COLLECTIONS[collection_id]


def _format(request) -> None:
    if request.GET.get("f") not in ("", None, "json", "geojson"):  # empty: not given
        raise ValidationError({"f": _("Only json is offered.")})


@ogc_view
def landing(request, user):
    _format(request)
    return _json(
        {
            "title": _("Drowning hazard registry"),
            "description": _("Places with deep water and their warning signs and barriers."),
            "links": [
                _link(_url(request, "ogc-landing"), "self", JSON, _("This document")),
                _link(_url(request, "ogc-api"), "service-desc", OPENAPI, _("API definition")),
                _link(_url(request, "ogc-conformance"), "conformance", JSON, _("Conformance classes")),
                _link(_url(request, "ogc-collections"), "data", JSON, _("Collections")),
            ],
        }
    )


@ogc_view
def conformance(request, user):
    _format(request)
    return _json({"conformsTo": CONFORMANCE})


@ogc_view
def api(request, user):
    _format(request)
    return _json(openapi.document(request, _url(request, "ogc-landing").rstrip("/")), content_type=OPENAPI)


def _extent(user) -> list[float]:
    """The bounding box of the user's areas (a few boundaries, not every feature)."""
    box = scope_for(user).root_areas(VIEW).aggregate(box=Extent("geom"))["box"]
    return [round(v, 6) for v in box] if box else list(settings.COUNTRY_BOUNDS)


def _describe(request, user, collection: Collection) -> dict:
    title = collection.title()
    return {
        "id": collection.id,
        "title": title,
        "description": collection.description(),
        "itemType": "feature",
        "crs": list(crs_module.OFFERED),
        "storageCrs": crs_module.CRS84,
        "extent": {"spatial": {"bbox": [_extent(user)], "crs": crs_module.CRS84}},
        "links": [
            _link(_url(request, "ogc-collection", collection.id), "self", JSON, title),
            _link(_url(request, "ogc-items", collection.id), "items", GEOJSON, title),
            _link(_url(request, "ogc-queryables", collection.id), QUERYABLES_REL, SCHEMA, _("Queryables")),
            # GDAL 3.6 reads the properties' types from this link, and only when spelt
            # "describedBy" (relation types are case-insensitive); OGC calls it "schema".
            _link(_url(request, "ogc-schema", collection.id), "describedBy", SCHEMA, _("Feature schema")),
            _link(_url(request, "ogc-schema", collection.id), SCHEMA_REL, SCHEMA, _("Feature schema")),
            _link(_url(request, "ogc-qml", collection.id), "stylesheet", QML, _("QGIS style")),
        ],
    }


@ogc_view
def collections(request, user):
    _format(request)
    return _json(
        {
            "links": [_link(_url(request, "ogc-collections"), "self", JSON, _("Collections"))],
            "collections": [_describe(request, user, c) for c in COLLECTIONS.values()],
        }
    )


@ogc_view
def collection(request, user, collection_id):
    _format(request)
    return _json(_describe(request, user, _collection(collection_id)))


class _Filtering:
    """What the collections' filters read of a request: its user and the parameters."""

    def __init__(self, user, query: QueryDict):
        self.user = user
        self.GET = query


def _filtered(request, user, collection: Collection) -> QuerySet:
    """The collection's rows the user may see, under every filter the request gives."""
    query = request.GET
    known = {*ITEM_PARAMETERS, *(p.name for p in collection.parameters)}
    unknown = sorted(set(query) - known)
    if unknown:
        message = _("Unknown parameter %(names)s. This collection takes: %(known)s. Pages follow the next link.")
        raise ValidationError({name: message % {"names": name, "known": ", ".join(sorted(known))} for name in unknown})
    rows = collection.rows(user)
    if query.get("bbox"):
        box = crs_module.chosen(query.get("bbox-crs"), "bbox-crs").bbox(query["bbox"])
        rows = rows.filter(**{f"{collection.geometry}__intersects": box})
    elif query.get("bbox-crs"):
        crs_module.chosen(query["bbox-crs"], "bbox-crs")
    rows = rows.filter(**params.datetime_lookups(query.get("datetime", ""), collection.temporal))
    filters = query.copy()
    for name in ITEM_PARAMETERS:
        filters.pop(name, None)
    return collection.filter(rows, _Filtering(user, filters))


def _features(collection: Collection, crs: crs_module.Crs, rows: QuerySet) -> QuerySet:
    """(key, feature as GeoJSON text) per row, built by PostgreSQL."""
    properties = {}
    for prop in collection.properties:
        value = prop.value() if callable(prop.value) else prop.value
        properties[prop.name] = F(value) if isinstance(value, str) else value
    geometry = Func(crs.geojson(collection.geometry), template="%(expressions)s::json", output_field=TextField())
    feature = JSONBuild(
        type=Value("Feature"),
        id=Cast(collection.key, TextField()),
        geometry=geometry,
        properties=JSONBuild(**properties),
    )
    return rows.annotate(feature_text=Cast(feature, TextField())).values_list(collection.key, "feature_text")


def _page(collection: Collection, crs: crs_module.Crs, rows: QuerySet, after, size: int) -> list:
    """Up to size + 1 (key, feature text) of `rows` after the key `after` (None: the first
    page), in key order: the one beyond the page tells whether a next page exists."""
    if after is not None:
        rows = rows.filter(**{f"{collection.key}__gt": after})
    with _local_times(rows.db):
        return list(_features(collection, crs, rows.order_by(collection.key))[: size + 1])


@contextlib.contextmanager
def _local_times(alias: str):
    """Times in features are written by PostgreSQL in the registry's time zone, with its
    offset (2026-06-01T08:00:00+07:00), as the REST API writes them. LOCAL: for this
    transaction only, and set back before the caller's transaction goes on."""
    database = connections[alias]  # the rows' database: a replica, where one is set up
    with transaction.atomic(using=database.alias), database.cursor() as cursor:
        cursor.execute("SET LOCAL TimeZone = %s", [settings.TIME_ZONE])
        yield
        cursor.execute("SET LOCAL TimeZone = %s", [database.timezone_name])


def _crs_headers(response: HttpResponse, crs: crs_module.Crs) -> HttpResponse:
    response["Content-Crs"] = f"<{crs.uri}>"
    return response


@ogc_view
def items(request, user, collection_id):
    collection = _collection(collection_id)
    _format(request)
    size = params.limit(request.GET.get("limit"))
    crs = crs_module.chosen(request.GET.get("crs"), "crs")
    rows = _filtered(request, user, collection)
    result_type = request.GET.get("resultType") or "results"
    if result_type not in ("results", "hits"):
        raise ValidationError({"resultType": _("resultType must be results or hits.")})
    if result_type == "hits":  # GDAL asks this way for a count: counted only when asked
        body = {"type": "FeatureCollection", "features": [], "numberMatched": rows.count(), "numberReturned": 0}
        return _crs_headers(_json(body, content_type=GEOJSON), crs)
    after = request.GET.get("after")
    after_key, page = None, None
    if after:
        try:
            after_key = collection.parse_key(after)
        except ValueError:
            raise ValidationError({"after": _("after must be the feature id a next link gives.")}) from None
        page = next_page.built(next_page.page_key(user, scope_for(user), collection.id, crs.uri, request.GET))
    if page is None:
        page = _page(collection, crs, rows, after_key, size)
    more = len(page) > size
    page = page[:size]
    base = _url(request, "ogc-items", collection.id)
    query = request.GET.copy()
    links = [_link(f"{base}?{query.urlencode()}" if query else base, "self", GEOJSON, _("This page"))]
    if more:
        query["after"], query["limit"] = str(page[-1][0]), str(size)
        links.append(_link(f"{base}?{query.urlencode()}", "next", GEOJSON, _("Next page")))
        # A client that followed a next link reads them all: its next page is built while
        # it reads this one (next_page.py), unless this connection is in a transaction,
        # whose rows the builder's own connection would not see.
        if after and not connections[rows.db].in_atomic_block:
            next_page.build_ahead(
                next_page.page_key(user, scope_for(user), collection.id, crs.uri, query),
                functools.partial(_page, collection, crs, rows, page[-1][0], size),
                rows.db,
            )
    links.append(_link(_url(request, "ogc-collection", collection.id), "collection", JSON, collection.title()))
    head = {"type": "FeatureCollection"}
    if not after and not more:  # the whole result is on this page: its count costs nothing
        head["numberMatched"] = len(page)
    tail = {"numberReturned": len(page), "timeStamp": timezone.now().isoformat(timespec="seconds"), "links": links}
    body = b"".join(
        [
            json.dumps(head, ensure_ascii=False)[:-1].encode(),
            b', "features": [\n',
            ",\n".join(text for _key, text in page).encode(),
            b"\n], ",
            json.dumps(tail, ensure_ascii=False)[1:].encode(),
        ]
    )
    response = HttpResponse(body, content_type=GEOJSON)
    queryables = _url(request, "ogc-queryables", collection.id)
    response["Link"] = f'<{queryables}>; rel="{QUERYABLES_REL}"; type="{SCHEMA}"'
    return _crs_headers(response, crs)


@ogc_view
def item(request, user, collection_id, feature_id):
    collection = _collection(collection_id)
    _format(request)
    unknown = sorted(set(request.GET) - {"crs", "f"})
    if unknown:
        raise ValidationError({name: _("Unknown parameter %(names)s.") % {"names": name} for name in unknown})
    crs = crs_module.chosen(request.GET.get("crs"), "crs")
    try:
        key = collection.parse_key(feature_id)
    except ValueError:
        raise Http404 from None
    rows = collection.rows(user).filter(**{collection.key: key})
    with _local_times(rows.db):
        found = list(_features(collection, crs, rows)[:1])
    if not found:
        raise Http404
    feature = json.loads(found[0][1])
    feature["links"] = [
        _link(request.build_absolute_uri(), "self", GEOJSON),
        _link(_url(request, "ogc-collection", collection.id), "collection", JSON, collection.title()),
    ]
    return _crs_headers(_json(feature, content_type=GEOJSON), crs)


@ogc_view
def queryables(request, user, collection_id):
    collection = _collection(collection_id)
    return _json(openapi.queryables(collection, _url(request, "ogc-queryables", collection.id)), content_type=SCHEMA)


@ogc_view
def schema(request, user, collection_id):
    collection = _collection(collection_id)
    return _json(openapi.feature_schema(collection, _url(request, "ogc-schema", collection.id)), content_type=SCHEMA)


@ogc_view
def style(request, user, collection_id):
    collection = _collection(collection_id)
    response = HttpResponse(qml.style(collection), content_type=QML)
    response["Content-Disposition"] = f'attachment; filename="{collection.id}.qml"'
    return response

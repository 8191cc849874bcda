"""OGC API - Features (Part 1 Core, GeoJSON) for GIS staff: /ogc/ lists the collections
"sites" and "areas"; QGIS and GDAL's OAPIF driver read them. Every read passes the same
area scope as the rest of the registry."""

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import Polygon
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from rest_framework.exceptions import AuthenticationFailed

from accounts.scope import VIEW, scope_for
from accounts.tokens import DeviceTokenAuthentication
from areas.geometry import parse_bbox
from areas.models import Area
from hazards.models import Site

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


class BadRequest(Exception):
    pass


@dataclass(frozen=True)
class Collection:
    id: str
    title: Callable[[], str]
    description: Callable[[], str]
    queryset: Callable[[], QuerySet]
    geometry: str
    temporal: str  # the field the datetime parameter filters on
    properties: Callable[[object], dict]


def _site_properties(site) -> dict:
    return {
        "code": site.code,
        "name": site.name,
        "kind": site.kind,
        "area_code": site.area.code,
        "area_name": site.area.name,
        "deep_water": site.deep_water,
        "depth_m": float(site.depth_m) if site.depth_m is not None else None,
        "signage": site.signage,
        "barrier": site.barrier,
        "state": site.state,
        "protected": site.is_protected,
        "last_checked_at": site.last_checked_at.isoformat() if site.last_checked_at else None,
        "is_temporary": site.is_temporary,
        "active_from": site.active_from.isoformat(),
        "closed_at": site.closed_at.isoformat() if site.closed_at else None,
        "close_reason": site.close_reason,
        "responsible_party": site.responsible_party,
    }


def _area_properties(area) -> dict:
    return {
        "code": area.code,
        "name": area.name,
        "level": area.level,
        "unit_type": area.unit_type,
        "parent_code": area.parent.code if area.parent else None,
    }


COLLECTIONS = {
    c.id: c
    for c in [
        Collection(
            "sites",
            lambda: _("Places with deep water"),
            lambda: _(
                "Ponds, lakes, dams, canals, wells, pits and other places with deep water, "
                "with their current sign and barrier state."
            ),
            lambda: Site.objects.select_related("area").order_by("code"),
            "location",
            "last_checked_at",
            _site_properties,
        ),
        Collection(
            "areas",
            lambda: _("Administrative areas"),
            lambda: _("Provinces, districts and communes as loaded into the registry."),
            lambda: Area.objects.select_related("parent").order_by("path"),
            "geom",
            "updated_at",
            _area_properties,
        ),
    ]
}


def _user(request):
    """Session or device token, as in the rest of the API."""
    if request.user.is_authenticated:
        return request.user
    try:
        found = DeviceTokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    return found[0] if found else None


def _json(data, status=200, content_type="application/json"):
    return JsonResponse(data, status=status, content_type=content_type, json_dumps_params={"ensure_ascii": False})


def _error(status, code, message):
    return _json({"code": code, "description": message}, status=status)


def ogc_view(view):
    def wrapped(request, *args, **kwargs):
        user = _user(request)
        if user is None:
            response = _error(
                401, "NotAuthenticated", _("Sign in, or send a device token: Authorization: Token <key>.")
            )
            response["WWW-Authenticate"] = "Token"
            return response
        try:
            return view(request, user, *args, **kwargs)
        except BadRequest as exc:
            return _error(400, "InvalidParameterValue", str(exc))
        except Http404:
            return _error(404, "NotFound", _("No such collection or feature in your areas."))

    return require_GET(wrapped)


def _link(request, name, rel, title, media="application/json", *args, query=""):
    return {
        "href": request.build_absolute_uri(reverse(name, args=args)) + query,
        "rel": rel,
        "type": media,
        "title": title,
    }


@ogc_view
def landing(request, user):
    return _json(
        {
            "title": _("Drowning hazard registry"),
            "description": _("Places with deep water and their warning signs and barriers."),
            "links": [
                _link(request, "ogc-landing", "self", _("This document")),
                _link(request, "ogc-conformance", "conformance", _("Conformance classes")),
                _link(request, "ogc-collections", "data", _("Collections")),
                _link(
                    request,
                    "api-schema",
                    "service-desc",
                    _("API definition"),
                    "application/vnd.oai.openapi+json;version=3.0",
                    query="?format=json",
                ),
            ],
        }
    )


@ogc_view
def conformance(request, user):
    return _json({"conformsTo": CONFORMANCE})


def _describe(request, user, collection: Collection) -> dict:
    extent = scope_for(user).restrict(collection.queryset(), VIEW).aggregate(box=Extent(collection.geometry))["box"]
    return {
        "id": collection.id,
        "title": collection.title(),
        "description": collection.description(),
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [list(extent or settings.COUNTRY_BOUNDS)], "crs": CRS84}},
        "links": [
            _link(request, "ogc-collection", "self", collection.title(), "application/json", collection.id),
            _link(request, "ogc-items", "items", collection.title(), "application/geo+json", collection.id),
        ],
    }


@ogc_view
def collections(request, user):
    return _json(
        {
            "links": [_link(request, "ogc-collections", "self", _("Collections"))],
            "collections": [_describe(request, user, c) for c in COLLECTIONS.values()],
        }
    )


def _collection(collection_id) -> Collection:
    if collection_id not in COLLECTIONS:
        raise Http404
    return COLLECTIONS[collection_id]


@ogc_view
def collection(request, user, collection_id):
    return _json(_describe(request, user, _collection(collection_id)))


def _number(value: str, name: str, low: int, high: int, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(_("%(name)s must be a whole number.") % {"name": name}) from None
    if not low <= number <= high:
        raise BadRequest(_("%(name)s must be between %(low)d and %(high)d.") % {"name": name, "low": low, "high": high})
    return number


def _bbox(value: str) -> Polygon | None:
    if not value:
        return None
    try:
        return parse_bbox(value)
    except ValidationError as exc:
        raise BadRequest(" ".join(exc.messages)) from None


def _is_day(text: str) -> bool:
    return "T" not in text.upper() and parse_date(text) is not None


def _instant(text: str, end: bool):
    """A date-time, or a whole day (its start, or the next day's start as an end)."""
    if text in ("", ".."):
        return None
    if _is_day(text):
        day = parse_date(text) + dt.timedelta(days=1 if end else 0)
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    moment = parse_datetime(text)
    if moment is None:
        raise BadRequest(_("datetime must be an RFC 3339 date or date-time, or an interval a/b with .. for open ends."))
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _datetime_filter(queryset, field: str, value: str):
    if not value:
        return queryset
    if "/" in value:
        start_text, end_text = value.split("/", 1)
        start, end = _instant(start_text, False), _instant(end_text, True)
        if start:
            queryset = queryset.filter(**{f"{field}__gte": start})
        if end:
            queryset = queryset.filter(**{f"{field}__lt": end})
        return queryset
    if not _is_day(value):
        return queryset.filter(**{field: _instant(value, False)})
    return queryset.filter(**{f"{field}__gte": _instant(value, False), f"{field}__lt": _instant(value, True)})


def _feature(collection: Collection, obj) -> dict:
    return {
        "type": "Feature",
        "id": str(obj.pk) if collection.id == "sites" else obj.code,
        "geometry": json.loads(obj.shape),
        "properties": collection.properties(obj),
    }


@ogc_view
def items(request, user, collection_id):
    collection = _collection(collection_id)
    limit = _number(request.GET.get("limit"), "limit", 1, MAX_LIMIT, DEFAULT_LIMIT)
    offset = _number(request.GET.get("offset"), "offset", 0, 10**9, 0)
    queryset = scope_for(user).restrict(collection.queryset(), VIEW)
    box = _bbox(request.GET.get("bbox", ""))
    if box is not None:
        queryset = queryset.filter(**{f"{collection.geometry}__intersects": box})
    queryset = _datetime_filter(queryset, collection.temporal, request.GET.get("datetime", ""))
    matched = queryset.count()
    page = list(queryset.annotate(shape=AsGeoJSON(collection.geometry, precision=7))[offset : offset + limit])
    base = request.build_absolute_uri(reverse("ogc-items", args=[collection.id]))
    params = request.GET.copy()
    links = [{"href": f"{base}?{params.urlencode()}", "rel": "self", "type": "application/geo+json"}]
    if offset + limit < matched:
        params["offset"], params["limit"] = offset + limit, limit
        links.append({"href": f"{base}?{params.urlencode()}", "rel": "next", "type": "application/geo+json"})
    if offset:
        params["offset"], params["limit"] = max(0, offset - limit), limit
        links.append({"href": f"{base}?{params.urlencode()}", "rel": "prev", "type": "application/geo+json"})
    return _json(
        {
            "type": "FeatureCollection",
            "features": [_feature(collection, obj) for obj in page],
            "numberMatched": matched,
            "numberReturned": len(page),
            "timeStamp": timezone.now().isoformat(),
            "links": links,
        },
        content_type="application/geo+json",
    )


@ogc_view
def item(request, user, collection_id, feature_id):
    collection = _collection(collection_id)
    queryset = (
        scope_for(user)
        .restrict(collection.queryset(), VIEW)
        .annotate(shape=AsGeoJSON(collection.geometry, precision=7))
    )
    if collection.id == "sites":
        try:
            lookup = {"pk": uuid.UUID(feature_id)}
        except ValueError:
            raise Http404 from None
    else:
        lookup = {"code": feature_id}
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise Http404
    feature = _feature(collection, obj)
    feature["links"] = [
        {"href": request.build_absolute_uri(), "rel": "self", "type": "application/geo+json"},
        {
            "href": request.build_absolute_uri(reverse("ogc-collection", args=[collection.id])),
            "rel": "collection",
            "type": "application/json",
        },
    ]
    return _json(feature, content_type="application/geo+json")

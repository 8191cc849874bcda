"""The OpenAPI 3.0 description of /ogc/ (served at /ogc/api), the queryables and the feature
schemas, all written from the collections' registry, so they describe what the views do.
QGIS takes its page size from components.parameters.limit (its default and maximum);
GDAL takes field types from the feature schema ("describedby")."""

from django.utils.translation import gettext as _

from . import crs as crs_module
from . import params
from .collections import COLLECTIONS, Collection

JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
GEOJSON = "application/geo+json"
JSON = "application/json"
SCHEMA = "application/schema+json"
QML = "application/vnd.qgis.qml"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


def _property_schema(prop) -> dict:
    return {"title": prop.title(), **prop.schema}


def _geometry_schema(collection: Collection) -> dict:
    depth = {"Point": 1, "Polygon": 3, "MultiPolygon": 4}[collection.geometry_type]
    coordinates: dict = {"type": "number"}
    for _level in range(depth):
        coordinates = {"type": "array", "items": coordinates}
    return {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {"type": {"type": "string", "enum": [collection.geometry_type]}, "coordinates": coordinates},
    }


def _feature(collection: Collection) -> dict:
    """A feature of the collection as JSON Schema (and as an OpenAPI 3.0 schema object)."""
    return {
        "type": "object",
        "title": collection.title(),
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "geometry": _geometry_schema(collection),
            "properties": {
                "type": "object",
                "required": [p.name for p in collection.properties],
                "properties": {p.name: _property_schema(p) for p in collection.properties},
            },
        },
    }


def feature_schema(collection: Collection, url: str) -> dict:
    return {"$schema": JSON_SCHEMA, "$id": url, **_feature(collection)}


def queryables(collection: Collection, url: str) -> dict:
    """The properties a query parameter of the same name selects on (OGC API - Features
    Part 3: queryables as query parameters)."""
    by_name = {p.name: p for p in collection.properties}
    return {
        "$schema": JSON_SCHEMA,
        "$id": url,
        "type": "object",
        "title": collection.title(),
        "properties": {p.name: _property_schema(by_name[p.name]) for p in collection.parameters if p.queryable},
        "additionalProperties": False,
    }


def _parameters() -> dict:
    return {
        "limit": {
            "name": "limit",
            "in": "query",
            "description": _("Features per page. More than the maximum sends the maximum."),
            "schema": {"type": "integer", "minimum": 1, "default": params.DEFAULT_LIMIT, "maximum": params.MAX_LIMIT},
        },
        "after": {
            "name": "after",
            "in": "query",
            "description": _("Features after this feature id: the next link sets it; pages follow the feature ids."),
            "schema": {"type": "string"},
        },
        "bbox": {
            "name": "bbox",
            "in": "query",
            "description": _("Features meeting this box: four numbers in the axis order of bbox-crs."),
            "style": "form",
            "explode": False,
            "schema": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
        },
        "bbox-crs": {
            "name": "bbox-crs",
            "in": "query",
            "description": _("The CRS of bbox (CRS84 when absent)."),
            "schema": {"type": "string", "format": "uri", "enum": list(crs_module.OFFERED)},
        },
        "crs": {
            "name": "crs",
            "in": "query",
            "description": _("The CRS of the geometries sent (CRS84 when absent)."),
            "schema": {"type": "string", "format": "uri", "enum": list(crs_module.OFFERED)},
        },
        "datetime": {
            "name": "datetime",
            "in": "query",
            "description": _(
                "A date, a date-time or an interval start/end (.. for an open end). Sites: when last "
                "checked; areas: when last loaded."
            ),
            "schema": {"type": "string"},
        },
        "resultType": {
            "name": "resultType",
            "in": "query",
            "description": _("hits: only numberMatched, the count (counted only when asked this way)."),
            "schema": {"type": "string", "enum": ["results", "hits"], "default": "results"},
        },
        "f": {
            "name": "f",
            "in": "query",
            "description": _("The format: JSON (GeoJSON for features), the only one."),
            "schema": {"type": "string", "enum": ["json", "geojson"], "default": "json"},
        },
        "featureId": {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}},
    }


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _answer(description: str, media: str, schema: dict | None = None) -> dict:
    return {"description": description, "content": {media: {"schema": schema or {"type": "object"}}}}


def _errors(*statuses: int) -> dict:
    texts = {
        400: _("A parameter is wrong: the description says which."),
        401: _("Sign in: Basic (user name and device token), Bearer or Token."),
        404: _("No such collection or feature in your areas."),
    }
    return {str(s): {**_answer(texts[s], JSON, _ref("schemas", "exception"))} for s in statuses}


def _get(summary: str, responses: dict, parameters: list | None = None, operation_id: str = "") -> dict:
    operation = {"summary": summary, "operationId": operation_id, "responses": responses}
    if parameters:
        operation["parameters"] = parameters
    return {"get": operation}


def _collection_paths(collection: Collection) -> dict:
    base = f"/collections/{collection.id}"
    fmt = _ref("parameters", "f")
    filters = [
        {"name": p.name, "in": "query", "description": p.description(), "schema": p.schema}
        for p in collection.parameters
    ]
    item_parameters = [
        _ref("parameters", name) for name in ("limit", "after", "bbox", "bbox-crs", "crs", "datetime", "resultType")
    ]
    page = {
        "type": "object",
        "required": ["type", "features", "numberReturned", "links"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": _ref("schemas", f"{collection.id}Feature")},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
            "timeStamp": {"type": "string", "format": "date-time"},
            "links": {"type": "array", "items": _ref("schemas", "link")},
        },
    }
    title = collection.title()
    return {
        base: _get(
            title,
            {"200": _answer(_("The collection"), JSON), **_errors(400, 401, 404)},
            [fmt],
            f"{collection.id}Collection",
        ),
        f"{base}/items": _get(
            _("Features of %(title)s, page by page") % {"title": title},
            {"200": _answer(_("A page of features"), GEOJSON, page), **_errors(400, 401, 404)},
            [*item_parameters, *filters, fmt],
            f"{collection.id}Items",
        ),
        f"{base}/items/{{featureId}}": _get(
            _("One feature of %(title)s") % {"title": title},
            {
                "200": _answer(_("The feature"), GEOJSON, _ref("schemas", f"{collection.id}Feature")),
                **_errors(400, 401, 404),
            },
            [_ref("parameters", "featureId"), _ref("parameters", "crs"), fmt],
            f"{collection.id}Item",
        ),
        f"{base}/queryables": _get(
            _("What the query parameters select on"),
            {"200": _answer(_("JSON schema of the queryables"), SCHEMA), **_errors(401)},
            operation_id=f"{collection.id}Queryables",
        ),
        f"{base}/schema": _get(
            _("The features' schema"),
            {"200": _answer(_("JSON schema of a feature"), SCHEMA), **_errors(401)},
            operation_id=f"{collection.id}Schema",
        ),
        f"{base}/style.qml": _get(
            _("QGIS style: field names, choice labels and colours"),
            {"200": _answer(_("A QGIS style file (QML)"), QML, {"type": "string"}), **_errors(401, 404)},
            operation_id=f"{collection.id}QgisStyle",
        ),
    }


def document(request, server: str) -> dict:
    fmt = [_ref("parameters", "f")]
    paths = {
        "/": _get(
            _("Landing page"), {"200": _answer(_("Links to the rest"), JSON), **_errors(400, 401)}, fmt, "landing"
        ),
        "/conformance": _get(
            _("Conformance classes"),
            {"200": _answer(_("What this API implements"), JSON), **_errors(400, 401)},
            fmt,
            "conformance",
        ),
        "/api": _get(
            _("This API definition"),
            {"200": _answer(_("OpenAPI 3.0"), OPENAPI), **_errors(400, 401)},
            fmt,
            "api",
        ),
        "/collections": _get(
            _("Collections"), {"200": _answer(_("Every collection"), JSON), **_errors(400, 401)}, fmt, "collections"
        ),
    }
    schemas = {
        "exception": {
            "type": "object",
            "required": ["code"],
            "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
        },
        "link": {
            "type": "object",
            "required": ["href", "rel"],
            "properties": {
                "href": {"type": "string"},
                "rel": {"type": "string"},
                "type": {"type": "string"},
                "title": {"type": "string"},
            },
        },
    }
    for collection in COLLECTIONS.values():
        paths.update(_collection_paths(collection))
        schemas[f"{collection.id}Feature"] = _feature(collection)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": _("Drowning hazard registry: OGC API - Features"),
            "version": "1.0",
            "description": _(
                "Places with deep water and the administrative areas, in the area scope of the account "
                "signed in. Sign in with HTTP Basic (your user name and a device token as the password, "
                "never your account password), or send Authorization: Bearer <device token>."
            ),
        },
        "servers": [{"url": server}],
        "security": [{"basic": []}, {"bearer": []}, {"token": []}],
        "paths": paths,
        "components": {
            "parameters": _parameters(),
            "schemas": schemas,
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic", "description": _("User name and a device token.")},
                "bearer": {"type": "http", "scheme": "bearer", "description": _("A device token.")},
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": _("Token <device token>, as the tablets send it."),
                },
            },
        },
    }

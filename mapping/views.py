"""The planner map (/map/) and the data it draws: vector tiles, the sites in view, the
child areas coloured by their protected share, a site's panel and the priority list.
Every one of them reads through the area scope and the shared site filters."""

import contextlib

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_safe
from rest_framework import exceptions

from accounts.scope import EDIT, VIEW, OutOfScope, scope_for
from accounts.sessions import passive_session
from accounts.tokens import challenge, signed_in_user
from areas.models import Area
from areas.selectors import areas_geojson
from common.errors import NOT_AUTHENTICATED, data_login_required, error_response
from common.numbers import format_number, share
from hazards import selectors
from hazards.exports import csv_stream
from hazards.filters import ORDER_LABELS, STATE_LABELS, chosen_area
from hazards.lifecycle_forms import CloseForm, ReopenForm
from hazards.models import Barrier, Signage, SiteKind
from hazards.order_selectors import site_orders
from hazards.orders import may_open_order
from reports.numbers import format_percent
from reports.periods import half_year_containing
from reports.selectors import Country, by_child

from . import priority, tile_documents, tile_tokens, tiles

LIST_LIMIT = 200
COUNT_LIMIT = 10000
PRIORITY_SHOWN = 100


def _area_or_root(request):
    """The area chosen with ?area= (one outside the scope refused as unknown, chosen_area),
    else the top of the user's scope (the country for national users)."""
    area = chosen_area(request)
    if area is not None:
        return area
    scope = scope_for(request.user)
    if scope.everything:
        return Country()
    area = scope.root_areas(VIEW).order_by("path").first()
    if area is None:
        raise Http404
    return area


def _page_strings() -> dict:
    """The words map.js shows, translated here so the script needs no catalogue."""
    return {
        "states": {key: str(label) for key, label in STATE_LABELS.items()},
        "kinds": dict(SiteKind.choices),
        "country": _("Whole country"),
        "no_data": _("no sites counting"),
        "sites_counting": _("%(n)s sites counting, %(share)s protected"),
        "shown_of": _("%(shown)s shown of %(total)s"),
        "more_than": _("more than %(n)s"),
        "none_in_view": _("No sites in view with these filters."),
        "due": _("due"),
        "score": _("score"),
        "deep_water": _("deep water"),
        "near": _("%(m)s m from %(place)s"),
        "candidates": _("%(n)s sites not protected"),
        "legend_states": _("Site state"),
        "legend_kinds": _("Kind"),
        "legend_areas": _("Protected share of counting sites"),
        "load_failed": _("The map data could not be loaded: %(error)s"),
        "basemap_offline": _("Background map unavailable (offline): sites and areas still show."),
    }


@login_required
@require_GET
def map_page(request):
    context = {
        "kinds": SiteKind.choices,
        "signage": Signage.choices,
        "barrier": Barrier.choices,
        "states": list(STATE_LABELS.items()),
        "order_filters": list(ORDER_LABELS.items()),
        "max_grid_zoom": tiles.MAX_GRID_ZOOM,
        "no_scope": scope_for(request.user).is_empty,
        "strings": _page_strings(),
        "tile_token": tile_tokens.issue(request),
        "tile_token_seconds": settings.MAP_TILE_TOKEN_SECONDS,
    }
    return render(request, "mapping/map.html", context)


@passive_session  # the page renews it by itself: not the person's activity
@require_GET
@data_login_required
def tile_token(request):
    """A fresh token for the map's tile requests (the page renews its own with this)."""
    return JsonResponse({"token": tile_tokens.issue(request), "seconds": settings.MAP_TILE_TOKEN_SECONDS})


def _tile_access_ended(request) -> JsonResponse:
    # The language middleware may not have run (mapping/middleware.py).
    with translation.override(translation.get_language_from_request(request)):
        message = _("The map's access to tiles has expired. Reload the page.")
    return error_response(401, "tile_token_expired", message)


def _tile_credentials(view):
    """Who asks for a tile: the map page's tile token (then neither the session nor the
    user is looked up, mapping/tile_tokens.py), else the session or a device token (QGIS
    with Basic, a web map with Bearer), as everywhere else."""

    def wrapped(request, *args, **kwargs):
        token = tile_tokens.presented(request)
        if token is not None:
            holder = tile_tokens.holder(token)
            if holder is None:
                return _tile_access_ended(request)
            request.user = holder
            # The language middleware has not run (mapping/middleware.py): a refusal of a
            # filter is in the request's language all the same.
            language = translation.override(translation.get_language_from_request(request))
        else:
            try:
                request.user = signed_in_user(request)
            except (exceptions.NotAuthenticated, exceptions.AuthenticationFailed) as refusal:
                response = error_response(401, NOT_AUTHENTICATED, refusal.detail)
                response["WWW-Authenticate"] = challenge(request)
                return response
            language = contextlib.nullcontext()  # the language middleware's
        with language:
            try:
                return view(request, *args, **kwargs)
            except tiles.TileAccessEnded:
                return _tile_access_ended(request)

    wrapped.__name__ = view.__name__
    return wrapped


@passive_session
@require_safe
@_tile_credentials
@data_login_required
def site_tile(request, z: int, x: int, y: int):
    if z > tiles.MAX_ZOOM or x >= 2**z or y >= 2**z:
        raise Http404
    body = tiles.tile(request, z, x, y)
    response = HttpResponse(body, content_type="application/vnd.mapbox-vector-tile")
    # Private: what a tile holds depends on who asks.
    response["Cache-Control"] = "private, max-age=30"
    patch_vary_headers(response, ["Authorization"])
    return response


def _tile_document(build):
    @require_safe
    def view(request):
        response = JsonResponse(build(request), json_dumps_params={"ensure_ascii": False})
        response["Cache-Control"] = "public, max-age=300"
        patch_vary_headers(response, ["Accept-Language"])
        return response

    return view


# For QGIS and MapLibre: no registry data in them, so no sign-in (mapping/tile_documents.py).
site_tilejson = _tile_document(tile_documents.tilejson)
site_tile_style = _tile_document(tile_documents.style)


def _site_summary(site: dict) -> dict:
    return {
        "id": str(site["id"]),
        "code": site["code"],
        "name": site["name"],
        "kind": SiteKind(site["kind"]).label,
        "area": site["area__name"],
        "state": site["state"],
        "due": site["due"],
        "lon": site["location"].x,
        "lat": site["location"].y,
    }


@require_GET
@data_login_required
def sites_in_view(request):
    """The sites in the map's bbox under the filters: the first LIST_LIMIT by code, and
    how many there are (counted up to COUNT_LIMIT)."""
    if not request.GET.get("bbox"):
        raise ValidationError({"bbox": _("bbox is required.")})
    total = selectors.filtered_sites(request.user, request).order_by()[: COUNT_LIMIT + 1].count()
    fields = ["id", "code", "name", "kind", "area__name", "state", "location"]
    shown = [_site_summary(s) for s in selectors.filtered_site_rows(request.user, request, fields)[:LIST_LIMIT]]
    return JsonResponse({"total": min(total, COUNT_LIMIT), "more": total > COUNT_LIMIT, "sites": shown})


@require_GET
@data_login_required
def area_layer(request):
    """The chosen area, the way up to it, and its children coloured by protected share."""
    area = _area_or_root(request)
    # The current state only (the summary kept by triggers): not the report's previous
    # period, which a past date makes a national computation of seconds.
    counts = by_child(area, half_year_containing(timezone.localdate()))
    total = {key: sum(row[key] for row in counts.values()) for key in ("counting", "protected")}

    def numbers(row) -> dict:
        """The share as the reports round and write it (half up, the page's language):
        the map says what the report says."""
        counting = row["counting"] if row else 0
        protected = share(row["protected"], counting) if row else None
        return {
            "counting": counting,
            "counting_text": format_number(counting),
            "protected": None if protected is None else float(protected),
            "protected_text": format_percent(protected),
        }

    visible = scope_for(request.user).restrict(Area.objects.all(), VIEW)
    crumbs = [] if area.pk is None else list(visible.filter(code__in=area.path.strip("/").split("/")).order_by("depth"))

    def properties(child):
        return numbers(counts.get(child.code))

    children = areas_geojson(
        visible.filter(parent_id=area.pk) if area.pk else visible.filter(parent__isnull=True),
        tolerance_deg=0.0005,
        properties=properties,
    )
    own = visible.filter(pk=area.pk) if area.pk else Area.objects.none()
    extent = own.first().geom.extent if area.pk else None
    return JsonResponse(
        {
            "area": {"code": area.code, "name": area.name, "bounds": extent},
            "crumbs": [{"code": a.code, "name": a.name} for a in crumbs],
            "national": scope_for(request.user).everything,
            "total": numbers(total),
            "children": children,
            "outline": areas_geojson(own, tolerance_deg=0.0002),
        }
    )


@login_required
@require_GET
def site_panel(request, pk):
    site = selectors.site_with_due(request.user, pk)
    if site is None:
        raise Http404
    try:
        scope_for(request.user).require_record(EDIT, site)
        may_edit = True
    except OutOfScope:
        may_edit = False
    context = {
        "site": site,
        "state": site.state,
        "state_labels": STATE_LABELS,
        "due": site.due,
        "inspections": selectors.site_history(site)[:50],
        "can_edit": may_edit and request.user.is_staff,
        # Managers close and reopen from the panel (through the REST API, hazards/lifecycle_api.py).
        "life_form": (ReopenForm() if site.closed_at else CloseForm()) if may_edit else None,
        "orders": site_orders(site),
        "may_open_order": may_open_order(request.user, site),
    }
    return render(request, "mapping/_site_panel.html", context)


@require_GET
@data_login_required
def priority_list(request):
    rows = list(priority.priority_rows(request, limit=PRIORITY_SHOWN))
    for row in rows:
        row["id"] = str(row["id"])
        row["kind"] = SiteKind(row["kind"]).label
    return JsonResponse({"total": priority.count(request), "sites": rows})


@require_GET
@data_login_required
def priority_file(request):
    response = StreamingHttpResponse(
        csv_stream(priority.priority_rows(request), priority.COLUMNS), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="priority-sites.csv"'
    return response

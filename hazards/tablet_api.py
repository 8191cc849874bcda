"""The tablet sync API and the data the survey app caches for offline work.
Thin: parsing in serializers, rules in services, idempotency in sync."""

import hashlib
import json

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.middleware.gzip import GZipMiddleware
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FileUploadParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scope import SURVEY, scope_for
from areas.models import Area
from areas.selectors import areas_geojson
from common.errors import error_body, error_responses

from . import selectors, sync
from .photos import too_large
from .serializers import BatchIn, InspectionIn, OutcomeOut, SiteIn
from .sync_parser import SyncJSONParser


def respond(outcome: sync.Outcome) -> Response:
    headers = {"Idempotent-Replay": "true"} if outcome.replay else {}
    return Response(outcome.body, status=outcome.status, headers=headers)


DEVICE_TIME = OpenApiParameter(
    "X-Device-Time",
    str,
    OpenApiParameter.HEADER,
    description=(
        "the tablet's clock when it sent the request (ISO 8601 with its zone); the server measures the tablet's "
        "clock offset from it and applies it to the inspection times of the request"
    ),
)


class SyncView(APIView):
    """A sync endpoint: reads JSON so that one bad record cannot spoil others, and
    refuses a request it cannot read with a reason."""

    parser_classes = [SyncJSONParser]

    def handle_exception(self, exc):
        if isinstance(exc, ValidationError):
            return respond(sync.invalid(exc))
        return super().handle_exception(exc)

    def body(self, request):
        """The JSON the request carried; None when it carried nothing."""
        data = request.data
        return None if request.stream is None else data

    def clock_offset(self, request):
        """The device's clock offset, measured as the request arrives."""
        return sync.clock_offset(request.headers.get("X-Device-Time"), timezone.now())


class SyncSiteView(SyncView):
    """Register a site (with its first inspection) made on a tablet."""

    @extend_schema(
        request=SiteIn, responses={201: dict, **error_responses(400, 404, 409, 410)}, parameters=[DEVICE_TIME]
    )
    def post(self, request):
        offset = self.clock_offset(request)
        return respond(sync.receive_site(actor=request.user, record=self.body(request), clock_offset=offset))


class SyncInspectionView(SyncView):
    """Record an inspection of a known site."""

    @extend_schema(
        request=InspectionIn,
        responses={201: dict, **error_responses(400, 404, 409, 410)},
        parameters=[DEVICE_TIME],
    )
    def post(self, request):
        offset = self.clock_offset(request)
        return respond(sync.receive_inspection(actor=request.user, record=self.body(request), clock_offset=offset))


class SyncBatchView(SyncView):
    """Send a whole outbox: sites first, then inspections; one outcome per record, in
    the order sent, each stored or refused on its own."""

    @extend_schema(
        request=BatchIn,
        responses={200: inline_serializer("BatchOut", {"results": OutcomeOut(many=True)}), **error_responses(400)},
        parameters=[DEVICE_TIME],
    )
    def post(self, request):
        offset = self.clock_offset(request)
        return Response(
            {"results": sync.receive_batch(actor=request.user, body=self.body(request), clock_offset=offset)}
        )


class PhotoUploadView(APIView):
    """Upload one photo of an inspection as the raw request body. Safe to retry."""

    parser_classes = [FileUploadParser]

    @extend_schema(
        request={"image/jpeg": bytes, "image/png": bytes, "image/webp": bytes},
        parameters=[OpenApiParameter("inspection", str, OpenApiParameter.QUERY, required=True)],
        responses={201: dict, **error_responses(400, 404, 409, 413)},
    )
    def put(self, request, photo_id):
        # Refused before the body is read.
        refusal = too_large(int(request.META.get("CONTENT_LENGTH") or 0))
        if refusal:
            return Response(
                error_body(refusal.code, " ".join(refusal.messages)), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
            )
        inspection_id = serializers.UUIDField().run_validation(request.query_params.get("inspection"))
        upload = request.data.get("file")
        data = upload.read() if upload else b""
        if not data:
            return Response(error_body("empty", _("The photo is empty.")), status=status.HTTP_400_BAD_REQUEST)
        return respond(
            sync.receive_photo(actor=request.user, photo_id=photo_id, inspection_id=inspection_id, data=data)
        )


class SurveyMeView(APIView):
    """Who is signed in and where they may survey."""

    @extend_schema(responses={200: dict})
    def get(self, request):
        user = request.user
        tops = list(scope_for(user).root_areas(SURVEY))
        return Response(
            {
                "username": user.username,
                "name": user.get_full_name() or user.username,
                "areas": [{"code": a.code, "name": a.name} for a in tops],
                "can_survey": bool(tops),
            }
        )


def tablet_data(request, body: bytes, etag: str, cache_control: dict | None = None) -> HttpResponse:
    """JSON a tablet keeps for offline work. Its ETag names the content, so a tablet that
    has it gets 304 and no body (If-None-Match; by default revalidated on every use); it
    travels gzip-compressed to a client that accepts it."""
    etag = f'"{etag}"'
    response = get_conditional_response(request, etag=etag) or HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    patch_cache_control(response, **(cache_control or {"private": True, "no_cache": True}))
    return GZipMiddleware(lambda _request: response).process_response(request, response)


def tablet_json(request, data) -> HttpResponse:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return tablet_data(request, body, hashlib.sha256(body).hexdigest()[:32])


class TabletDataView(APIView):
    # One renderer: with several, DRF would replace the Vary header that gzip sets.
    renderer_classes = [JSONRenderer]


class SurveyAreasView(TabletDataView):
    """Boundaries of the areas the user surveys, simplified (about 10 m) for the tablet."""

    @extend_schema(responses={200: dict, 304: None})
    def get(self, request):
        areas = scope_for(request.user).restrict(Area.objects.all(), SURVEY).order_by("path")
        return tablet_json(request, areas_geojson(areas))


SITE_DETAILS = inline_serializer(
    "SurveySiteDetails",
    {
        "code": serializers.ListField(child=serializers.CharField()),
        "name": serializers.ListField(child=serializers.CharField()),
        "kind": serializers.ListField(child=serializers.CharField()),
        "checked": serializers.ListField(child=serializers.DateField(allow_null=True)),
        "first": serializers.ListField(child=serializers.IntegerField()),
        "order_state": serializers.ListField(child=serializers.CharField(allow_null=True)),
        "order_deadline": serializers.ListField(child=serializers.DateField(allow_null=True)),
    },
)


class SurveySitesView(TabletDataView):
    """The open sites the user surveys, first part: all the tablet needs to draw its map
    and its due list, small enough for a slow network. Per site, in one order: `x` and
    `y` (integers of 1/`scale` degree, each the difference to the previous site's: add them
    up), `signage` and `barrier` (one digit per site, an index into `signage_values` and
    `barrier_values`), `due` (one digit, 1: its state is unverified or it goes first); and
    `due_sites`, the code, name, kind, checked (the day of the last check, Vietnam time, or
    null), first (what goes first in the due list: 2 an order awaiting verification, 1 a
    campaign site, else 0), order_state and order_deadline (of the site's order not yet
    verified, or null) of the due sites in their order. The ids and the other sites' details follow from
    /api/v1/survey/sites/rest/?version=<ETag>. ETag: the version of both parts (send
    If-None-Match to get 304 while nothing changed); gzip-compressed."""

    @extend_schema(
        responses={
            200: inline_serializer(
                "SurveySites",
                {
                    "format": serializers.IntegerField(),
                    "count": serializers.IntegerField(),
                    "scale": serializers.IntegerField(),
                    "signage_values": serializers.ListField(child=serializers.CharField()),
                    "barrier_values": serializers.ListField(child=serializers.CharField()),
                    "x": serializers.ListField(child=serializers.IntegerField()),
                    "y": serializers.ListField(child=serializers.IntegerField()),
                    "signage": serializers.CharField(),
                    "barrier": serializers.CharField(),
                    "due": serializers.CharField(),
                    "due_sites": SITE_DETAILS,
                },
            ),
            304: None,
        }
    )
    def get(self, request):
        sites = selectors.survey_site_list_first(request.user, timezone.now())
        return tablet_data(request, sites.first, sites.version)


class SurveySitesRestView(TabletDataView):
    """The open sites the user surveys, second part, for the first part of `version` (its
    ETag): `id`, every site's id in the first part's order, and `other_sites`, the code,
    name, kind, checked, first, order_state and order_deadline of the sites that are not
    due, in order. A version is never
    answered otherwise, so the tablet may keep the answer: as kept with its first part
    (selectors.survey_site_list_rest), else made again. 412 with `"code": "list_changed"`
    when the list is no longer that version: fetch the first part again."""

    @extend_schema(
        parameters=[OpenApiParameter("version", str, required=True)],
        responses={
            200: inline_serializer(
                "SurveySitesRest",
                {
                    "format": serializers.IntegerField(),
                    "id": serializers.ListField(child=serializers.UUIDField()),
                    "other_sites": SITE_DETAILS,
                },
            ),
            304: None,
            **error_responses(412),
        },
    )
    def get(self, request):
        version = request.GET.get("version", "")
        rest = selectors.survey_site_list_rest(request.user, version, timezone.now())
        if rest is None:
            detail = _("The list of sites changed while it was being fetched: fetch it again.")
            return Response(error_body("list_changed", detail), status=status.HTTP_412_PRECONDITION_FAILED)
        forever = {"private": True, "max_age": 7 * 86400, "immutable": True}
        return tablet_data(request, rest, version, forever)


class SurveyProposalsView(TabletDataView):
    """The closure proposals the user made from a tablet, newest first (the latest
    PROPOSALS_SHOWN): the site (id, code, name), reason (and its label), note, observed_at, and the
    manager's decision: status (a ProposalStatus value), decided_at, decided_by
    (their name) and decision_note (why). ETag: send If-None-Match to get 304 while
    nothing changed; gzip-compressed."""

    @extend_schema(responses={200: dict, 304: None})
    def get(self, request):
        proposals = selectors.own_closure_proposals(request.user)[:PROPOSALS_SHOWN]
        return tablet_json(
            request,
            {
                "proposals": [
                    {
                        "id": str(p.id),
                        "site": str(p.site_id),
                        "site_code": p.site.code,
                        "site_name": p.site.name,
                        "reason": p.reason,
                        "reason_label": p.get_reason_display(),
                        "note": p.note,
                        "observed_at": p.observed_at.isoformat(),
                        "status": p.status,
                        "decided_at": p.decided_at.isoformat() if p.decided_at else None,
                        "decided_by": (p.decided_by.get_full_name() or p.decided_by.username) if p.decided_by else None,
                        "decision_note": p.decision_note,
                    }
                    for p in proposals
                ]
            },
        )


# A worker's proposals the tablet keeps: a season's worth.
PROPOSALS_SHOWN = 200

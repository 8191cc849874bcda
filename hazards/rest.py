"""The registry's REST API (/api/v1/): sites as GeoJSON with filters and pagination,
inspections, areas. Read-only here: writes go through the sync API and the services.
Every queryset passes the area scope."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from accounts.scope import VIEW, scope_for
from areas.models import Area
from common.errors import error_responses
from common.pagination import FeaturePages, Pages

from . import selectors
from .filters import STATE_LABELS, choice_param, chosen_site, filter_sites, within_area
from .models import Barrier, Inspection, Signage, Site, SiteKind
from .sync import not_in_areas


class SiteOut(GeoFeatureModelSerializer):
    area_code = serializers.CharField(source="area.code")
    area_name = serializers.CharField(source="area.name")
    protected = serializers.BooleanField(source="is_protected")
    due = serializers.BooleanField()

    class Meta:
        model = Site
        geo_field = "location"
        id_field = "id"
        fields = [
            "id", "code", "name", "kind", "area_code", "area_name", "deep_water", "depth_m", "signage", "barrier",
            "state", "protected", "due", "last_checked_at", "photo_evidence", "is_temporary", "expected_end",
            "active_from", "closed_at", "close_reason", "responsible_party", "outline",
        ]  # fmt: skip


class InspectionOut(serializers.ModelSerializer):
    inspector = serializers.CharField(source="inspector.username", default=None)
    # What people read (the survey's site history): the name, the sign-in name without one.
    inspector_name = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()

    class Meta:
        model = Inspection
        fields = [
            "id", "site", "inspected_at", "received_at", "observed_at", "clock_suspect", "inspector",
            "inspector_name", "signage", "barrier", "water_present", "water_depth_m", "notes", "gps_accuracy_m",
            "photos",
        ]  # fmt: skip

    def get_inspector_name(self, inspection) -> str | None:
        person = inspection.inspector
        return (person.get_full_name() or person.username) if person else None

    def get_photos(self, inspection) -> list[dict]:
        # The survey app's site sheet shows the thumbnails in the history.
        return [
            {"id": str(p.pk), "width": p.width, "height": p.height, "thumbnail": p.thumbnail.url}
            for p in inspection.photos.all()
        ]


class AreaOut(GeoFeatureModelSerializer):
    parent_code = serializers.CharField(source="parent.code", default=None)

    class Meta:
        model = Area
        geo_field = "geom"
        id_field = "code"
        fields = ["code", "name", "level", "unit_type", "parent_code", "depth"]


class SitePages(FeaturePages):
    page_size = 100
    max_page_size = 5000


SITE_FILTERS = [
    OpenApiParameter("bbox", str, description="min longitude, min latitude, max longitude, max latitude (WGS 84)"),
    OpenApiParameter("area", str, description="area code: sites in that area and below"),
    OpenApiParameter("kind", str, enum=SiteKind.values),
    OpenApiParameter("signage", str, enum=Signage.values),
    OpenApiParameter("barrier", str, enum=Barrier.values),
    OpenApiParameter("state", str, enum=list(STATE_LABELS)),
    OpenApiParameter("due", bool, description="true: state unverified, due for inspection"),
]


@extend_schema_view(list=extend_schema(parameters=SITE_FILTERS))
class SiteViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SiteOut
    pagination_class = SitePages

    def get_queryset(self):
        sites = selectors.sites_with_due(self.request.user)
        return filter_sites(sites, self.request) if self.action == "list" else sites

    @extend_schema(
        parameters=[OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
        responses={200: InspectionOut(many=True), **error_responses(404)},
    )
    @action(detail=True, serializer_class=InspectionOut, pagination_class=Pages)
    def inspections(self, request, pk=None):
        """The site's inspections, newest first: the survey's site sheet. A site outside
        the person's areas (one that has left them since the tablet listed it), or none, is
        not found, as the site itself is, with what a worker can do about it: not a refused
        parameter, as `/inspections/?site=` answers a filter it cannot apply."""
        site = selectors.sites(request.user).filter(pk=pk).first()
        if site is None:
            raise NotFound(not_in_areas(site=True))
        page = self.paginate_queryset(selectors.site_history(site))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema_view(list=extend_schema(parameters=[OpenApiParameter("site", str, description="site id")]))
class InspectionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = InspectionOut
    pagination_class = Pages

    def get_queryset(self):
        inspections = selectors.inspections(self.request.user)
        site = chosen_site(self.request) if self.action == "list" else None
        return inspections if site is None else inspections.filter(site_id=site)


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("area", str), OpenApiParameter("level", str, enum=Area.Level.values)]
    )
)
class AreaViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AreaOut
    pagination_class = type("AreaPages", (FeaturePages,), {"page_size": 50, "max_page_size": 500})
    lookup_field = "code"

    def get_queryset(self):
        areas = scope_for(self.request.user).restrict(Area.objects.select_related("parent").order_by("path"), VIEW)
        if self.action != "list":
            return areas
        areas = within_area(areas, self.request, "path")
        level = choice_param(self.request.query_params, "level", Area.Level.values)
        return areas.filter(level=level) if level else areas

"""Remediation orders and campaigns in the REST API (/api/v1/orders/, /api/v1/campaigns/):
read, with the site filters on the order's site plus the order's own, in the area scope;
a campaign is renamed or its window moved with PATCH (hazards.campaigns.campaign_update)."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from common.errors import error_responses
from common.pagination import Pages

from . import campaigns
from .filters import ORDER_LABELS, ORDER_PERIOD_LABELS
from .models_remediation import Campaign, RemediationOrder, Requirement
from .order_selectors import (
    BOARD_COLUMNS,
    campaign_board,
    campaigns_for,
    filter_orders,
    listed_page,
    order_rows,
    orders_for,
)
from .rest import SITE_FILTERS


class OrderOut(serializers.ModelSerializer):
    site_code = serializers.CharField(source="site.code")
    site_name = serializers.CharField(source="site.name")
    area_code = serializers.CharField(source="site.area.code")
    follow_up = serializers.CharField(source="follow_up.username", default=None)
    opened_by = serializers.CharField(source="opened_by.username", default=None)
    requirements = serializers.ListField(child=serializers.ChoiceField(choices=Requirement.choices))

    class Meta:
        model = RemediationOrder
        fields = [
            "id", "site", "site_code", "site_name", "area_code", "party_kind", "party_name", "party_phone",
            "party_address", "requirements", "details", "deadline", "follow_up", "state", "opened_at", "opened_by",
            "acknowledged_at", "done_at", "verified_at", "decided_by", "reopened_count", "notice_number",
            "notice_date",
        ]  # fmt: skip


class CampaignOut(serializers.ModelSerializer):
    area_code = serializers.CharField(source="area.code", default=None)
    area_name = serializers.CharField(source="area_label")

    class Meta:
        model = Campaign
        fields = ["id", "name", "area_code", "area_name", "starts_on", "ends_on", "created_at"]


class CampaignEdit(serializers.Serializer):
    """What a PATCH may change; a field left out stays."""

    name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False)


class OrderPages(Pages):
    """A page of orders: the list's ids and their count in one statement (listed_page),
    then that page's rows read; DRF's LimitOffsetPagination counts first, then pages."""

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is None:
            return None
        self.offset = self.get_offset(request)  # at most MAX_OFFSET: past any list, not a bigint overflow
        ids, self.count = listed_page(queryset, self.offset, self.limit)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        return order_rows(ids)


ORDER_FILTERS = [
    *SITE_FILTERS,
    OpenApiParameter("order", str, enum=list(ORDER_LABELS), description="an order state or a follow-up list"),
    OpenApiParameter("follow_up", str, description="user name of the follow-up person"),
    OpenApiParameter("site", str, description="site id"),
    OpenApiParameter("campaign", int, description="campaign id: the orders it brought (opened in its window)"),
    OpenApiParameter(
        "in_period",
        str,
        enum=list(ORDER_PERIOD_LABELS),
        description="a report's order list for the period from..to: opened, verified, or overdue in it",
    ),
    OpenApiParameter("from", str, description="the period's first day, YYYY-MM-DD (with in_period)"),
    OpenApiParameter("to", str, description="the period's last day, YYYY-MM-DD (with in_period)"),
    OpenApiParameter("directly", str, enum=["true"], description="with area: only orders of sites in that area itself"),
]


@extend_schema_view(list=extend_schema(parameters=ORDER_FILTERS))
class OrderViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OrderOut
    pagination_class = OrderPages

    def get_queryset(self):
        orders = orders_for(self.request.user)
        return filter_orders(orders, self.request) if self.action == "list" else orders


class CampaignViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CampaignOut
    pagination_class = Pages

    def get_queryset(self):
        return campaigns_for(self.request.user).order_by("-starts_on", "id")

    @extend_schema(request=CampaignEdit, responses={200: CampaignOut, **error_responses(400, 404)})
    def partial_update(self, request, pk=None):
        """Rename the campaign or move its window, in an area you manage (its sites are
        chosen again only when a window that has not opened moves its first day)."""
        parsed = CampaignEdit(data=request.data)
        if not parsed.is_valid():
            raise ValidationError({name: [str(e) for e in errors] for name, errors in parsed.errors.items()})
        campaign = self.get_object()
        campaigns.campaign_update(actor=request.user, campaign=campaign, **parsed.validated_data)
        return Response(CampaignOut(self.get_queryset().get(pk=campaign.pk)).data)

    @extend_schema(responses={200: dict})
    @action(detail=True)
    def board(self, request, pk=None):
        """Progress per commune: sites, checked, protected at the start and now, nobody
        assigned, orders opened and verified in the window."""
        rows, totals = campaign_board(self.get_object(), request.user)
        return Response(
            {
                "columns": BOARD_COLUMNS,
                "rows": [{"area_code": r.area.code, "area_name": r.area.name, "counts": r.counts} for r in rows],
                "total": totals,
            }
        )

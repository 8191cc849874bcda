"""The REST API of a site's life (/api/v1/): managers close, reopen and merge sites and
decide closure proposals; tablets propose closures (through sync, idempotent). Thin: the
rules are in hazards/lifecycle.py; errors come back in the one error shape
(common/errors.py, config/errors.py): 400 with messages per field, a site outside the
user's areas 404."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scope import EDIT, VIEW, OutOfScope, scope_for
from common.errors import error_responses

from . import lifecycle, selectors, sync, tablet_api
from .filters import choice_param
from .models import CloseReason, ClosureProposal, ProposalStatus, Site
from .rest import SiteOut
from .serializers import ClosureProposalIn, bounded_text


class CloseIn(serializers.Serializer):
    reason = serializers.ChoiceField(choices=CloseReason.choices)
    closed_at = serializers.DateField(required=False, allow_null=True, help_text="today unless given")
    duplicate_of = bounded_text(
        64, required=False, allow_blank=True, help_text="code or id of the site kept (reason duplicate)"
    )
    note = bounded_text(4000, required=False, allow_blank=True, default="")


class ReopenIn(serializers.Serializer):
    reopened_on = serializers.DateField(required=False, allow_null=True, help_text="today unless given")


class MergeIn(serializers.Serializer):
    into = bounded_text(64, help_text="code or id of the site kept")


class DecisionIn(serializers.Serializer):
    closed_at = serializers.DateField(required=False, allow_null=True, help_text="the day the site was seen")
    duplicate_of = bounded_text(64, required=False, allow_blank=True)
    note = bounded_text(4000, required=False, allow_blank=True, default="")


class ProposalOut(serializers.ModelSerializer):
    site_code = serializers.CharField(source="site.code")
    site_name = serializers.CharField(source="site.name")
    proposed_by = serializers.CharField(source="proposed_by.username", default=None)
    decided_by = serializers.CharField(source="decided_by.username", default=None)

    class Meta:
        model = ClosureProposal
        fields = [
            "id", "site", "site_code", "site_name", "reason", "note", "observed_at", "received_at", "proposed_by",
            "status", "decided_at", "decided_by", "decision_note",
        ]  # fmt: skip


def _parsed(serializer_class, request) -> dict:
    """The request's fields, or a 400 shaped like every other refusal (errors per field)."""
    parsed = serializer_class(data=request.data)
    if not parsed.is_valid():
        raise ValidationError({name: [str(e) for e in errors] for name, errors in parsed.errors.items()})
    return parsed.validated_data


def _site(request, pk) -> Site:
    site = selectors.sites(request.user).select_related("area").filter(pk=pk).first()
    if site is None:
        raise OutOfScope
    return site


def other_site(user, reference: str | None, field: str) -> Site | None:
    """The site a person names by its code (HZ-000123) or its id, within their areas."""
    reference = (reference or "").strip()
    if not reference:
        return None
    sites = selectors.sites(user)
    try:
        site = sites.filter(pk=serializers.UUIDField().to_internal_value(reference)).first()
    except serializers.ValidationError:
        site = sites.filter(code=reference.upper()).first()
    if site is None:
        raise ValidationError({field: _("No site %(ref)s in your areas.") % {"ref": reference}})
    return site


def _site_out(user, site: Site) -> dict:
    # A site closed as a duplicate is merged away (deleted): the answer still describes it.
    return SiteOut(selectors.site_with_due(user, site.pk, deleted=True)).data


class SiteCloseView(APIView):
    """Close a site from a day on (managers). Reason "duplicate" merges it into the site named."""

    @extend_schema(request=CloseIn, responses={200: SiteOut, **error_responses(400, 404)})
    def post(self, request, pk):
        site = _site(request, pk)
        data = _parsed(CloseIn, request)
        site = lifecycle.site_close(
            actor=request.user,
            site=site,
            reason=data["reason"],
            closed_at=data.get("closed_at"),
            duplicate_of=other_site(request.user, data.get("duplicate_of"), "duplicate_of"),
            note=data["note"],
        )
        return Response(_site_out(request.user, site))


class SiteReopenView(APIView):
    """Reopen a closed site from a day on (managers); the days since its closure stay closed."""

    @extend_schema(request=ReopenIn, responses={200: SiteOut, **error_responses(400, 404)})
    def post(self, request, pk):
        site = _site(request, pk)
        data = _parsed(ReopenIn, request)
        site = lifecycle.site_reopen(actor=request.user, site=site, reopened_on=data.get("reopened_on"))
        return Response(_site_out(request.user, site))


class SiteMergeView(APIView):
    """Merge this site, a duplicate, into another (managers of both): its inspections and
    photos move there and it leaves every period. An administrator can undo it."""

    @extend_schema(request=MergeIn, responses={200: SiteOut, **error_responses(400, 404)})
    def post(self, request, pk):
        duplicate = _site(request, pk)
        kept = other_site(request.user, _parsed(MergeIn, request)["into"], "into")
        lifecycle.site_merge(actor=request.user, duplicate=duplicate, kept=kept)
        return Response(_site_out(request.user, kept))


class ClosureProposalListView(APIView):
    """Closure proposals in the user's areas, newest first (status=pending for those waiting)."""

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=ProposalStatus.values)],
        responses={200: ProposalOut(many=True)},
    )
    def get(self, request):
        proposals = scope_for(request.user).restrict(
            ClosureProposal.objects.select_related("site", "proposed_by", "decided_by").filter(
                site__deleted_at__isnull=True
            ),
            VIEW,
        )
        status = choice_param(request.query_params, "status", ProposalStatus.values)
        if status:
            proposals = proposals.filter(status=status)
        return Response(ProposalOut(proposals[:500], many=True).data)


def _proposal(request, pk) -> ClosureProposal:
    proposal = (
        scope_for(request.user)
        .restrict(ClosureProposal.objects.select_related("site"), EDIT)
        .filter(pk=pk, site__deleted_at__isnull=True)
        .first()
    )
    if proposal is None:
        raise OutOfScope
    return proposal


class ClosureConfirmView(APIView):
    """Confirm a proposal: the site closes on the day the worker saw it (or the day given)."""

    @extend_schema(request=DecisionIn, responses={200: ProposalOut, **error_responses(400, 404)})
    def post(self, request, pk):
        proposal = _proposal(request, pk)
        data = _parsed(DecisionIn, request)
        proposal = lifecycle.closure_confirm(
            actor=request.user,
            proposal=proposal,
            closed_at=data.get("closed_at"),
            duplicate_of=other_site(request.user, data.get("duplicate_of"), "duplicate_of"),
            note=data["note"],
        )
        return Response(ProposalOut(proposal).data)


class ClosureDeclineView(APIView):
    """Decline a proposal, saying why the site stays open."""

    @extend_schema(request=DecisionIn, responses={200: ProposalOut, **error_responses(400, 404)})
    def post(self, request, pk):
        proposal = _proposal(request, pk)
        data = _parsed(DecisionIn, request)
        proposal = lifecycle.closure_decline(actor=request.user, proposal=proposal, note=data["note"])
        return Response(ProposalOut(proposal).data)


class SyncClosureView(tablet_api.SyncView):
    """A tablet proposes to close a site (field workers). Idempotent like every sync record."""

    @extend_schema(
        request=ClosureProposalIn,
        responses={201: dict, **error_responses(400, 404, 409, 410)},
        parameters=[tablet_api.DEVICE_TIME],
    )
    def post(self, request):
        offset = self.clock_offset(request)
        outcome = sync.receive_closure_proposal(actor=request.user, record=self.body(request), clock_offset=offset)
        return tablet_api.respond(outcome)

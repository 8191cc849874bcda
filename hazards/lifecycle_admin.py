"""The site page's lifecycle actions (close, reopen, merge), closure proposals waiting for
a manager, and the merges an administrator can undo. Every write goes through
hazards/lifecycle.py; every record through the area scope."""

import copy

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.scope import ADMINISTER, EDIT, OutOfScope, scope_for
from accounts.scoped_admin import ReadByRequest, ScopedAdminMixin
from common.forms import add_refusal

from . import lifecycle, selectors
from .lifecycle_api import other_site
from .lifecycle_forms import CloseForm, DecisionForm, MergeForm, ReopenForm
from .models import ClosureProposal, Inspection, ProposalStatus, Site, SiteMerge


class SiteLifecycleAdminMixin:
    """Adds Close, Reopen and Merge pages to the site's admin page."""

    ACTIONS = {
        "close": (CloseForm, gettext_lazy("Close the site")),
        "reopen": (ReopenForm, gettext_lazy("Reopen the site")),
        "merge": (MergeForm, gettext_lazy("Merge this duplicate into another site")),
    }

    def get_urls(self):
        own = [
            path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(self._lifecycle_view),
                {"action": name},
                name=f"hazards_site_{name}",
            )
            for name in self.ACTIONS
        ]
        return own + super().get_urls()

    def _perform(self, action: str, request, site: Site, data: dict) -> Site:
        user = request.user
        if action == "close":
            duplicate_of = other_site(user, data["duplicate_of"], "duplicate_of")
            kwargs = {"reason": data["reason"], "closed_at": data["closed_at"], "note": data["note"]}
            return lifecycle.site_close(actor=user, site=site, duplicate_of=duplicate_of, **kwargs)
        if action == "reopen":
            return lifecycle.site_reopen(actor=user, site=site, reopened_on=data["reopened_on"])
        kept = other_site(user, data["into"], "into")
        lifecycle.site_merge(actor=user, duplicate=site, kept=kept)
        return kept

    def _lifecycle_view(self, request, object_id, action):
        site = self.get_object(request, object_id)
        if not self.has_change_permission(request, site):
            raise Http404
        form_class, title = self.ACTIONS[action]
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                shown = self._perform(action, request, site, form.cleaned_data)
            except ValidationError as exc:
                add_refusal(form, exc)
            except OutOfScope:
                form.add_error(None, _("You cannot change one of these sites."))
            else:
                messages.success(request, _("Done: %(title)s (%(code)s).") % {"title": title, "code": site.code})
                return HttpResponseRedirect(reverse("admin:hazards_site_change", args=[shown.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": site,
            "title": f"{title}: {site}",
            "form": form,
            "action": action,
        }
        # A refused action is answered 400 with its reasons on the form, as the registry's pages are.
        status = 400 if request.method == "POST" else 200
        return TemplateResponse(request, "admin/hazards/site/lifecycle_form.html", context, status=status)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        site = self.get_object(request, object_id)
        extra = {
            "can_change_life": site is not None and not site.deleted_at and self.has_change_permission(request, site),
            "pending_proposals": ClosureProposal.objects.filter(site=site, status=ProposalStatus.PENDING)
            if site
            else [],
        }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})


@admin.register(ClosureProposal)
class ClosureProposalAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Proposals from field workers to close a site; a manager of the site's area decides."""

    add_verb = None
    change_verb = EDIT
    delete_verb = None
    list_display = ["site", "reason", "observed_at", "proposed_by", "status", "decided_by"]
    list_filter = ["status", "reason"]
    search_fields = ["site__code", "site__name", "proposed_by__username"]
    list_select_related = ["site", "proposed_by", "decided_by"]
    readonly_fields = [
        "site", "reason", "note", "observed_at", "received_at", "proposed_by", "status", "decided_at", "decided_by",
        "decision_note",
    ]  # fmt: skip
    fields = readonly_fields
    change_form_template = "admin/hazards/closureproposal/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(site__deleted_at__isnull=True)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        proposal = self.get_object(request, object_id)
        decidable = proposal.status == ProposalStatus.PENDING and self.has_change_permission(request, proposal)
        form = DecisionForm(request.POST or None) if decidable else None
        if form is not None and request.method == "POST" and "decision" in request.POST and form.is_valid():
            data = form.cleaned_data
            try:
                if data["decision"] == "confirm":
                    lifecycle.closure_confirm(
                        actor=request.user,
                        proposal=proposal,
                        closed_at=data["closed_at"],
                        duplicate_of=other_site(request.user, data["duplicate_of"], "duplicate_of"),
                        note=data["note"],
                    )
                else:
                    lifecycle.closure_decline(actor=request.user, proposal=proposal, note=data["note"])
            except ValidationError as exc:
                add_refusal(form, exc)
            except OutOfScope:
                form.add_error(None, _("You cannot change one of these sites."))
            else:
                messages.success(request, _("The proposal for %(code)s was decided.") % {"code": proposal.site.code})
                return HttpResponseRedirect(reverse("admin:hazards_closureproposal_changelist"))
        context = {"decision_form": form, **(extra_context or {})}
        if request.method == "POST":
            # A refused decision: the page again with the reasons. Passed on as a POST, the
            # admin would save the proposal's read-only fields and redirect as if done.
            shown = copy.copy(request)
            shown.method = "GET"
            response = super().change_view(shown, object_id, form_url, context)
            response.status_code = 400
            return response
        return super().change_view(request, object_id, form_url, context)


@admin.register(SiteMerge)
class SiteMergeAdmin(ReadByRequest, ScopedAdminMixin, admin.ModelAdmin):
    """Every merge of a duplicate, with who did it; administrators undo them. A merge is
    the kept site's area's, and the duplicate may be of another area: each site, and each
    inspection moved, is named only to who may see it now (audit_text.Reader), as the
    audit trail names them."""

    add_verb = change_verb = delete_verb = None
    # Each opened by its moment, which names it (SiteMerge.__str__), not by the duplicate.
    list_display = ["merged_at", "duplicate_shown", "kept_shown", "merged_by", "reversed_at", "reversed_by"]
    list_select_related = ["merged_by", "reversed_by"]
    search_fields = ["kept__code", "duplicate__code"]
    actions = ["undo_merges"]
    readonly_fields = [
        "kept_shown", "duplicate_shown", "merged_at", "merged_by", "inspections_moved", "reversed_at", "reversed_by"
    ]  # fmt: skip
    fields = readonly_fields

    @admin.display(description=SiteMerge._meta.get_field("duplicate").verbose_name)
    def duplicate_shown(self, merge):
        return merge.read_by.name(Site, merge.duplicate_id)

    @admin.display(description=SiteMerge._meta.get_field("kept").verbose_name)
    def kept_shown(self, merge):
        return merge.read_by.name(Site, merge.kept_id)

    @admin.display(description=SiteMerge._meta.get_field("inspections").verbose_name)
    def inspections_moved(self, merge):
        """The inspections moved by their site and time, not their keys (UUIDs), in the
        order they were made; undone, they are the duplicate's again."""
        moved = sorted(selectors.stored_inspections(merge.inspections).values(), key=lambda i: i.observed_at)
        return ", ".join(merge.read_by.names(Inspection, [i.pk for i in moved])) or self.get_empty_value_display()

    @admin.action(description=gettext_lazy("Undo the selected merges"))
    def undo_merges(self, request, queryset):
        for merge in queryset.filter(reversed_at__isnull=True):
            try:
                lifecycle.merge_undo(actor=request.user, merge=merge)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            except OutOfScope:
                # Named by its moment: the duplicate may be of an area the person may not see.
                self.message_user(request, _("You cannot undo the merge made at %(at)s.") % {"at": merge})
            else:
                self.message_user(request, _("Merge of %(code)s undone.") % {"code": merge.duplicate.code})

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not scope_for(request.user).holds(ADMINISTER):
            actions.pop("undo_merges", None)
        return actions

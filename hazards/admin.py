import json

from django import forms
from django.contrib import admin
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from procrastinate.contrib.django.admin import ProcrastinateJobAdmin
from procrastinate.contrib.django.models import ProcrastinateJob

from accounts import audit_text
from accounts.audit import audit_of_site
from accounts.scope import ADMINISTER, EDIT, SURVEY, OutOfScope, scope_for
from accounts.scoped_admin import CheckedChangeList, ReadByRequest, ScopedAdminMixin, ServiceForm, service_admin_form
from areas.models import Area
from common.admin_maps import MapAdminMixin
from common.forms import DecimalMeasureField, FloatMeasureField
from common.numbers import format_number

from . import selectors, services
from .lifecycle_admin import SiteLifecycleAdminMixin
from .models import Inspection, Photo, Site
from .order_selectors import site_orders
from .orders import needs_order
from .rules import Due, SiteState


class AreaListFilter(admin.SimpleListFilter):
    """Filter by any area with sub-areas in the user's scope (its whole subtree)."""

    title = _("area")
    parameter_name = "within"

    def lookups(self, request, model_admin):
        areas = scope_for(request.user).restrict(Area.objects.filter(children__isnull=False).distinct())
        return [(a.code, "\u2003" * a.depth + str(a)) for a in areas.order_by("path")[:300]]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        area = Area.objects.filter(code=self.value()).first()
        return queryset.filter(area__path__startswith=area.path) if area else queryset.none()


class ProtectionFilter(admin.SimpleListFilter):
    title = _("protection")
    parameter_name = "protection"

    def lookups(self, request, model_admin):
        return [
            *SiteState.choices,
            ("due", _("Due for inspection (state unverified)")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value in SiteState.values:
            return queryset.filter(state=value)
        if value == "due":
            return queryset.filter(Due(timezone.now()))
        return queryset


class DeletedFilter(admin.SimpleListFilter):
    """Deleted sites stay out of sight unless an administrator asks for them (to restore)."""

    title = _("deleted")
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("yes", _("Deleted sites"))]

    def queryset(self, request, queryset):
        return queryset.filter(deleted_at__isnull=self.value() != "yes")


class SiteForm(ServiceForm, forms.ModelForm):
    out_of_scope_message = _("You cannot change this site.")
    effective_from = forms.DateField(
        label=_("Changes take effect on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_(
            "For a new location in another area, deep water or temporary: the day the change takes effect. "
            "Reports of earlier days keep the earlier details. Empty: today; the day the current details "
            "took effect: a correction of them."
        ),
    )

    class Meta:
        model = Site
        fields = list(services.EDITABLE_FIELDS)
        field_classes = {"depth_m": DecimalMeasureField}

    def call_service(self, data):
        data = dict(data)
        effective_from = data.pop("effective_from", None)
        if not self.instance._state.adding:
            changes = {f: data[f] for f in self.changed_data if f in services.EDITABLE_FIELDS}
            return services.site_update(
                actor=self.request.user, site=self.instance, effective_from=effective_from, **changes
            )
        return services.site_register(actor=self.request.user, **data)


class SoftDeleteAdminMixin:
    """Deleting is soft (services.site_delete, services.inspection_delete): the record's
    inspections and photos are hidden with it, not removed, so none of them protects it."""

    def get_deleted_objects(self, objs, request):
        objs = list(objs)
        return [str(obj) for obj in objs], {self.model._meta.verbose_name_plural: len(objs)}, set(), []


class InspectionHistory(admin.TabularInline):
    model = Inspection
    extra = 0
    can_delete = False
    ordering = ["-observed_at"]
    fields = [
        "observed_at",
        "inspector",
        "signage",
        "barrier",
        "water_present",
        "water_depth_m",
        "clock_suspect",
        "notes",
    ]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Site)
class SiteAdmin(
    SiteLifecycleAdminMixin, SoftDeleteAdminMixin, ReadByRequest, ScopedAdminMixin, MapAdminMixin, admin.ModelAdmin
):
    form = SiteForm
    add_verb = SURVEY
    delete_verb = EDIT
    actions = ["restore_sites"]
    list_display = ["code", "name", "kind", "area", "signage", "barrier", "protected", "last_checked_at", "closed_at"]
    list_filter = [
        AreaListFilter,
        ProtectionFilter,
        "kind",
        "signage",
        "barrier",
        "deep_water",
        "is_temporary",
        DeletedFilter,
    ]
    search_fields = ["code", "name", "area__name", "area__code", "responsible_party"]
    list_select_related = ["area"]
    readonly_fields = [
        "code",
        "area",
        "signage",
        "barrier",
        "last_checked_at",
        "closed_at",
        "close_reason",
        "close_note",
        "duplicate_of_shown",
        "remediation",
        "history",
    ]
    inlines = [InspectionHistory]
    list_per_page = 100
    change_list_template = "admin/hazards/site/change_list.html"
    settings_overrides = {"DEFAULT_CENTER": (22.1, 105.8), "DEFAULT_ZOOM": 10}

    def get_form(self, request, obj=None, **kwargs):
        return service_admin_form(super().get_form(request, obj, **kwargs), request)

    @admin.display(boolean=True, description=_("protected"))
    def protected(self, site):
        return site.is_protected

    def get_queryset(self, request):
        # Administrators also get the deleted sites of their areas, shown only through the
        # "deleted" filter.
        return selectors.sites_and_restorable(request.user).select_related("area")

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if obj else [f for f in fields if f not in ("history", "effective_from", "remediation")]

    @admin.display(description=_("duplicate of"))
    def duplicate_of_shown(self, site):
        """The site it duplicates by code and name, to who may see that site now: a merge
        may have kept one of another district (as its history names it, audit_text)."""
        if site.duplicate_of_id is None:
            return self.get_empty_value_display()
        return site.read_by.name(Site, site.duplicate_of_id)

    @admin.display(description=_("remediation orders"))
    def remediation(self, site):
        """The site's orders, and a link to open one where it may need one (the order page
        checks the scope again)."""
        context = {"orders": site_orders(site), "site": site, "may_open": needs_order(site)}
        return render_to_string("admin/hazards/site/orders.html", context)

    @admin.display(description=_("change history"))
    def history(self, site):
        entries = [
            {
                "at": entry.at,
                "actor": entry.actor,
                "what": audit_text.what(entry),
                "imported": entry.pk == site.import_entry_id,
                "changes": entry.changes,
                "shown": audit_text.changes_of(entry, site.read_by),
            }
            for entry in audit_of_site(site)
        ]
        return render_to_string("admin/hazards/site/history.html", {"entries": entries, "site": site})

    def delete_model(self, request, obj):
        services.site_delete(actor=request.user, site=obj)

    def delete_queryset(self, request, queryset):
        for site in queryset:
            services.site_delete(actor=request.user, site=site)

    @admin.action(description=_("Restore the selected deleted sites"))
    def restore_sites(self, request, queryset):
        restored = 0
        for site in queryset.filter(deleted_at__isnull=False):
            try:
                services.site_restore(actor=request.user, site=site)
                restored += 1
            except OutOfScope:
                continue
        self.message_user(request, _("%(n)s site(s) restored.") % {"n": format_number(restored)})

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not scope_for(request.user).holds(ADMINISTER):
            actions.pop("restore_sites", None)
        return actions

    def get_list_filter(self, request):
        # The bin is for restoring, which only administrators do (get_actions).
        filters = super().get_list_filter(request)
        return filters if scope_for(request.user).holds(ADMINISTER) else [f for f in filters if f is not DeletedFilter]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            response.context_data["sites_geojson"] = _as_geojson(changelist.result_list)
            response.context_data["site_states"] = SiteState.choices
        return response


def _as_geojson(sites) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(site.location.geojson),
                "properties": {
                    "code": site.code,
                    "name": site.name,
                    "state": site.state,
                    "url": f"{site.pk}/change/",
                },
            }
            for site in sites
        ],
    }


class InspectionForm(ServiceForm, forms.ModelForm):
    out_of_scope_message = _("You cannot inspect this site.")

    class Meta:
        model = Inspection
        fields = [
            "site",
            "inspected_at",
            "signage",
            "barrier",
            "water_present",
            "water_depth_m",
            "notes",
            "gps_fix",
            "gps_accuracy_m",
        ]
        field_classes = {"water_depth_m": DecimalMeasureField, "gps_accuracy_m": FloatMeasureField}

    def call_service(self, data):
        return services.inspection_record(actor=self.request.user, **data)


class PhotoInline(admin.TabularInline):
    model = Photo
    extra = 0
    can_delete = False
    fields = ["preview", "width", "height", "sha256"]
    readonly_fields = fields

    @admin.display(description=_("photo"))
    def preview(self, photo):
        return format_html('<a href="{}"><img src="{}" alt="" height="80"></a>', photo.image.url, photo.thumbnail.url)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Inspection)
class InspectionAdmin(SoftDeleteAdminMixin, ScopedAdminMixin, MapAdminMixin, admin.ModelAdmin):
    """Append-only: inspections are added, never changed; a mistaken one is deleted softly."""

    form = InspectionForm
    add_verb = SURVEY
    change_verb = None
    delete_verb = EDIT
    list_display = ["site", "observed_at", "inspector", "signage", "barrier", "clock_suspect", "received_at"]
    list_filter = ["signage", "barrier", "clock_suspect"]
    search_fields = ["site__code", "site__name", "inspector__username"]
    list_select_related = ["site", "inspector"]
    autocomplete_fields = ["site"]
    date_hierarchy = "observed_at"
    inlines = [PhotoInline]

    def delete_model(self, request, obj):
        services.inspection_delete(actor=request.user, inspection=obj)

    def delete_queryset(self, request, queryset):
        for inspection in queryset:
            services.inspection_delete(actor=request.user, inspection=inspection)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "site" in form.base_fields:
            form.base_fields["site"].queryset = selectors.sites(request.user, SURVEY)
        return service_admin_form(form, request)


# The job queue's own pages (procrastinate's, for superusers), with the admin's filters
# checked like every other page's: a status outside its choices was a server error.
admin.site.unregister(ProcrastinateJob)


@admin.register(ProcrastinateJob)
class JobAdmin(ProcrastinateJobAdmin):
    def get_changelist(self, request, **kwargs):
        return CheckedChangeList

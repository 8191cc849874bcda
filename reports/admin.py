from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scope import MANAGE, scope_for
from accounts.scoped_admin import ScopedAdminMixin, ServiceForm, service_admin_form
from areas.models import Area
from common.forms import DecimalMeasureField

from . import services
from .models import Target


class TargetForm(ServiceForm, forms.ModelForm):
    out_of_scope_message = _("You cannot set targets for this area.")
    # Not named valid_from: the admin would copy it onto the target the service saved.
    in_force_from = forms.DateField(
        label=_("In force from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_(
            "Empty: today. The target of the same area and indicator in force that day ends the day before; "
            "reports of earlier periods keep the targets of their time."
        ),
    )

    class Meta:
        model = Target
        fields = ["area", "indicator", "value", "deadline"]
        field_classes = {"value": DecimalMeasureField}
        widgets = {"deadline": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def call_service(self, data):
        data = dict(data)
        return services.target_set(actor=self.request.user, valid_from=data.pop("in_force_from", None), **data)


class InForceFilter(admin.SimpleListFilter):
    title = _("in force")
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("today", _("In force today")), ("later", _("Set to start later")), ("past", _("Ended"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "today":
            return queryset.filter(valid_from__lte=today, valid_until__gte=today)
        if self.value() == "later":
            return queryset.filter(valid_from__gt=today)
        if self.value() == "past":
            return queryset.filter(valid_until__lt=today)
        return queryset


@admin.register(Target)
class TargetAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Managers set targets for their areas from a day on; an area without one in force
    follows the nearest area above it, and without any the directive's 100 %. Targets are
    never edited: each one set is kept, with the days it was in force (its history)."""

    form = TargetForm
    add_verb = delete_verb = MANAGE
    change_verb = None
    list_display = ["area", "indicator", "value", "deadline", "valid_from", "valid_until", "created_by", "created_at"]
    list_filter = [InForceFilter, "indicator"]
    search_fields = ["area__name", "area__code"]
    autocomplete_fields = ["area"]
    readonly_fields = ["valid_until", "created_by", "created_at"]

    def get_form(self, request, obj=None, **kwargs):
        return service_admin_form(super().get_form(request, obj, **kwargs), request)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["area", "indicator", "value", "deadline", "in_force_from"]
        return ["area", "indicator", "value", "deadline", "valid_from", "valid_until", "created_by", "created_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "area":
            kwargs["queryset"] = scope_for(request.user).restrict(Area.objects.all(), MANAGE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # Only a target not yet in force can go; one that was in force is history.
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.valid_from > timezone.localdate())

    def delete_model(self, request, obj):
        services.target_remove(actor=request.user, target=obj)

    def delete_queryset(self, request, queryset):
        for target in queryset:
            services.target_remove(actor=request.user, target=target)

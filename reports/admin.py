from django.contrib import admin

from accounts.scope import MANAGE, scope_for
from accounts.scoped_admin import ScopedAdminMixin
from areas.models import Area

from .models import Target


@admin.register(Target)
class TargetAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Managers set targets for their areas; an area without one follows the nearest area
    above it, and without any the directive's 100 %."""

    add_verb = change_verb = delete_verb = MANAGE
    list_display = ["area", "indicator", "value", "deadline", "updated_at"]
    list_filter = ["indicator", "deadline"]
    search_fields = ["area__name", "area__code"]
    autocomplete_fields = ["area"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "area":
            kwargs["queryset"] = scope_for(request.user).restrict(Area.objects.all(), MANAGE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

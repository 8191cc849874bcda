from django.contrib import admin
from leaflet.admin import LeafletGeoAdminMixin

from accounts.scoped_admin import ScopedAdminMixin

from .models import Area


@admin.register(Area)
class AreaAdmin(ScopedAdminMixin, LeafletGeoAdminMixin, admin.ModelAdmin):
    """Boundaries come from `load_areas`, so the admin shows them and does not edit them."""

    add_verb = None
    change_verb = None
    delete_verb = None
    modifiable = False
    list_display = ["code", "name", "level", "unit_type", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    readonly_fields = ["code", "name", "level", "unit_type", "parent", "path", "depth"]
    fields = [*readonly_fields, "geom"]

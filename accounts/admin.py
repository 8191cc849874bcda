from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry, Membership, User
from .scope import ADMINISTER
from .scoped_admin import ScopedAdminMixin


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["area"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Until area managers get their own account pages, only superusers manage accounts here."""

    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "email", "is_active", "is_staff", "areas"]
    fieldsets = (*BaseUserAdmin.fieldsets, (_("Contact"), {"fields": ["phone"]}))

    @admin.display(description=_("areas"))
    def areas(self, user):
        return ", ".join(f"{m.area.name} ({m.get_role_display()})" for m in user.memberships.select_related("area"))

    def has_module_permission(self, request):
        return request.user.is_superuser

    has_view_permission = has_add_permission = has_change_permission = has_delete_permission = (
        lambda self, request, obj=None: request.user.is_superuser
    )


@admin.register(AuditEntry)
class AuditEntryAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The audit page: administrators read every recorded change in their areas."""

    add_verb = change_verb = delete_verb = None
    list_display = ["at", "actor", "action", "table", "object_id", "summary"]
    list_filter = ["table", "action", ("at", admin.DateFieldListFilter)]
    search_fields = ["object_id", "actor__username"]
    list_select_related = ["actor"]
    date_hierarchy = "at"

    def has_module_permission(self, request):
        return super().has_module_permission(request) and self._holds(request, ADMINISTER)

    @admin.display(description=_("changes"))
    def summary(self, entry):
        return ", ".join(sorted(entry.changes))[:200]

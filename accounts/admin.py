from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Membership, User


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

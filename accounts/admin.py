from collections.abc import Iterable

import segno
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, SetUnusablePasswordMixin
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from areas.models import Area
from areas.selectors import path_trail
from common.admin_maps import MapAdminMixin
from common.navigation import links
from common.numbers import format_number
from common.text import clean_text

from . import audit_text
from .derived import AUDITED
from .lockout import account_lock
from .models import AuditEntry, DeviceToken, Membership, Role, User
from .pairing import CODE_MINUTES, TABLET_APP, pairing_start, shown
from .scope import ADMINISTER, MANAGE, manageable_users, mark_password_set, scope_for
from .scoped_admin import CheckedAutocomplete, NotFoundOutOfScope, ReadByRequest, ScopedAdminMixin
from .services import sign_in_unlock, user_deactivate
from .tokens import token_issue, token_revoke


def manages_accounts(request) -> bool:
    """Superusers and area managers or administrators may manage accounts (in their areas)."""
    return request.user.is_active and request.user.is_staff and scope_for(request.user).holds(MANAGE)


class AccountManagementPermissions:
    def has_module_permission(self, request):
        return manages_accounts(request)

    def has_view_permission(self, request, obj=None):
        return manages_accounts(request)

    def has_add_permission(self, request):
        return manages_accounts(request)


class MembershipForm(forms.ModelForm):
    """A role over an area, checked together against what the grantor may give
    (accounts/scope.py: the same rule that decides whom they manage)."""

    grantor = None  # bound per request by MembershipInline

    class Meta:
        model = Membership
        fields = ["area", "role"]

    def clean(self):
        data = super().clean()
        area, role = data.get("area"), data.get("role")
        if area and role and not scope_for(self.grantor).may_grant(area, role):
            raise ValidationError(
                _(
                    "You cannot give the role “%(role)s” over %(area)s: only roles below your own in your "
                    "areas, or your own role in an area below yours."
                )
                % {"role": Role(role).label, "area": area}
            )
        return data


class MembershipInline(CheckedAutocomplete, admin.TabularInline):
    """Managers give roles only over areas they manage and below their own role (an
    administrator role only where they are administrators themselves)."""

    model = Membership
    form = MembershipForm
    extra = 0
    autocomplete_fields = ["area"]

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = type("MembershipForm", (MembershipForm,), {"grantor": request.user})
        # The admin shows min_num forms but checks it only when told: a manager who posted
        # none left a person nobody but a superuser could manage (pentest 5).
        kwargs["validate_min"] = True
        return super().get_formset(request, obj, **kwargs)

    def has_view_permission(self, request, obj=None):
        return manages_accounts(request)

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission

    def get_min_num(self, request, obj=None, **kwargs):
        # A person a manager creates must get a role in the manager's areas, or they would
        # vanish from the manager's list at once.
        return 0 if request.user.is_superuser else 1

    def get_queryset(self, request):
        return scope_for(request.user).restrict(super().get_queryset(request), MANAGE)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "area":
            kwargs["queryset"] = scope_for(request.user).restrict(Area.objects.all(), MANAGE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        field = super().formfield_for_choice_field(db_field, request, **kwargs)
        if db_field.name == "role":
            grantable = scope_for(request.user).grantable_roles()
            field.choices = [(value, label) for value, label in field.choices if not value or value in grantable]
        return field


class PasswordSetForm(AdminPasswordChangeForm):
    """Django's form for setting a person's password, its warning through gettext: Django
    adds "If disabled, the current password for this user will be lost." to the translated
    help text as a plain string, in English on the Vietnamese page."""

    usable_password_help_text = format_lazy(
        '{}<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li></ul>',
        SetUnusablePasswordMixin.usable_password_help_text,
        _("If disabled, the current password for this user will be lost."),
    )


@admin.register(User)
class UserAdmin(NotFoundOutOfScope, AccountManagementPermissions, BaseUserAdmin):
    """Account management: administrators everywhere, area managers for the people who
    work in their areas (create, set areas and roles, deactivate)."""

    inlines = [MembershipInline]
    change_password_form = PasswordSetForm
    list_display = ["username", "first_name", "last_name", "phone", "is_active", "is_staff", "areas", "sign_in"]
    list_filter = ["is_active", "is_staff", "memberships__role"]
    actions = ["deactivate", "unlock"]

    def get_queryset(self, request):
        # Only the people the user may manage (accounts/scope.py: can_manage_user).
        return manageable_users(request.user, super().get_queryset(request))

    def user_change_password(self, request, id, form_url=""):
        """One's own password is changed only on the page that asks the current one under
        the sign-in lockout: here it needed none, so a borrowed superuser session set a
        new password for good (pentest P4)."""
        person = self.get_object(request, unquote(id))  # None out of reach: refused below as before
        if person is not None and person.pk == request.user.pk:
            return HttpResponseRedirect(reverse("password-change"))
        response = super().user_change_password(request, id, form_url)
        if person is not None and request.method == "POST" and response.status_code == 302:  # the password was set
            mark_password_set(person, request.user)
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and obj.has_usable_password():  # made with a password the manager typed
            mark_password_set(obj, request.user)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        person = (_("Person"), {"fields": ["username", "password", "first_name", "last_name", "email", "phone"]})
        status = (_("Status"), {"fields": ["is_active", "is_staff"]})
        if request.user.is_superuser:
            return [person, status, (_("Permissions"), {"fields": ["is_superuser"]})]
        return [person, status]

    def has_change_permission(self, request, obj=None):
        return manages_accounts(request) and (obj is None or self.get_queryset(request).filter(pk=obj.pk).exists())

    def has_delete_permission(self, request, obj=None):
        # People are deactivated, not deleted: their names stay on inspections and in the audit.
        return False

    @admin.display(description=_("areas"))
    def areas(self, user):
        return ", ".join(f"{m.area.name} ({m.get_role_display()})" for m in user.memberships.select_related("area"))

    @admin.action(description=_("Deactivate the selected accounts"))
    def deactivate(self, request, queryset):
        # The list holds only people the user may manage; a superuser keeps their own account.
        people = list(queryset.exclude(pk=request.user.pk))
        for user in people:
            user_deactivate(actor=request.user, user=user)
        self.message_user(request, _("%(n)s account(s) deactivated.") % {"n": format_number(len(people))})

    @admin.display(description=_("sign-in"))
    def sign_in(self, user):
        lock = account_lock(user.get_username())
        if lock is None:
            return ""
        return _("locked until %(time)s") % {"time": formats.time_format(timezone.localtime(lock.until))}

    @admin.action(description=_("Unlock sign-in (after too many failed attempts)"))
    def unlock(self, request, queryset):
        # The list holds only people the user may manage.
        for user in queryset:
            sign_in_unlock(actor=request.user, user=user)
        self.message_user(request, _("Sign-in unlocked for %(n)s account(s).") % {"n": format_number(len(queryset))})


TABLET, CLIENT = "tablet", "client"


class DeviceTokenForm(forms.ModelForm):
    # A tablet is paired (it receives its own key, nobody copies it); a GIS client (QGIS)
    # cannot be, so its key is shown once, to be entered as its password.
    device = forms.ChoiceField(
        label=_("for"),
        choices=[(TABLET, _("a tablet: show a pairing code")), (CLIENT, _("a GIS client: show the key once"))],
        initial=TABLET,
        required=False,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = DeviceToken
        fields = ["user", "name"]

    def clean_name(self):
        try:
            return clean_text(self.cleaned_data["name"], "name", _("device"))
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None


@admin.register(DeviceToken)
class DeviceTokenAdmin(CheckedAutocomplete, NotFoundOutOfScope, AccountManagementPermissions, admin.ModelAdmin):
    """Device tokens: a tablet is paired here (a one-time code and its QR code; the tablet
    then gets its own key, accounts/pairing.py), a GIS client's key is shown once; keys
    are listed with their last use and revoked with one action."""

    form = DeviceTokenForm
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username", "prefix"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]

    def get_queryset(self, request):
        users = manageable_users(request.user, User.objects.all())
        return super().get_queryset(request).filter(user__in=users).select_related("user")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = manageable_users(request.user, User.objects.filter(is_active=True))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if form.cleaned_data.get("device") == CLIENT:
            token, key = token_issue(actor=request.user, user=obj.user, name=obj.name)
            obj.pk = token.pk
            messages.warning(
                request,
                _("Key for %(name)s: %(key)s — enter it in the GIS client now; it will not be shown again.")
                % {"name": token.name, "key": key},
            )
            return
        # No key is made for a tablet: a pairing code is, and the tablet gets its key with it.
        request.pairing = pairing_start(actor=request.user, user=obj.user, name=obj.name)

    def log_addition(self, request, obj, message):
        if obj.pk is not None:  # a pairing code is no token yet (the audit trail has both)
            super().log_addition(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is not None:
            return super().response_add(request, obj, post_url_continue)
        pairing, code = request.pairing
        app = links(TABLET_APP)
        link = request.build_absolute_uri(app[0].url) + f"#pair={shown(code)}" if app else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "pairing": pairing,
            "code": shown(code),
            "link": link,
            # segno draws it as SVG here: no image request, nothing from outside.
            "qr_svg": segno.make(link, error="m").svg_inline(scale=6, title=_("Pairing link")) if link else None,
            "minutes": CODE_MINUTES,
        }
        return TemplateResponse(request, "admin/accounts/devicetoken/pairing.html", context)

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset:
            token_revoke(actor=request.user, token=token)
        self.message_user(request, _("%(n)s token(s) revoked.") % {"n": format_number(queryset.count())})


class AuditValueFilter(admin.SimpleListFilter):
    """The values the trail records, offered under their names in the reader's language."""

    values: Iterable[str] = ()

    def lookups(self, request, model_admin):
        return sorted(((value, self.label(value)) for value in self.values), key=lambda choice: choice[1])

    def queryset(self, request, queryset):
        return queryset.filter(**{self.parameter_name: self.value()}) if self.value() else queryset


class RecordTypeFilter(AuditValueFilter):
    title = _("record type")
    parameter_name = "table"
    values = AUDITED  # read when the filter is shown: each app declares its tables in ready()
    label = staticmethod(audit_text.table_label)


class ActionFilter(AuditValueFilter):
    title = _("action")
    parameter_name = "action"
    values = list(audit_text.ACTIONS)
    label = staticmethod(audit_text.action_label)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadByRequest, ScopedAdminMixin, admin.ModelAdmin):
    """The audit page: administrators read every recorded change in the areas where they
    are administrators, under the names of the records and fields (accounts/audit_text.py),
    not the database's."""

    view_verb = ADMINISTER
    add_verb = change_verb = delete_verb = None
    list_display = ["at", "actor", "action_shown", "table_shown", "record_shown", "site_shown", "summary"]
    list_filter = [RecordTypeFilter, ActionFilter, ("at", admin.DateFieldListFilter)]
    search_fields = ["object_id", "actor__username"]
    list_select_related = ["actor"]
    date_hierarchy = "at"
    fields = ["at", "actor", "action_shown", "table_shown", "record_shown", "site_shown", "area_shown", "changes_shown"]
    readonly_fields = fields

    def get_queryset(self, request):
        """Each entry with its site's code, name and deletion as the reader may see the site,
        with the page's query; None where they may not (the entry's area was theirs when
        it was written, the site may have moved out of it since)."""
        seen = audit_text.readable_sites(request.user).filter(pk=OuterRef("site_id"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                site_code=Subquery(seen.values("code")[:1]),
                site_name=Subquery(seen.values("name")[:1]),
                site_deleted_at=Subquery(seen.values("deleted_at")[:1]),
            )
        )

    def _hidden_site(self, entry) -> bool:
        return entry.site_id is not None and entry.site_code is None

    @admin.display(description=_("record"))
    def record_shown(self, entry):
        """The record by its name, not its key (a UUID, an account's number); nothing of
        a record of a site the reader may not see, nor of one since removed or outside the
        reader's areas now."""
        if self._hidden_site(entry):
            return self.get_empty_value_display()
        if entry.object_id == str(entry.site_id):  # the site's own entry
            return self.site_shown(entry)
        return audit_text.record_name(entry.read_by, entry.table, entry.object_id)

    @admin.display(description=_("site"))
    def site_shown(self, entry):
        """The site by code and name, a link to its page; a deleted one by its code."""
        if entry.site_code is None:
            return self.get_empty_value_display()
        if entry.site_deleted_at is not None:
            return _("%(code)s (deleted)") % {"code": entry.site_code}
        site = f"{entry.site_code} · {entry.site_name}"
        pages = links(audit_text.AUDITED_SITE, record=entry.site_id)
        return format_html('<a href="{}">{}</a>', pages[0].url, site) if pages else site

    @admin.display(description=_("action"), ordering="action")
    def action_shown(self, entry):
        return audit_text.action_label(entry.action)

    @admin.display(description=_("record type"), ordering="table")
    def table_shown(self, entry):
        return audit_text.table_label(entry.table)

    @admin.display(description=_("area"))
    def area_shown(self, entry):
        """The areas of the record's path by name, not the path ("/99/991/")."""
        return path_trail(entry.area_path)

    @admin.display(description=_("changes"))
    def summary(self, entry):
        return audit_text.summary(entry)[:200]

    @admin.display(description=_("changes"))
    def changes_shown(self, entry):
        changes = audit_text.changes_of(entry, entry.read_by)
        return format_html_join("", "<div>{}: {} → {}</div>", ((c.label, c.before, c.after) for c in changes))


# The area tree's admin lives here, not in areas/: it is scoped, and the scope rule is
# this app's, one layer above the tree.
@admin.register(Area)
class AreaAdmin(ScopedAdminMixin, MapAdminMixin, admin.ModelAdmin):
    """Boundaries come from `load_areas`, so the admin shows them, on a map, and does not
    edit them."""

    add_verb = None
    change_verb = None
    delete_verb = None
    modifiable = False
    list_display = ["code", "name", "level", "unit_type", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    readonly_fields = ["code", "name", "level", "unit_type", "parent", "within"]
    fields = [*readonly_fields, "geom"]

    @admin.display(description=_("within"))
    def within(self, area):
        """The areas above it by name (its path, "/99/991/99101/", without itself)."""
        return path_trail(area.path.removesuffix(f"{area.code}/")) or self.get_empty_value_display()

"""Admin pages decide who sees what through the area scope, not Django's per-model
permissions: one rule for the admin and the rest of the registry."""

from django.contrib.admin.filters import ChoicesFieldListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404

from common.forms import add_refusal

from .audit_text import Reader
from .scope import ADMINISTER, EDIT, VIEW, OutOfScope, scope_for


class NotFoundOutOfScope:
    """A record the user may not reach answers 404, as everywhere else, not the admin's
    redirect that says it "may have been deleted"; and what a page's address carries is
    checked before the admin uses it."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None and object_id:
            raise Http404
        return obj

    def get_changeform_initial_data(self, request):
        """The add page fills its fields from the address (?site=<id>): only values its
        form's field accepts, as that field reads them (a bad id or date was a 500)."""
        fields = self.get_form(request).base_fields
        initial = {}
        for name, value in super().get_changeform_initial_data(request).items():
            if name in fields:
                try:
                    initial[name] = fields[name].clean(value)
                except ValidationError:
                    continue
        return initial

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList


class ReadByRequest:
    """Django's admin gives a field or column it shows only the record: each record a page
    shows carries who reads it (`read_by`, one audit_text.Reader for the page), so that what
    it names of other records (the audit trail's) it names only to that reader."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj.read_by = Reader(request.user)
        return obj

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        reader = Reader(request.user)
        for obj in changelist.result_list:
            obj.read_by = reader
        return changelist


class CheckedChangeList(ChangeList):
    """A filter value the field cannot hold is a bad filter (the admin's "?e=1"), as an
    impossible date already was, not a server error: a date drill-down year too large for
    a date (?at__year=99999999999), or a value outside a field's choices (a PostgreSQL
    enum behind it refuses it)."""

    def get_filters(self, request):
        try:
            filters = super().get_filters(request)
        except OverflowError as exc:
            raise IncorrectLookupParameters(exc) from exc
        for spec in filters[0]:
            if isinstance(spec, ChoicesFieldListFilter) and spec.lookup_val:
                allowed = {str(value) for value, _label in spec.field.flatchoices}
                if not set(spec.lookup_val) <= allowed:
                    raise IncorrectLookupParameters(spec.lookup_kwarg)
        return filters


class CheckedAutocompleteSelect(AutocompleteSelect):
    """Drawing a form again with its errors, Django's autocomplete looks the value sent up
    as its model's key: one that is no key ('x', a NUL) raised there, a 500 (pentest 6).
    It is drawn empty instead; the field says what was wrong."""

    def optgroups(self, name, value, attr=None):
        try:
            return super().optgroups(name, value, attr)
        except (ValueError, ValidationError):
            return super().optgroups(name, [], attr)


class CheckedAutocomplete:
    """Admins and inlines with autocomplete_fields draw them with CheckedAutocompleteSelect."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = CheckedAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedAdminMixin(CheckedAutocomplete, NotFoundOutOfScope):
    # The verb that opens the page and restricts its rows: one verb for both, so that a
    # person who holds it somewhere reads no row where they hold only a lesser one (an
    # administrator of a commune who views the province reads the commune's audit).
    view_verb = VIEW
    # The verbs that let a user add or change records on this page.
    add_verb = EDIT
    change_verb = EDIT
    delete_verb = ADMINISTER

    def get_queryset(self, request):
        return scope_for(request.user).restrict(super().get_queryset(request), self.view_verb)

    def has_module_permission(self, request):
        user = request.user
        return user.is_active and user.is_staff and scope_for(user).holds(self.view_verb)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return (
            self.add_verb is not None
            and self.has_module_permission(request)
            and scope_for(request.user).holds(self.add_verb)
        )

    def _may(self, request, verb, obj) -> bool:
        if verb is None or not self.has_module_permission(request):
            return False
        if obj is None:
            return scope_for(request.user).holds(verb)
        try:
            scope_for(request.user).require_record(verb, obj)
        except OutOfScope:
            return False
        return True

    def has_change_permission(self, request, obj=None):
        return self._may(request, self.change_verb, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, self.delete_verb, obj)


class ServiceForm:
    """A ModelForm mixin whose clean() performs the write through a service function,
    so the admin validates and saves exactly as every other entry point does.
    The admin view wraps the request in a transaction; a savepoint undoes a failed call."""

    request = None

    def call_service(self, data: dict):
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            with transaction.atomic():
                self.instance = self.call_service(data)
        except ValidationError as exc:
            add_refusal(self, exc)
        except OutOfScope:
            raise ValidationError(self.out_of_scope_message) from None
        return data

    def save(self, commit=True):
        return self.instance

    def save_m2m(self):
        pass


def service_admin_form(form_class, request):
    """Bind the current request to a ServiceForm class (the admin builds forms by class)."""
    return type(form_class.__name__, (form_class,), {"request": request})

"""The audit trail as a person reads it: the trigger (accounts/sql/audit.sql) records
table and column names and stored values ("update accounts_membership",
"role: viewer → field_worker"); the site's history and the audit pages show the model's and the fields'
names and the choices' labels in the reader's language instead."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.contrib.admin.sites import AdminSite
from django.contrib.gis.db import models as gis_models
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Model, QuerySet
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .scope import AREA_PATH_OF, VIEW, scope_for

ACTIONS = {
    "insert": gettext_lazy("Added"),
    "update": gettext_lazy("Changed"),
    "delete": gettext_lazy("Deleted"),
    "unlock": gettext_lazy("Unlocked"),
}
# Keys of entries that no column names: a file import's one entry (hazards/import_load.py),
# the unlock of an account (accounts/services.py) and an entry written after the fact for
# a record that escaped the trail (accounts/derived.py).
OTHER_KEYS = {
    "reconstructed": gettext_lazy("reconstructed afterwards"),
    "imported_from": gettext_lazy("imported from"),
    "rows": gettext_lazy("rows"),
    "sites_added": gettext_lazy("sites added"),
    "sign_in_failures": gettext_lazy("failed sign-ins"),
}
# What the trigger records in place of a value nobody may read (accounts/sql/audit.sql).
HIDDEN = "…"
# Longest value shown in a list of changes (geometry and notes run long).
SHOWN_CHARS = 60

# The records of registry data a person may read now, by model label: each app declares how
# its own are read (readable_records_are, in its AppConfig.ready(): its selectors, through
# the one scope check, accounts/scope.py), so that the trail names a record, and a record a
# changed value points to, only to who may see it now. For a user, a queryset of the model's
# records (what naming them needs selected with them).
_readers: dict[str, Callable] = {}
# The model of an entry's site (AuditEntry.site_id), declared with its reader.
_site_model: list[type[Model]] = []
# Where that app offers the link to a site's page, given the site's id (common/navigation).
AUDITED_SITE = "audited-site"
# What the trail shows for a record it does not name (one since removed, or one outside the
# reader's areas now), as for an entry whose site the reader may not see: the admin's empty
# value, never the record's key.
NOT_NAMED = AdminSite.empty_value_display


def readable_records_are(readers: dict[type[Model], Callable], *, sites: type[Model]) -> None:
    _readers.update({model._meta.label_lower: reader for model, reader in readers.items()})
    _site_model[:] = [sites]


def readable(user, model: type[Model]) -> QuerySet:
    """The records of `model` the user may see now, as its app reads them; a model no app
    declared but with an area scope (areas, memberships, targets) through the scope check,
    its live records; one with none (people, their devices and codes) is no area's data."""
    label = model._meta.label_lower
    if label in _readers:
        return _readers[label](user)
    if label in AREA_PATH_OF:
        return scope_for(user).restrict(model._default_manager.all(), VIEW)
    return model._base_manager.all()


def readable_sites(user) -> QuerySet:
    """The sites the user may see (deleted ones where they may restore them), with `code`,
    `name` and `deleted_at`: whose code and name the trail shows for an entry's site."""
    return readable(user, _site_model[0])


class Reader:
    """A person reading the trail (one page of it): names the records they may see now,
    each looked up once for the page (a site's history names the same people and areas
    again and again)."""

    def __init__(self, user):
        self.user = user
        self._names: dict = {}

    def name(self, model: type[Model], key) -> str:
        """The record as the admin names it ("HZ-000197 · Ao làng", a person's user name);
        NOT_NAMED when it is gone or outside the reader's areas."""
        return self.names(model, [key])[0]

    def names(self, model: type[Model], keys) -> list[str]:
        """Each record's name as name() gives it, in the order of `keys`, those not yet
        named on this page read together (a merge's inspections moved)."""
        wanted = {}
        for key in dict.fromkeys(keys):
            if (model, key) not in self._names:
                try:
                    wanted[key] = model._meta.pk.to_python(key)
                except ValidationError:  # no key of the model: nothing to name
                    self._names[(model, key)] = NOT_NAMED
        if wanted:
            found = readable(self.user, model).in_bulk(list(wanted.values()))
            self._names.update(
                {(model, key): str(found[pk]) if pk in found else NOT_NAMED for key, pk in wanted.items()}
            )
        return [self._names[(model, key)] for key in keys]


@dataclass
class Change:
    label: str
    before: str
    after: str


@cache
def _models_by_table() -> dict:
    return {model._meta.db_table: model for model in apps.get_models()}


def _field(table: str, column: str):
    """The model field stored in the column (a generated column: the field it outputs)."""
    model = _models_by_table().get(table)
    if model is None:
        return None
    field = next((f for f in model._meta.concrete_fields if f.column == column), None)
    return field.output_field if isinstance(field, models.GeneratedField) else field


def _is_key(table: str, column: str) -> bool:
    model = _models_by_table().get(table)
    return model is not None and model._meta.pk.column == column


def record_name(reader: Reader, table: str, key: str) -> str:
    """The record an entry is about, as the admin names it ("HZ-000197 · 05/12/2026 14:30",
    a person's user name), not its key; NOT_NAMED when it is gone (removed, or never kept)
    or the reader may not see it now."""
    model = _models_by_table().get(table)
    return NOT_NAMED if model is None else reader.name(model, key)


def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action))


def table_label(table: str) -> str:
    model = _models_by_table().get(table)
    return str(capfirst(model._meta.verbose_name)) if model else table


def column_label(table: str, column: str) -> str:
    field = _field(table, column)
    if field is not None:
        return str(capfirst(field.verbose_name))
    return str(capfirst(OTHER_KEYS.get(column, column)))


def value_text(table: str, column: str, value, reader: Reader | None = None) -> str:
    """A stored value as the field shows it: a choice's label, yes or no, a date in the
    reader's format, a point's coordinates, a record by its name to a `reader` who may see
    it (and to nobody without one)."""
    if value is None or value == "" or value == []:
        return "–"
    field = _field(table, column)
    if isinstance(value, list):
        base = getattr(field, "base_field", None)
        return ", ".join(value_text_of(base, item, reader) for item in value)
    return value_text_of(field, value, reader)


def value_text_of(field, value, reader: Reader | None = None) -> str:
    if isinstance(field, models.ForeignKey):
        if value == HIDDEN:  # a value nobody may read (accounts/sql/audit.sql)
            return HIDDEN
        # The record it points to as the admin names it (a person's user name, a site's
        # code and name), never by its key, which would mean nothing to a person.
        return NOT_NAMED if reader is None else reader.name(field.related_model, value)
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(field, gis_models.GeometryField) and isinstance(value, dict):
        if value.get("type") == "Point":
            # Latitude, longitude as GPS and map apps write them, in every language.
            x, y = value["coordinates"][:2]
            return f"{y:.6f}, {x:.6f}"
        return _("a shape")
    if isinstance(field, models.DateField) and isinstance(value, str):
        try:
            if isinstance(field, models.DateTimeField):
                return f"{timezone.localtime(dt.datetime.fromisoformat(value)):%d/%m/%Y %H:%M}"
            return f"{dt.date.fromisoformat(value):%d/%m/%Y}"
        except ValueError:  # a hidden value ("…", accounts/sql/audit.sql)
            return value
    if isinstance(value, float | int) and not isinstance(value, bool):
        # Grouped as every count the registry shows (12.345 rows), its decimals as stored.
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    text = str(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def changes_of(entry, reader: Reader) -> list[Change]:
    """Each changed field with its value before and after, as `reader` may read them; an
    entry that records facts rather than changes (a file import's) has only the after."""
    changes = []
    for column, values in entry.changes.items():
        if _is_key(entry.table, column):
            continue  # the record itself, which the entry names
        before, after = values if isinstance(values, list) and len(values) == 2 else (None, values)
        shown = value_text(entry.table, column, before, reader), value_text(entry.table, column, after, reader)
        if shown[0] != shown[1]:  # a record's empty fields, when it was added
            changes.append(Change(column_label(entry.table, column), *shown))
    return sorted(changes, key=lambda change: change.label)


def what(entry) -> str:
    """ "Changed · Site": the action and the kind of record."""
    return f"{action_label(entry.action)} · {table_label(entry.table)}"


def summary(entry) -> str:
    """What changed, for a list: the fields' names."""
    return ", ".join(
        sorted(column_label(entry.table, column) for column in entry.changes if not _is_key(entry.table, column))
    )

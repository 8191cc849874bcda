"""The audit trail as a person reads it: the trigger (accounts/sql/audit.sql) records
table and column names and stored values ("update accounts_membership",
"role: viewer → field_worker"); the site's history and the audit pages show the model's and the fields'
names and the choices' labels in the reader's language instead."""

import datetime as dt
from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.contrib.gis.db import models as gis_models
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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

# The sites a person may see (deleted ones where they may restore them), as their admin
# lists them: declared by the app that keeps the sites (hazards, above this one), so that
# the trail names an entry's site (AuditEntry.site_id) by code and name only to who may see
# it. For a user, a queryset of the sites (with `code`, `name`, `deleted_at`).
_readable_sites = []
# Where that app offers the link to a site's page, given the site's id (common/navigation).
AUDITED_SITE = "audited-site"


def readable_sites_are(sites_of_user) -> None:
    _readable_sites[:] = [sites_of_user]


def readable_sites(user):
    return _readable_sites[0](user)


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


def record_name(table: str, key: str) -> str:
    """The record an entry is about, as the admin names it ("HZ-000197 · 05/12/2026 14:30",
    a person's user name), not its key; "" when it is gone (removed, or never kept)."""
    model = _models_by_table().get(table)
    if model is None:
        return ""
    try:
        found = model._base_manager.filter(pk=key).first()
    except (ValueError, ValidationError):
        found = None
    return str(found) if found is not None else ""


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


def value_text(table: str, column: str, value, names: dict | None = None) -> str:
    """A stored value as the field shows it: a choice's label, yes or no, a date in the
    reader's format, a point's coordinates."""
    if value is None or value == "" or value == []:
        return "–"
    field = _field(table, column)
    if isinstance(value, list):
        base = getattr(field, "base_field", None)
        return ", ".join(value_text_of(base, item, names) for item in value)
    return value_text_of(field, value, names)


def value_text_of(field, value, names: dict | None = None) -> str:
    """`names`: the records already named, shared by the entries of one page (a site's
    history names the same people and areas again and again)."""
    if isinstance(field, models.ForeignKey):
        names = {} if names is None else names
        key = (field.related_model, value)
        if key not in names:
            # The record it names as the admin names it (a person's user name, an area's name).
            try:
                found = field.related_model._base_manager.filter(pk=value).first()
            except (ValueError, ValidationError):  # a hidden value ("…", accounts/sql/audit.sql)
                found = None
            # A record since removed has no name left: its key would mean nothing to a person.
            names[key] = str(found) if found is not None else HIDDEN if value == HIDDEN else "–"
        return names[key]
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


def changes_of(entry, names: dict | None = None) -> list[Change]:
    """Each changed field with its value before and after; an entry that records facts
    rather than changes (a file import's) has only the after."""
    changes = []
    for column, values in entry.changes.items():
        if _is_key(entry.table, column):
            continue  # the record itself, which the entry names
        before, after = values if isinstance(values, list) and len(values) == 2 else (None, values)
        shown = value_text(entry.table, column, before, names), value_text(entry.table, column, after, names)
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

"""The update mode of an import: a list exported from the registry (its sites' ids kept),
edited in a spreadsheet or in QGIS and imported again changes the sites it names. Each
row naming a site is compared with it, field by field for the fields the file gives; a
changed detail goes through services.site_update (the scope, the area of a moved point,
the dates from which counted details change) and a changed sign or barrier state is a
new inspection (services.inspections_record: an inspection is never edited). The
caller's transaction holds it all: any row refused undoes the file."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from pyproj import Geod

from accounts.scope import OutOfScope
from common.numbers import format_number

from . import selectors, services
from .import_load import ImportRow
from .models import Barrier, Signage, Site, SiteKind

# Exports write coordinates to 7 decimals (about 1 cm): a point the file moves by less
# than this is where it was.
MOVE_TOLERANCE_M = 0.1
# The same for an outline's vertices, in degrees (7 decimals written, each off by half the last).
OUTLINE_TOLERANCE_DEG = 2e-7
BATCH = 1000
GEOD = Geod(ellps="WGS84")
# The details a row can change, as site_update names them, when the file gives them.
DETAILS = ["name", "kind", "deep_water", "depth_m", "responsible_party", "notes"]


@dataclass
class UpdateOutcome:
    updated: int = 0
    changes: list[tuple[int, str]] = field(default_factory=list)  # (row, what changed), in the file's order
    problems: list[tuple[int, str]] = field(default_factory=list)


def _label(choices, value) -> str:
    return str(choices(value).label) if value in choices.values else str(value)


def _shown(name: str, value) -> str:
    if name == "kind":
        return _label(SiteKind, value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, Decimal):  # a depth: 4,5 in Vietnamese
        return format_number(value, places=-value.normalize().as_tuple().exponent if value % 1 else 0)
    return "—" if value in (None, "") else f"“{value}”"


def _detail_names() -> dict[str, str]:
    return {
        "name": _("name"),
        "kind": _("kind"),
        "deep_water": _("deep water"),
        "depth_m": _("depth (m)"),
        "responsible_party": _("responsible party"),
        "notes": _("notes"),
    }


def _geometry_changes(site: Site, row: ImportRow) -> tuple[dict, list[str]]:
    """The new location and outline of the row's site, and how they read."""
    changes, said = {}, []
    if row.outline_removed and site.outline is not None:
        changes["outline"] = None
        said.append(_("outline removed"))
    if row.outline is not None:
        outline = GEOSGeometry(row.outline)
        # The same rings, whichever vertex they start from and whichever way they turn
        # (a Shapefile turns them clockwise).
        same = site.outline is not None and outline.normalize(clone=True).equals_exact(
            site.outline.normalize(clone=True), OUTLINE_TOLERANCE_DEG
        )
        if not same:
            changes["outline"] = outline
            said.append(_("outline redrawn") if site.outline is not None else _("outline added"))
    point = Point(row.longitude, row.latitude, srid=4326)
    # A polygon's site: its point moves only when the new outline leaves it.
    left = changes.get("outline") is not None and not changes["outline"].intersects(site.location)
    if left or not row.placed:
        _forward, _back, metres = GEOD.inv(site.location.x, site.location.y, row.longitude, row.latitude)
        if metres > MOVE_TOLERANCE_M:
            changes["location"] = point
            said.append(_("moved %(metres)s m") % {"metres": format_number(metres, 1 if metres < 10 else 0)})
    return changes, said


def _detail_changes(site: Site, row: ImportRow, given: set[str]) -> tuple[dict, list[str]]:
    changes, said = {}, []
    names = _detail_names()
    for name in DETAILS:
        if name not in given:
            continue
        value = getattr(row, name)
        if value != getattr(site, name):
            changes[name] = value
            said.append(f"{names[name]} {_shown(name, getattr(site, name))} → {_shown(name, value)}")
    return changes, said


def _new_state(site: Site, row: ImportRow, given: set[str]) -> tuple[str, str] | None:
    """The sign and barrier the row states, where it differs from the site's: a state the
    file has no column for stays the site's (a file of signs leaves the barriers)."""
    if row.signage is None:
        return None
    state = (row.signage if "signage" in given else site.signage, row.barrier if "barrier" in given else site.barrier)
    return None if state == (site.signage, site.barrier) else state


def _state_said(site: Site, signage: str, barrier: str) -> str:
    parts = []
    if signage != site.signage:
        parts.append(f"{_label(Signage, site.signage)} → {_label(Signage, signage)}")
    if barrier != site.barrier:
        parts.append(f"{_label(Barrier, site.barrier)} → {_label(Barrier, barrier)}")
    return _("new inspection: %(state)s") % {"state": ", ".join(parts)}


def _reason(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(message for messages in exc.message_dict.values() for message in messages)
    return " ".join(exc.messages)


def apply(*, actor, rows: list[tuple[int, ImportRow]], given: set[str]) -> UpdateOutcome:
    """Applies the rows (row number, checked row) that name a site already in the
    registry; `given` are the fields the file's columns give. Rows naming no site are
    the import's new sites and left alone here."""
    outcome = UpdateOutcome()
    seen: dict[str, int] = {}
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        ids = [row.id for _number, row in batch]
        sites = {str(pk): site for pk, site in selectors.stored_sites(ids).items()}
        visible = set(selectors.sites(actor, deleted=True).filter(pk__in=ids).values_list("pk", flat=True))
        drafts, described = [], {}
        for number, row in batch:
            site = sites.get(row.id)
            if site is None:
                continue  # a new site, inserted by the import itself
            if row.id in seen:
                outcome.problems.append(
                    (number, _("%(code)s is also in row %(row)d.") % {"code": site.code, "row": seen[row.id]})
                )
                continue
            seen[row.id] = number
            if site.pk not in visible:
                outcome.problems.append((number, _("The site %(id)s is not in your areas.") % {"id": row.id}))
                continue
            if site.deleted_at is not None:
                outcome.problems.append(
                    (number, _("%(code)s was deleted: restore it before updating it.") % {"code": site.code})
                )
                continue
            details, said = _detail_changes(site, row, given)
            geometry, moved = _geometry_changes(site, row)
            changes = {**details, **geometry}
            try:
                if changes:
                    with transaction.atomic():
                        services.site_update(actor=actor, site=site, **changes)
            except ValidationError as exc:
                outcome.problems.append((number, f"{site.code}: {_reason(exc)}"))
                continue
            except OutOfScope:
                outcome.problems.append(
                    (number, _("%(code)s: you may not change this site's details in its area.") % {"code": site.code})
                )
                continue
            said += moved
            state = _new_state(site, row, given)
            if state:
                said.append(_state_said(site, *state))
                drafts.append(
                    services.InspectionDraft(
                        site_id=site.pk, inspected_at=row.inspected_at, signage=state[0], barrier=state[1]
                    )
                )
            if said:
                described[site.pk] = (number, f"{site.code} “{site.name}”: {'; '.join(said)}")
        recorded = services.inspections_record(actor=actor, drafts=drafts) if drafts else []
        for draft, result in zip(drafts, recorded, strict=True):
            number, _said = described[draft.site_id]
            code = sites[str(draft.site_id)].code
            if isinstance(result, ValidationError):
                outcome.problems.append((number, f"{code}: {_reason(result)}"))
            elif isinstance(result, OutOfScope):
                outcome.problems.append(
                    (number, _("%(code)s: you may not inspect sites in its area.") % {"code": code})
                )
        outcome.changes += described.values()
        outcome.updated += len(described)
    outcome.changes.sort()
    return outcome

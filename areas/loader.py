"""Loads an administrative boundary set (GeoJSON, Shapefile, GeoPackage) into the area
tree. A file is checked whole before anything is written; a file with any bad feature
stores nothing. Reloading updates areas by code; the apps above re-derive what lies in
them, in the load's transaction, through areas/signals.py."""

from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.gdal.field import OFTInteger, OFTInteger64, OFTReal
from django.contrib.gis.geos import GEOSException, MultiPolygon, Polygon
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from common.numbers import format_number
from common.text import clean_text

from .geometry import WGS84, clean_boundary
from .models import Area
from .signals import areas_reloaded, boundaries_reloaded
from .spatialfile import MAX_REPORTED_ERRORS, SpatialFileError, fail, geometry_of, open_layer, unreadable_geometry
from .tree import rebuild_pieces, refresh_paths

# Official GSO field names, most specific first: (code, name, level).
GSO_LEVELS = [
    ("ma_xa", "ten_xa", Area.Level.COMMUNE),
    ("ma_huyen", "ten_huyen", Area.Level.DISTRICT),
    ("ma_tinh", "ten_tinh", Area.Level.PROVINCE),
]


@dataclass
class FieldMap:
    code: str
    name: str
    level: str
    parent: str | None = None
    unit_type: str | None = None


def field_map(*, code=None, name=None, level=None, parent=None, unit_type=None) -> FieldMap | None:
    """The fields a person names (load_areas' options, the boundary page); None when they
    name none (the GSO layout is recognised by itself)."""
    if not (code or name):
        return None
    if not (code and name and level):
        raise SpatialFileError([_("The code field, the name field and the level go together.")])
    return FieldMap(code=code, name=name, level=level, parent=parent or None, unit_type=unit_type or None)


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    sites_moved: int = 0
    sites_outside: int = 0
    files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """What a load did, for the person who asked."""
        done = _(
            "Loaded %(files)s file(s): %(created)s areas created, %(updated)s updated; %(moved)s sites re-assigned."
        ) % {
            "files": format_number(len(self.files)),
            "created": format_number(self.created),
            "updated": format_number(self.updated),
            "moved": format_number(self.sites_moved),
        }
        if self.sites_outside:
            done += " " + _("Warning: %(n)s sites lie outside every loaded area and keep their previous area.") % {
                "n": format_number(self.sites_outside)
            }
        return done


def guess_fields(field_names: list[str]) -> FieldMap | None:
    """Recognise the GSO layout (ma_xa/ma_huyen/ma_tinh): the most specific code is the
    area's own, the next one present is its parent."""
    present = [level for level in GSO_LEVELS if level[0] in field_names and level[1] in field_names]
    if not present:
        return None
    code, name, level = present[0]
    parent = next((c for c, _n, _l in GSO_LEVELS[GSO_LEVELS.index(present[0]) + 1 :] if c in field_names), None)
    return FieldMap(
        code=code, name=name, level=level, parent=parent, unit_type="loai" if "loai" in field_names else None
    )


@dataclass
class _Row:
    code: str
    name: str
    parent_code: str | None
    unit_type: str
    geom: MultiPolygon


def _read_file(
    path: Path, fields: FieldMap | None, level: str | None, layer: str | None
) -> tuple[list[_Row], FieldMap]:
    where = path.name
    lyr = open_layer(path, layer)
    fmap = fields or guess_fields(lyr.fields)
    field_list = ", ".join(lyr.fields)
    if fmap is None:
        raise fail(
            _("%(file)s: name the code and name fields with --code-field and --name-field (fields: %(fields)s)."),
            file=where,
            fields=field_list,
        )
    if level:
        fmap.level = level
    if fmap.level not in Area.Level.values:
        raise fail(
            _("Unknown level %(level)s: use one of %(levels)s."), level=fmap.level, levels=", ".join(Area.Level.values)
        )

    wanted = [f for f in (fmap.code, fmap.name, fmap.parent, fmap.unit_type) if f]
    missing = [f for f in wanted if f not in lyr.fields]
    if missing:
        raise fail(
            _("%(file)s: missing field(s) %(missing)s (fields: %(fields)s)."),
            file=where,
            missing=", ".join(missing),
            fields=field_list,
        )
    numeric = (OFTInteger, OFTInteger64, OFTReal)
    for code_field in filter(None, (fmap.code, fmap.parent)):
        if lyr.field_types[lyr.fields.index(code_field)] in numeric:
            raise fail(
                _("%(file)s: field %(field)s holds numbers, which lose the leading zeros of codes; use text."),
                file=where,
                field=code_field,
            )

    rows: list[_Row] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, feature in enumerate(lyr, start=1):
        code = str(feature.get(fmap.code) or "").strip()
        label = _("%(file)s feature %(n)d (code %(code)s)") % {"file": where, "n": number, "code": code or "?"}
        try:
            if not code:
                raise ValidationError(_("the code field %(field)s is empty") % {"field": fmap.code})
            if code in seen:
                raise ValidationError(_("code repeats feature %(n)d") % {"n": seen[code]})
            seen[code] = number
            name = clean_text(str(feature.get(fmap.name) or ""), "name", _("name"))
            if not name:
                raise ValidationError(_("the name field %(field)s is empty") % {"field": fmap.name})
            parent_code = str(feature.get(fmap.parent) or "").strip() if fmap.parent else None
            if fmap.parent and not parent_code:
                raise ValidationError(_("the parent code field %(field)s is empty") % {"field": fmap.parent})
            geom = clean_boundary(geometry_of(feature))
            unit_type = str(feature.get(fmap.unit_type) or "") if fmap.unit_type else ""
            unit_type = clean_text(unit_type, "unit_type", _("unit type"))
            rows.append(_Row(code, name, parent_code, unit_type, geom))
        except ValidationError as exc:
            problems.append(f"{label}: {'; '.join(exc.messages)}")
        except (GDALException, GEOSException) as exc:
            problems.append(f"{label}: {unreadable_geometry(exc)}")
        if len(problems) >= MAX_REPORTED_ERRORS:
            problems.append(_("… stopped after %(n)d problems.") % {"n": MAX_REPORTED_ERRORS})
            break
    if problems:
        raise SpatialFileError(problems)
    return rows, fmap


def load_boundaries(
    paths: list[Path],
    *,
    fields: FieldMap | None = None,
    level: str | None = None,
    layer: str | None = None,
) -> LoadResult:
    """Load one or more files in order (parents first, or in the same file) in one
    transaction: any bad file leaves the registry as it was."""
    result = LoadResult()
    with transaction.atomic():
        for path in paths:
            rows, fmap = _read_file(Path(path), fields, level, layer)
            _store(rows, fmap, path.name if isinstance(path, Path) else str(path), result)
            result.files.append(str(path))
        boundaries_reloaded.send(sender=Area)
    return result


def _store(rows: list[_Row], fmap: FieldMap, where: str, result: LoadResult) -> None:
    codes_in_file = {row.code for row in rows}
    parent_codes = {row.parent_code for row in rows if row.parent_code}
    known = set(Area.objects.filter(code__in=parent_codes).values_list("code", flat=True)) | codes_in_file
    unknown = [row for row in rows if row.parent_code and row.parent_code not in known]
    if unknown:
        raise SpatialFileError(
            [
                _("%(file)s feature with code %(code)s: unknown parent code %(parent)s (load the parent level first).")
                % {"file": where, "code": row.code, "parent": row.parent_code}
                for row in unknown[:MAX_REPORTED_ERRORS]
            ]
        )

    existing = {a.code: a for a in Area.objects.filter(code__in=codes_in_file)}
    to_create, to_update = [], []
    for row in rows:
        area = existing.get(row.code) or Area(code=row.code, path="", depth=0)
        area.name, area.level, area.unit_type, area.geom = row.name, fmap.level, row.unit_type, row.geom
        (to_update if area.pk else to_create).append(area)
    Area.objects.bulk_create(to_create, batch_size=500)
    Area.objects.bulk_update(to_update, ["name", "level", "unit_type", "geom"], batch_size=500)
    result.created += len(to_create)
    result.updated += len(to_update)

    ids = dict(Area.objects.filter(code__in=codes_in_file | parent_codes).values_list("code", "id"))
    parent_of = {row.code: row.parent_code for row in rows}
    linked = to_create + to_update
    for area in linked:
        area.parent_id = ids.get(parent_of[area.code] or "")
    Area.objects.bulk_update(linked, ["parent"], batch_size=500)

    unreachable = refresh_paths()
    if unreachable:
        raise SpatialFileError(
            [
                _("%(file)s: the parent links of %(codes)s form a loop.")
                % {"file": where, "codes": ", ".join(unreachable[:20])}
            ]
        )
    rebuild_pieces([ids[code] for code in codes_in_file])
    extents = [row.geom.extent for row in rows]
    extent = Polygon.from_bbox(
        (min(e[0] for e in extents), min(e[1] for e in extents), max(e[2] for e in extents), max(e[3] for e in extents))
    )
    extent.srid = WGS84
    for _receiver, (moved, outside) in areas_reloaded.send(sender=Area, extent=extent):
        result.sites_moved += moved
        result.sites_outside += outside

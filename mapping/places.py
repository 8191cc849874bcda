"""Loads the schools and kindergartens layer used by the priority list. The file replaces
the whole layer; a file with any bad feature stores nothing."""

import unicodedata
from pathlib import Path

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from areas.geometry import clean_point
from areas.spatialfile import MAX_REPORTED_ERRORS, SpatialFileError, fail, geometry_of, open_layer, unreadable_geometry

from .models import Place

NAME_FIELDS = ["name", "ten", "ten_truong", "tentruong"]
KIND_FIELDS = ["kind", "type", "loai", "amenity", "cap_hoc", "caphoc"]
# Words in the kind field (accents and case ignored), as Vietnamese lists and OpenStreetMap write them.
KIND_WORDS = {
    Place.Kind.KINDERGARTEN: ["kindergarten", "preschool", "nursery", "mam non", "mau giao", "nha tre"],
    Place.Kind.SCHOOL: ["school", "truong", "tieu hoc", "thcs", "thpt", "trung hoc", "primary", "secondary"],
}


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return " ".join("".join(c for c in folded if not unicodedata.combining(c)).replace("_", " ").split())


def _find(fields: list[str], wanted: list[str]) -> str | None:
    by_plain = {_plain(f): f for f in fields}
    return next((by_plain[w] for w in wanted if w in by_plain), None)


def kind_of(value: str) -> str:
    plain = _plain(value)
    # Kindergarten words first: "trường mầm non" is a kindergarten, not a school.
    for kind in (Place.Kind.KINDERGARTEN, Place.Kind.SCHOOL):
        if any(word in plain for word in KIND_WORDS[kind]):
            return kind
    raise ValidationError(_("unknown kind %(value)r: write school or kindergarten") % {"value": value})


def load_places(
    path: Path, *, name_field: str | None = None, kind_field: str | None = None, kind: str | None = None, layer=None
) -> int:
    where = path.name
    lyr = open_layer(path, layer)
    name_field = name_field or _find(lyr.fields, NAME_FIELDS)
    kind_field = None if kind else kind_field or _find(lyr.fields, KIND_FIELDS)
    fields = ", ".join(lyr.fields)
    if not name_field or name_field not in lyr.fields:
        raise fail(
            _("%(file)s: name the field with the name using --name-field (fields: %(fields)s)."),
            file=where,
            fields=fields,
        )
    if not kind and (not kind_field or kind_field not in lyr.fields):
        raise fail(
            _("%(file)s: name the kind field with --kind-field, or give --kind for all (fields: %(fields)s)."),
            file=where,
            fields=fields,
        )
    places, problems = [], []
    for number, feature in enumerate(lyr, start=1):
        try:
            name = str(feature.get(name_field) or "").strip()
            if not name:
                raise ValidationError(_("the name field %(field)s is empty") % {"field": name_field})
            place_kind = kind or kind_of(str(feature.get(kind_field) or ""))
            places.append(Place(kind=place_kind, name=name, location=clean_point(geometry_of(feature))))
        except ValidationError as exc:
            problems.append(
                _("%(file)s feature %(n)d: %(problem)s")
                % {"file": where, "n": number, "problem": "; ".join(exc.messages)}
            )
        except (GDALException, GEOSException) as exc:
            problems.append(
                _("%(file)s feature %(n)d: %(problem)s")
                % {"file": where, "n": number, "problem": unreadable_geometry(exc)}
            )
        if len(problems) >= MAX_REPORTED_ERRORS:
            problems.append(_("… stopped after %(n)d problems.") % {"n": MAX_REPORTED_ERRORS})
            break
    if problems:
        raise SpatialFileError(problems)
    with transaction.atomic():
        Place.objects.all().delete()
        Place.objects.bulk_create(places, batch_size=5000)
    return len(places)

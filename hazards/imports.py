"""Import of site lists that provinces already hold: CSV and XLSX with latitude/longitude
columns, GeoJSON, GeoPackage and Shapefile points, and KoboToolbox/ODK CSV exports (their
geopoint column). Every row is checked by the rules a registration follows (the services'
own checks for names, depths, coordinates, clocks; the area and scope rule in SQL);
any bad row stops the whole file, and the report names each bad row and its reason.
Importing the same file again creates nothing new. The files are read into rows by
hazards/import_files.py; which column is which field is hazards/import_columns.py's."""

import datetime as dt
import hashlib
import re
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from areas import crs
from areas.geometry import check_extent, clean_outline, geometry_from_text, not_a_point
from common.numbers import format_number
from common.readahead import read_ahead

from . import import_update, services
from .import_columns import (
    COLUMN_NAMES,
    UTC_COLUMNS,
    find_column,
    guess_mapping,
    left_out,
    outline_cell,
    plain_key,
    removes_outline,
    word_key,
)
from .import_files import DRAWN, NOT_A_POINT, OUTLINE, OVERFLOW, ImportFileError, SourceFile, read_file
from .import_load import ImportLoad, ImportRow, copy_line
from .models import Barrier, Signage, SiteKind

# A fixed namespace: the same row of the same list always gets the same site id.
IMPORT_NAMESPACE = uuid.UUID("6f1c2a0e-3d5b-4c8e-9a7f-2b1d0c9e8f71")
MAX_REPORTED = 200
# The changes an update lists, a line per row (a province's list is a few thousand sites).
MAX_CHANGES_LISTED = 20_000
# Words people write for each choice, besides the registry's values and labels (both
# languages). Compared by word_key, and without tone marks when that is not ambiguous: "hồ"
# (lake) and "hố" (pit) are both "ho", so only the ASCII spellings listed here decide.
KIND_WORDS = {
    "ao": SiteKind.POND, "ao cá": SiteKind.POND, "ao nuôi cá": SiteKind.POND, "ao làng": SiteKind.POND,
    "hồ": SiteKind.LAKE, "ho": SiteKind.LAKE, "hồ chứa": SiteKind.LAKE, "hồ thủy lợi": SiteKind.LAKE,
    "đập": SiteKind.DAM, "đập tràn": SiteKind.DAM, "kênh": SiteKind.CANAL, "kênh mương": SiteKind.CANAL,
    "mương": SiteKind.CANAL, "giếng": SiteKind.WELL, "giếng khơi": SiteKind.WELL, "giếng đào": SiteKind.WELL,
    "hố": SiteKind.PIT, "hố công trình": SiteKind.PIT, "hố khai thác": SiteKind.PIT, "hố bom": SiteKind.PIT,
    "bến sông": SiteKind.RIVER_LANDING, "bến đò": SiteKind.RIVER_LANDING, "bãi tắm": SiteKind.RIVER_LANDING,
    "sông": SiteKind.RIVER_LANDING, "suối": SiteKind.RIVER_LANDING, "công trình thủy lợi": SiteKind.IRRIGATION_WORKS,
    "khác": SiteKind.OTHER,
}  # fmt: skip
SIGNAGE_WORDS = {
    "có": Signage.IN_PLACE, "không": Signage.NONE, "chưa có": Signage.NONE, "hỏng": Signage.DAMAGED,
    "hư hỏng": Signage.DAMAGED, "bị hỏng": Signage.DAMAGED,
}  # fmt: skip
BARRIER_WORDS = {
    "đầy đủ": Barrier.COMPLETE, "có": Barrier.COMPLETE, "một phần": Barrier.PARTIAL, "không": Barrier.NONE,
    "chưa có": Barrier.NONE,
}  # fmt: skip
TRUE_WORDS = {"1", "true", "yes", "có", "co", "x"}
FALSE_WORDS = {"0", "false", "no", "không", "khong", ""}


@dataclass
class ImportResult:
    created: int = 0
    unchanged: int = 0
    updated: int = 0
    rows: int = 0
    problems: list[str] = field(default_factory=list)
    # In update mode, what changed, a line per row ("row 3: HZ-000012 “Ao A”: name ...").
    changes: list[str] = field(default_factory=list)
    # What a person should know although nothing is wrong: columns left out, sheets not read.
    notices: list[str] = field(default_factory=list)


def _outline(text: str) -> tuple[str, float, float]:
    """A row's polygon (GeoJSON or WKT text, WGS 84) checked as a registration checks an
    outline (valid, not too large, 2D, in the country) as EWKT, and the point the site
    is placed at when the row gives none: a point on its surface (a centroid can fall
    outside a bent pond). A multipolygon of one part (as GIS programs save) is its polygon."""
    polygon = geometry_from_text(text)
    if polygon.geom_type == "MultiPolygon" and len(polygon) == 1:
        polygon = polygon[0]
    polygon = clean_outline(polygon)
    point = polygon.point_on_surface
    return polygon.ewkt, point.x, point.y


def _outline_text(text: str) -> tuple[str, float, float]:
    """_outline of a cell: a word or an empty geometry there is refused with what to write,
    as it might mean "remove" or "unknown" (a polygon with mistakes in it keeps its reason)."""
    try:
        return _outline(text)
    except ValidationError:
        if any(bracket in text for bracket in "({["):  # coordinates, wrong: their own reason
            raise
        raise ValidationError(
            _("the outline “%(value)s” is no polygon: write “xóa” (or “remove”) to remove the site's outline, "
              "or leave the cell empty to keep it") % {"value": text[:40]}
        ) from None  # fmt: skip


def _notices(columns: list[str], mapping: dict) -> list[str]:
    """What the outcome says of the fields and columns the mapping leaves out."""
    notices = []
    if "kind" not in mapping:
        notices.append(_("No column gives the kind: every site is imported as “Other”."))
    if "signage" not in mapping and "barrier" not in mapping:
        notices.append(_("No column gives the sign or the barrier: no state is recorded for the sites."))
    unused = left_out(columns, mapping)
    if unused:
        notices.append(_("Columns not imported: %(columns)s.") % {"columns": ", ".join(unused)})
    return notices


def _text(row, mapping, key) -> str:
    return _cell(row, mapping.get(key))


def _cell(row, column: str | None) -> str:
    value = row.get(column) if column else None
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()  # an Excel date cell: a day, not midnight
    text = "" if value is None else str(value).strip()
    if "\x00" in text:  # PostgreSQL stores no NUL character in text
        raise ValidationError(_("the column %(column)s holds a NUL character") % {"column": column})
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _coordinates(row, mapping, system: int = crs.WGS84) -> tuple[float, float]:
    """(longitude, latitude) of a row in WGS 84, checked to lie in the country."""
    if NOT_A_POINT in row:
        raise not_a_point(row[NOT_A_POINT])
    if OUTLINE in row:
        raise not_a_point("Polygon")  # _row_checker places a polygon's site itself
    if "geopoint" in mapping and "latitude" not in mapping:
        # "lat lon [alt acc]" (Kobo, ODK), "lat,lon" or Kobo's _geolocation "[lat, lon]"
        parts = _text(row, mapping, "geopoint").strip("[]").replace(",", " ").split()
        if len(parts) < 2:
            raise ValidationError(_("the geopoint is empty or not 'latitude longitude [altitude accuracy]'"))
        lat_text, lon_text = parts[0], parts[1]  # ODK and Kobo write latitude first
    else:
        lat_text, lon_text = _text(row, mapping, "latitude"), _text(row, mapping, "longitude")
    try:
        latitude, longitude = float(lat_text.replace(",", ".")), float(lon_text.replace(",", "."))
    except ValueError:
        raise ValidationError(
            _("the coordinates are not numbers (latitude %(lat)r, longitude %(lon)r)")
            % {"lat": lat_text, "lon": lon_text}
        ) from None
    if system != crs.WGS84:
        longitude, latitude = _to_wgs84(system, longitude, latitude)
    check_extent(longitude, latitude, longitude, latitude)
    return longitude, latitude


# In Vietnam a northing is at least 900 km and a TM-3 or UTM easting at most 850 km, so
# which of a table's two numbers is which needs no column names: Vietnamese survey tables
# call the northing X and the easting Y, GIS tables the other way round.
NORTHING_FROM_M = 900_000


def _to_wgs84(system: int, x: float, y: float) -> tuple[float, float]:
    """A table's two coordinates in `system` (longitude and latitude, or the two metre
    values in either order) as WGS 84 longitude and latitude."""
    if crs.SYSTEMS[system].projected:
        northing, easting = max(x, y), min(x, y)
        if northing < NORTHING_FROM_M:
            raise ValidationError(
                _("the coordinates (%(x)s, %(y)s) are not metres of %(system)s")
                % {"x": x, "y": y, "system": crs.SYSTEMS[system].label}
            )
        x, y = easting, northing
    return crs.to_wgs84(system).transform(x, y)


class Choice:
    """Reads one field's choice (kind, sign, barrier) from what a file writes: the value,
    its label in either language, the words people use (KIND_WORDS...) and the person's
    own words for this import, compared by word_key, then without tone marks where that is
    not ambiguous. Each distinct text is looked up once."""

    def __init__(self, choices, words: dict, own: dict | None, what: str):
        exact = {}
        for language in ("vi", "en"):
            with translation.override(language):
                exact.update({word_key(str(label)): value for value, label in choices.choices})
        exact.update({word_key(value): value for value in choices.values})
        exact.update({word_key(word): value for word, value in words.items()})
        self.exact, self.what, self.known = exact, what, {}
        plain: dict[str, set] = {}
        for word, value in exact.items():
            plain.setdefault(plain_key(word), set()).add(value)
        self.plain = {word: values.pop() for word, values in plain.items() if len(values) == 1}
        # An ASCII word listed for a choice ("ho": lake) decides its ambiguous plain form.
        self.plain.update({word_key(word): value for word, value in words.items() if word_key(word).isascii()})
        for word, choice in (own or {}).items():
            self.exact[word_key(word)] = self.plain[plain_key(word)] = self(choice)

    def __call__(self, value: str) -> str:
        found = self.known.get(value)
        if found is None:
            key = word_key(value)
            found = self.exact.get(key) or self.plain.get(plain_key(key))
            if found is None:
                raise ValidationError(_("unknown %(what)s %(value)r") % {"what": self.what, "value": value})
            self.known[value] = found
        return found


CHOICES = {"kind": (SiteKind, KIND_WORDS), "signage": (Signage, SIGNAGE_WORDS), "barrier": (Barrier, BARRIER_WORDS)}


def choice_reader(field_name: str, own: dict | None = None) -> Choice:
    choices, words = CHOICES[field_name]
    what = {"kind": _("kind"), "signage": _("signage state"), "barrier": _("barrier state")}[field_name]
    return Choice(choices, words, own, what)


def own_words(text: str, field_name: str) -> dict[str, str]:
    """A person's own words for one field's choices, one "word = choice" a line (the
    choice in any spelling the import reads: "ao nuôi cá = ao"); ValidationError names
    a line that is not."""
    words = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        word, equals, choice = line.partition("=")
        if not equals or not word.strip() or not choice.strip():
            raise ValidationError(_("Write one “word = choice” a line, not %(line)r.") % {"line": line.strip()})
        words[word.strip()] = choice.strip()
    choice_reader(field_name, words)  # every choice must be one the import reads
    return words


def _boolean(value: str, default: bool) -> bool:
    lowered = value.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return default if lowered == "" else False
    raise ValidationError(_("%(value)r is not yes or no") % {"value": value})


# A day written the Vietnamese way, day first: 05/03/2025, 5-3-2025, 05.03.2025 14:30.
DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def _moment(value: str) -> dt.datetime | None:
    """A date or a date and time; a bare date counts at noon, so it stays the same day in
    any time zone."""
    found = DAY_FIRST.fullmatch(value)
    try:
        if found:
            day, month, year, hour, minute, second = (int(part or 0) for part in found.groups())
            if found.group(4) is None:
                hour = 12
            return dt.datetime(year, month, day, hour, minute, second)
        day = parse_date(value) if len(value) == 10 else None
        return dt.datetime.combine(day, dt.time(12)) if day else parse_datetime(value)
    except ValueError:
        return None


def _when(value: str, naive_zone) -> dt.datetime:
    """The moment a cell gives; one without an offset is in `naive_zone`."""
    moment = _moment(value)
    if not moment:
        raise ValidationError(_("the date %(value)r is not a date (use DD/MM/YYYY or YYYY-MM-DD)") % {"value": value})
    return timezone.make_aware(moment, naive_zone) if timezone.is_naive(moment) else moment


NAMESPACE_BYTES = IMPORT_NAMESPACE.bytes


def name_based_id(name: str) -> str:
    """uuid.uuid5(IMPORT_NAMESPACE, name) as text, without building a UUID object (a
    tenth of the time spent on a row)."""
    digest = bytearray(hashlib.sha1(NAMESPACE_BYTES + name.encode(), usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _site_id(given: str, longitude: float, latitude: float, kind: str, name: str) -> tuple[str, bool]:
    """The row's site id, and whether the file gave it."""
    if given:
        try:
            return str(uuid.UUID(given.removeprefix("uuid:"))), True  # ODK's instanceID is "uuid:..."
        except ValueError:
            pass
    return name_based_id(f"{longitude:.6f}|{latitude:.6f}|{kind}|{name.lower()}"), False


def _row_checker(mapping: dict, words: dict | None = None, system: int = crs.WGS84):
    """A function from a file row to an ImportRow, raising ValidationError with the
    reason; the same rules as a registration through the services. `words` holds the
    person's own words for choices: {"kind": {"ao nuôi cá": "pond"}, ...}."""
    words = words or {}
    kinds, signages, barriers = (choice_reader(name, words.get(name)) for name in CHOICES)
    received_at = timezone.now()

    column = {key: mapping.get(key) for key in COLUMN_NAMES}
    utc = column["inspected_at"] and find_column([column["inspected_at"]], UTC_COLUMNS)
    naive_zone = dt.UTC if utc else timezone.get_current_timezone()

    placed_by_outline = "geopoint" not in mapping and "latitude" not in mapping

    def check(row: dict) -> ImportRow:
        if OVERFLOW in row:
            raise ValidationError(
                _("the row has %(cells)s cells and the header %(columns)s columns: a comma (or the file's "
                  "separator) inside a value must be in quotes")
                % dict(zip(("cells", "columns"), map(format_number, row[OVERFLOW]), strict=True))
            )  # fmt: skip
        outline, placed = None, False
        cell = outline_cell(row, column["outline"])
        removed = removes_outline(cell)
        if removed and (OUTLINE in row or DRAWN in row):
            raise ValidationError(
                _("the outline column says “%(value)s” but the row's geometry still draws an outline: delete the "
                  "outline (in QGIS, its feature in the outlines layer) or empty the cell") % {"value": cell}
            )  # fmt: skip
        if OUTLINE in row:
            outline, longitude, latitude = _outline(row[OUTLINE])
            placed = True
        elif cell and not removed:
            outline, longitude, latitude = _outline_text(cell)
            placed = placed_by_outline
            if not placed:  # the row's own point, which must lie on its outline
                longitude, latitude = _coordinates(row, mapping, system)
                services.check_outline(GEOSGeometry(outline), Point(longitude, latitude, srid=crs.WGS84))
        else:
            longitude, latitude = _coordinates(row, mapping, system)
        kind = kinds(_cell(row, column["kind"]) or "other")
        name = services.clean_name(_cell(row, column["name"]))
        signage, barrier = _cell(row, column["signage"]), _cell(row, column["barrier"])
        inspected_at = None
        if signage or barrier:
            signage = signages(signage or "none")
            barrier = barriers(barrier or "none")
            when = _cell(row, column["inspected_at"])
            inspected_at = _when(when, naive_zone) if when else received_at
        observed_at, suspect = services.counted_time(inspected_at, received_at) if inspected_at else (None, False)
        depth = _cell(row, column["depth_m"])
        site_id, given = _site_id(_cell(row, column["id"]), longitude, latitude, kind, name)
        return ImportRow(
            id=site_id,
            given=given,
            placed=placed,
            name=name,
            kind=kind,
            longitude=longitude,
            latitude=latitude,
            deep_water=_boolean(_cell(row, column["deep_water"]), True),
            depth_m=services.clean_depth(depth, "depth_m") if depth else None,
            responsible_party=services.clean_text(
                _cell(row, column["responsible_party"]), "responsible_party", _("responsible party")
            )[:200],
            notes=services.clean_text(_cell(row, column["notes"]), "notes", _("notes"), lines=True),
            signage=signage or None,
            barrier=barrier or None,
            inspected_at=inspected_at,
            observed_at=observed_at,
            clock_suspect=suspect,
            outline=outline,
            outline_removed=removed,
        )

    return check


def _reason(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" if k != "__all__" else " ".join(v) for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def row_problem(number: int, reason: str) -> str:
    return _("row %(n)d: %(problem)s") % {"n": number, "problem": reason}


# Rows per chunk: large enough for import_load's placing to pay (a boundary piece meets
# more of its points at once), small enough for progress to move.
PROGRESS_EVERY = 50_000


def _checked(source: SourceFile, check, given: list | None = None) -> Iterator[tuple[str, list, int]]:
    """(checked rows as COPY lines, problems, rows read so far) for every PROGRESS_EVERY
    rows; the rows whose id the file gives are added to `given` (row, ImportRow) as well."""
    lines, problems, read = [], [], 0
    for read, (number, row) in enumerate(source.rows(), start=1):
        try:
            checked = check(row)
            lines.append(copy_line(number, checked))
            if given is not None and checked.given:
                given.append((number, checked))
        except ValidationError as exc:
            problems.append((number, _reason(exc)))
        if read % PROGRESS_EVERY == 0:
            yield "".join(lines), problems, read
            lines, problems = [], []
    yield "".join(lines), problems, read


def import_steps(
    path: Path,
    *,
    actor,
    mapping: dict | None = None,
    words: dict | None = None,
    system: int | None = None,
    dry_run: bool = False,
    update: bool = False,
    sheet: str | None = None,
):
    """The import as a generator: yields (rows done, rows in all) every PROGRESS_EVERY rows
    and returns the ImportResult. Rows are checked here (a read-ahead thread checks the
    next rows while the database places and writes these: hazards/import_load.py), all
    in one transaction: any problem undoes the file; dry_run undoes it in any case.
    With `update`, rows naming a site already in the registry by its id change it
    (hazards/import_update.py) instead of being left as they are."""
    path = Path(path)
    source = read_file(path, system, sheet)
    mapping = {**guess_mapping(source.columns), **(mapping or {})}
    if "geopoint" not in mapping and "outline" not in mapping and not {"latitude", "longitude"} <= set(mapping):
        raise ImportFileError(
            [
                _("No coordinate columns: name them with --lat-column and --lon-column (columns: %(columns)s).")
                % {"columns": ", ".join(source.columns)}
            ]
        )
    missing = [c for c in mapping.values() if c not in source.columns]
    if missing:
        raise ImportFileError([_("No column named %(columns)s in the file.") % {"columns": ", ".join(missing)}])
    result = ImportResult(notices=source.notices + _notices(source.columns, mapping))
    problems: list[tuple[int, str]] = []
    # Staged on a connection of its own unless an enclosing transaction holds data (areas,
    # memberships) that another connection would not see yet (hazards/import_load.py).
    apart = not connection.in_atomic_block
    load = None
    try:
        with transaction.atomic():
            load = ImportLoad(actor, path.name, apart=apart, check=dry_run)
            # The file is read in one thread; apart, the chunks are staged in another, so
            # that reading, staging and writing each go on while the others wait.
            given: list | None = [] if update else None
            chunks = read_ahead(_checked(source, _row_checker(mapping, words, source.system), given))
            staged = load.staged(chunks, MAX_REPORTED)
            if apart:
                staged = read_ahead(staged)
            with closing(staged):
                for chunk, found, result.rows in staged:
                    problems += found
                    if not problems:
                        result.created += load.insert(chunk)
                    yield result.rows, max(source.count, result.rows)
                    if len(problems) >= MAX_REPORTED:
                        break
            if load.staging is not None:
                result.notices += [_near(*found) for found in load.staging.near]
            if not problems:
                load.finish(result.rows, result.created)
            load.close()
            if update and not problems:
                # After the load: its triggers are back to recording every change.
                updates = import_update.apply(actor=actor, rows=given, given=_given_fields(mapping))
                problems += updates.problems
                result.updated = updates.updated
                result.changes = [row_problem(n, text) for n, text in updates.changes[:MAX_CHANGES_LISTED]]
            if problems:
                result.problems = [row_problem(n, reason) for n, reason in sorted(problems)[:MAX_REPORTED]]
            else:
                result.unchanged = result.rows - result.created - result.updated
            if problems or dry_run:
                transaction.set_rollback(True)
    finally:
        if load is not None:
            load.discard()
    return result


def _given_fields(mapping: dict) -> set[str]:
    """The site details and states a file's columns give (an update changes only those)."""
    return {name for name in [*import_update.DETAILS, "signage", "barrier"] if name in mapping}


def _near(number: int, code: str | None, other: int | None, name: str, metres: int) -> str:
    """A row within the duplicate radius of a site of the same kind (its code) or of an
    earlier row of the file (its number)."""
    if code is None:
        return row_problem(
            number,
            _("%(metres)d m from row %(row)d “%(name)s” of this file, of the same kind: a duplicate?")
            % {"metres": metres, "row": other, "name": name},
        )
    return row_problem(
        number,
        _("%(metres)d m from %(code)s “%(name)s”, a site of the same kind already in the registry: a duplicate?")
        % {"metres": metres, "code": code, "name": name},
    )


def import_sites(
    path: Path,
    *,
    actor,
    mapping: dict | None = None,
    words: dict | None = None,
    system: int | None = None,
    progress=None,
    update: bool = False,
    sheet: str | None = None,
) -> ImportResult:
    steps = import_steps(path, actor=actor, mapping=mapping, words=words, system=system, update=update, sheet=sheet)
    while True:
        try:
            done, total = next(steps)
        except StopIteration as finished:
            return finished.value
        if progress:
            progress(done, total)

"""Writing checked import rows into the registry in bulk, a chunk at a time while the
next chunk is read. Each chunk goes by COPY into a temporary table; mapping/assignment.py
gives every point its area; points outside every area or outside the importer's areas
are reported by row; while nothing is wrong, one statement inserts the chunk's sites and
their first inspections. At the end, one audit entry records the import (each site
points to it, with its row), and the map grid and the summary take all the new sites in
one statement each. Must run inside the caller's transaction."""

import datetime as dt
import io
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from accounts.audit import act_as
from accounts.scope import SURVEY, scope_for
from mapping.assignment import place_points
from mapping.models import Area

from .services import outside_every_area, outside_scope, site_code_sql


@dataclass(slots=True)
class ImportRow:
    """One checked row: a new site, and its first inspection when the row gives a state."""

    id: uuid.UUID
    name: str
    kind: str
    longitude: float
    latitude: float
    deep_water: bool
    depth_m: Decimal | None
    responsible_party: str
    notes: str
    signage: str | None
    barrier: str | None
    inspected_at: dt.datetime | None
    observed_at: dt.datetime | None
    clock_suspect: bool


# Each chunk arrives by COPY in import_chunk; import_owner holds each row's area.
# imported_sites collects the sites inserted, for the map grid and the summary at the end
# (mapping and reports migrations 0006 read it as they read a trigger's transition table).
STAGING = """
CREATE TEMPORARY TABLE import_chunk (
    row_no integer NOT NULL,
    id uuid NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    longitude float8 NOT NULL,
    latitude float8 NOT NULL,
    deep_water boolean NOT NULL,
    depth_m numeric,
    responsible_party text NOT NULL,
    notes text NOT NULL,
    signage text,
    barrier text,
    inspected_at timestamptz,
    observed_at timestamptz,
    clock_suspect boolean NOT NULL,
    location geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)) STORED
) ON COMMIT DROP;
CREATE TEMPORARY TABLE import_owner (row_no integer NOT NULL, area_id bigint NOT NULL) ON COMMIT DROP;
CREATE TEMPORARY TABLE imported_sites (LIKE hazards_site) ON COMMIT DROP;
"""
COLUMNS = "row_no, id, name, kind, longitude, latitude, deep_water, depth_m, responsible_party, notes, "
COLUMNS += "signage, barrier, inspected_at, observed_at, clock_suspect"
# Built after the COPY, in one sorted pass: kept up row by row, it cost a third of the COPY.
CHUNK_INDEX = "CREATE INDEX import_chunk_location ON import_chunk USING gist (location)"

# The first row of each site id (a list may name one site twice), in the file's order so
# codes follow it. Sites already in the registry (deleted ones too, and those of earlier
# chunks) are left as they are. Rows go in by location: neighbours then share the pages
# of the spatial and area indexes, which halved their upkeep. Each site names the
# import's audit entry and its row in the file.
INSERT = f"""
WITH firsts AS (
    SELECT r.*, o.area_id, nextval('hazards_site_code_seq') AS number
    FROM (SELECT DISTINCT ON (id) * FROM import_chunk ORDER BY id, row_no) r
    JOIN import_owner o USING (row_no)
    ORDER BY r.row_no
), sites AS (
    INSERT INTO hazards_site (
        id, code, kind, name, location, area_id, deep_water, depth_m, responsible_party, notes, is_temporary,
        active_from, close_reason, signage, barrier, last_checked_at, photo_evidence, created_by_id, created_at,
        updated_at, client_fingerprint, import_entry_id, import_row)
    SELECT id, {site_code_sql("number")}, kind, name, location, area_id, deep_water, depth_m, responsible_party, notes,
           false, %(today)s, '', coalesce(signage, 'none'), coalesce(barrier, 'none'), observed_at, false, %(actor)s,
           %(now)s, %(now)s, '', %(entry)s, row_no
    FROM firsts
    ORDER BY location
    ON CONFLICT (id) DO NOTHING
    RETURNING *
), kept AS (
    INSERT INTO imported_sites SELECT * FROM sites
), inspections AS (
    INSERT INTO hazards_inspection (
        id, site_id, inspected_at, received_at, observed_at, clock_suspect, inspector_id, signage, barrier,
        water_present, notes, client_fingerprint)
    SELECT uuid_in(md5(f.id::text || ' imported inspection')::cstring), f.id, f.inspected_at, %(now)s, f.observed_at,
           f.clock_suspect, %(actor)s, f.signage, f.barrier, true, '', ''
    FROM firsts f JOIN sites USING (id)
    WHERE f.signage IS NOT NULL
)
SELECT count(*) FROM sites
"""  # noqa: S608 - built from constants

# The import's one audit entry: what a site's history shows as its creation, with the row
# its import_row names (one entry per site and inspection cost a quarter of the import).
ENTRY = """
INSERT INTO accounts_auditentry (id, at, actor_id, action, "table", object_id, site_id, area_path, changes)
VALUES (%(entry)s, clock_timestamp(), %(actor)s, 'insert', 'hazards_site', left(%(file)s, 64), NULL, %(path)s,
        jsonb_build_object('imported_from', %(file)s, 'rows', %(rows)s, 'sites_added', %(added)s))
"""

# COPY's text format: backslash escapes, \N for nothing.
ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value).translate(ESCAPES)


def copy_line(number: int, row: ImportRow) -> str:
    """A row as COPY reads it into import_chunk."""
    values = (
        number, row.id, row.name, row.kind, row.longitude, row.latitude, row.deep_water, row.depth_m,
        row.responsible_party, row.notes, row.signage, row.barrier, row.inspected_at, row.observed_at,
        row.clock_suspect,
    )  # fmt: skip
    return "\t".join(map(_copy_value, values)) + "\n"


def common_path(paths) -> str:
    """The path of the lowest area holding every one of `paths` ("/99/991/" of
    "/99/991/99101/" and "/99/991/99102/"), "" for none or no common area."""
    parts = [path.strip("/").split("/") for path in paths]
    common = []
    for level in zip(*parts, strict=False) if parts else ():
        if len(set(level)) > 1:
            break
        common.append(level[0])
    return f"/{'/'.join(common)}/" if common else ""


class ImportLoad:
    """The rows of one import, a chunk at a time: `add` stages and places a chunk and
    returns its problems; `insert` writes it; `finish` after the last chunk; `close`."""

    def __init__(self, actor, file_name: str):
        self.actor = actor
        self.file_name = file_name
        self.scope = scope_for(actor)
        self.paths: set[str] = set()
        # One moment for the whole file, whichever chunk a site comes in.
        self.moment = {"today": timezone.localdate(), "now": timezone.now(), "actor": actor.pk}
        act_as(actor)
        with connection.cursor() as cursor:
            cursor.execute(STAGING)
            # The entry is written at the end, with the counts; the sites name it before.
            cursor.execute("SELECT nextval(pg_get_serial_sequence('accounts_auditentry', 'id'))")
            self.moment["entry"] = cursor.fetchone()[0]
            # The audit, grid and summary triggers leave this transaction's inserts to
            # INSERT and finish below.
            cursor.execute("SELECT set_config('registry.import', %s, true)", [file_name])
            # Keys checked with each chunk, while the next is read, not all at the end.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            # Compiling the placing statement took a fifth of its run, for every chunk.
            cursor.execute("SET LOCAL jit = off")

    def add(self, lines: str, limit: int) -> list[tuple[int, str]]:
        """Stages a chunk of rows (copy_line of each), gives each its area and returns
        (row, reason) of up to `limit` rows outside every loaded area or the importer's areas."""
        problems = []
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE import_chunk, import_owner")
            cursor.execute("DROP INDEX IF EXISTS import_chunk_location")
            # In one block: in 8 KB blocks, each block waits for the GIL from the
            # read-ahead thread; a chunk's COPY was seen to take 2 s instead of 0.4 s.
            copy = f"COPY import_chunk ({COLUMNS}) FROM STDIN"
            cursor.cursor.copy_expert(copy, io.StringIO(lines), size=max(len(lines), 8192))
            cursor.execute(CHUNK_INDEX)
            if place_points(cursor, "import_chunk", "import_owner"):
                cursor.execute(
                    "SELECT row_no FROM import_chunk c WHERE NOT EXISTS "
                    "(SELECT FROM import_owner o WHERE o.row_no = c.row_no) ORDER BY row_no LIMIT %s",
                    [limit],
                )
                problems = [(number, outside_every_area()) for (number,) in cursor.fetchall()]
            cursor.execute("SELECT DISTINCT area_id FROM import_owner")
            areas = Area.objects.only("name", "path").in_bulk([area_id for (area_id,) in cursor.fetchall()])
            self.paths.update(area.path for area in areas.values())
            refused = [area_id for area_id, area in areas.items() if not self.scope.allows(SURVEY, area)]
            if refused:
                cursor.execute(
                    "SELECT row_no, area_id FROM import_owner WHERE area_id = ANY(%s) ORDER BY row_no LIMIT %s",
                    [refused, limit],
                )
                problems += [(number, outside_scope(areas[area_id])) for number, area_id in cursor.fetchall()]
        return problems

    def insert(self) -> int:
        """Writes the chunk's sites (with their first inspections); returns how many were new."""
        with connection.cursor() as cursor:
            cursor.execute(INSERT, self.moment)
            return cursor.fetchone()[0]

    def finish(self, rows: int, added: int) -> None:
        """Records the import in the audit trail (when it added sites) and adds every
        site inserted to the map grid and the summary."""
        with connection.cursor() as cursor:
            if added:
                details = {"file": self.file_name, "rows": rows, "added": added, "path": common_path(self.paths)}
                cursor.execute(ENTRY, {**self.moment, **details})
            cursor.execute("SELECT mapping_cells_add_imported(), reports_summary_add_imported()")

    def close(self) -> None:
        # Within an enclosing transaction (a test's, a caller's) these would outlive the
        # import: ON COMMIT DROP waits for its end, and later inserts would skip the
        # triggers. Every key of the schema is deferred until commit, as Django makes it.
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE import_chunk, import_owner, imported_sites")
            cursor.execute("SELECT set_config('registry.import', '', true)")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute("SET LOCAL jit = DEFAULT")

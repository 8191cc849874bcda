"""Writing checked import rows into the registry in bulk, in two steps that overlap.

Staging (ImportStaging): each chunk goes by COPY into a temporary table,
areas/assignment.py gives every point its area, points outside every area or outside
the importer's areas are reported by row, and while nothing is wrong the chunk's rows
are kept, numbered and ready to insert, in the import's staging table. Loading
(ImportLoad): one statement per staged chunk inserts its sites and their first
inspections; at the end one audit entry records the import (each site names it, with
its row) and sites_imported (hazards/signals.py) hands all the new sites to the apps
above, the map grid and the summary, which take them in one statement each.

Staging runs on a connection of its own, in the thread that reads the file
(common/readahead.py), so that it and the reading share one core while the loading has
the other: on one connection the database did all of it and was the import's bottleneck.
Its tables are committed as it goes (scratch only: the registry is written by the
loading, in the caller's transaction, all or nothing). Inside an enclosing transaction,
whose uncommitted areas another connection would not see, staging runs on the caller's
connection instead, with the same statements."""

import datetime as dt
import math
import time
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.audit import act_as
from accounts.scope import SURVEY, VIEW, Scope, scope_for
from areas.assignment import place_points
from areas.models import Area

from .models import Site
from .rules import DUPLICATE_RADIUS_M
from .services import outside_every_area, outside_scope, site_code_sql
from .signals import sites_imported

NEAR_LISTED = 200


@dataclass(slots=True)
class ImportRow:
    """One checked row: a new site, and its first inspection when the row gives a state."""

    id: str
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
    outline: str | None = None  # EWKT of a polygon the file gives
    placed: bool = False  # the point is one on the outline's surface, not the file's
    given: bool = False  # the id is the file's own (a site's, in a list exported by the registry)
    outline_removed: bool = False  # the outline cell says to remove the site's outline (import_columns.REMOVE_OUTLINE)


# Each chunk arrives by COPY in import_chunk; import_owner holds each row's area. Both
# belong to the staging connection's session, for the whole import.
CHUNK_TABLES = """
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
    outline geometry(Polygon, 4326),
    location geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)) STORED
);
CREATE TEMPORARY TABLE import_owner (row_no integer NOT NULL, area_id bigint NOT NULL);
"""
COLUMNS = "row_no, id, name, kind, longitude, latitude, deep_water, depth_m, responsible_party, notes, "
COLUMNS += "signage, barrier, inspected_at, observed_at, clock_suspect, outline"
# Built after the COPY, in one sorted pass: kept up row by row, it cost a third of the COPY.
CHUNK_INDEX = "CREATE INDEX import_chunk_location ON import_chunk USING gist (location)"

# The first row of each site id in the chunk (a list may name one site twice), numbered
# in the file's order so codes follow it, and kept by location: neighbours then share
# the pages of the spatial and area indexes when inserted, which halved their upkeep.
# {number} is NUMBERS or, in a check, CHECK_NUMBERS.
READY = f"""
WITH firsts AS MATERIALIZED (
    SELECT r.*, o.area_id, {{number}} AS number
    FROM (SELECT DISTINCT ON (id) * FROM import_chunk ORDER BY id, row_no) r
    JOIN import_owner o USING (row_no)
    ORDER BY r.row_no
)
SELECT %(chunk)s AS chunk, row_no, id, coalesce({site_code_sql("number")}, %(check)s || to_hex(row_no)) AS code,
       kind, name, location, outline, area_id,
       deep_water, depth_m, responsible_party, notes, signage, barrier, inspected_at, observed_at, clock_suspect
FROM firsts
ORDER BY location
"""  # noqa: S608 - built from constants
# A sequence is not undone with the transaction: a check drawing codes from it moved every
# later site's code (45 checks of one person: HZ-1500202 after HZ-000200, pentest P9). A
# check's sites, inserted and undone, take codes of their own instead: the %(check)s
# prefix of the run and the row, which no site keeps and no other transaction holds, so
# a registration meanwhile never waits on one of them.
NUMBERS = "nextval('hazards_site_code_seq')"
CHECK_NUMBERS = "NULL::bigint"
KEEP = "INSERT INTO {staged} " + READY
# The staging table: every chunk's ready rows. Unlogged: scratch, rebuilt by importing
# the file again. Its name starts with the time it was made, so that one left by a
# crashed import can be told from one in use (drop_abandoned).
STAGED_PREFIX = "import_staged_"
STAGED = "CREATE UNLOGGED TABLE {staged} AS " + READY + " WITH NO DATA; CREATE INDEX ON {staged} (chunk);"
# The staged rows by kind and grid cell, for the near-site check of later chunks
# (NEAR_IN_FILE). Cells are at least twice the radius wide anywhere in the country (a
# degree of longitude is shortest at its northern edge), so a row's neighbours lie in at
# most 2 x 2 of them. A B-tree: a spatial index on rows packed in a few metres cost as
# much as the rest of the import.
_METRES_PER_DEGREE_NORTH = 111_320 * math.cos(math.radians(settings.COUNTRY_BOUNDS[3]))
NEAR_GRID_DEG = math.ceil(2 * DUPLICATE_RADIUS_M / _METRES_PER_DEGREE_NORTH * 1e5) / 1e5
CELL_KEY = f"(floor(ST_X({{0}}) / {NEAR_GRID_DEG})::bigint * 1000000 + floor(ST_Y({{0}}) / {NEAR_GRID_DEG})::bigint)"
STAGED_PLACES = "CREATE INDEX ON {staged} (kind, " + CELL_KEY.format("location") + ")"

# imported_sites collects the sites inserted, for the receivers of sites_imported at the
# end (hazards/signals.py), which read it as they read a trigger's transition table.
LOADING = "CREATE TEMPORARY TABLE imported_sites (LIKE hazards_site) ON COMMIT DROP"
# The site columns an imported site leaves empty (NULL, or '' by the column's database
# default for close_note): the file has none of them, and the services set none at
# registration but expected_end, which a person gives for works under construction (an
# import has no column for it). Every other column is written by INSERT below, the sign,
# barrier, last check and photo evidence as the services derive them from the first
# inspection (tests/hazards/test_import_columns.py holds both to the model and the rule).
LEFT_EMPTY = {
    "expected_end",
    "closed_at",
    "close_note",
    "duplicate_of_id",
    "current_since",
    "deleted_at",
    "deleted_by_id",
}
# A staged chunk into the registry. Sites already there (deleted ones too, and those of
# earlier chunks) are left as they are. Each site names the import's audit entry and its
# row in the file.
INSERT = """
WITH sites AS (
    INSERT INTO hazards_site (
        id, code, kind, name, location, outline, area_id, deep_water, depth_m, responsible_party, notes, is_temporary,
        active_from, close_reason, signage, barrier, last_checked_at, photo_evidence, created_by_id, created_at,
        updated_at, client_fingerprint, import_entry_id, import_row)
    SELECT id, code, kind, name, location, outline, area_id, deep_water, depth_m, responsible_party, notes,
           false, least(%(today)s, registry_local_date(observed_at)), '', coalesce(signage, 'none'),
           coalesce(barrier, 'none'), observed_at, false, %(actor)s,
           %(now)s, %(now)s, '', %(entry)s, row_no
    FROM {staged} WHERE chunk = %(chunk)s
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
    FROM {staged} f JOIN sites USING (id)
    WHERE f.chunk = %(chunk)s AND f.signage IS NOT NULL
)
SELECT count(*) FROM sites
"""

# The import's one audit entry: what a site's history shows as its creation, with the row
# its import_row names (one entry per site and inspection cost a quarter of the import).
ENTRY = """
INSERT INTO accounts_auditentry (id, at, actor_id, action, "table", object_id, site_id, area_path, changes)
VALUES (%(entry)s, clock_timestamp(), %(actor)s, 'insert', 'hazards_site', left(%(file)s, 64), NULL, %(path)s,
        jsonb_build_object('imported_from', %(file)s, 'rows', %(rows)s, 'sites_added', %(added)s))
"""
ABANDONED_AFTER_S = 24 * 3600
# The near-site check (the survey app's duplicate rule, hazards/survey.py): each row of a
# chunk near a site of the same kind already in the registry, or near an earlier row of
# the file. The box in degrees (30 m is under 0.0003° of longitude anywhere in the
# country) lets an index find the candidates; distances are measured on the spheroid.
#
# The registry is searched once per grid cell of NEAR_CELL_DEG that the chunk's rows
# fall in, not once per row: the site index also holds the import's own rows, inserted
# by the loading connection and not yet committed, which a search must visit to find
# them invisible. Searched row by row, rows packed within metres of each other (one
# coordinate copied down a list) made each row visit every other: 150,000 rows in a 45 m
# square never finished. Per cell, each entry is visited once a chunk.
# Only sites the importer may see are candidates (`visible`: the areas of their VIEW
# scope, NULL for all): the notice names the site, and a site across the border of their
# areas is not theirs to know of, not even counted (a duplicate across a border is for
# the managers who see both).
NEAR_CELL_DEG = 0.001
NEAR_REGISTRY = """
WITH cells AS MATERIALIZED (
    SELECT DISTINCT kind, floor(longitude / %(cell)s)::int AS cx, floor(latitude / %(cell)s)::int AS cy
    FROM import_chunk
), candidates AS MATERIALIZED (
    SELECT cells.*, s.id, s.code, s.name, s.location
    FROM cells CROSS JOIN LATERAL (
        SELECT id, code, name, location FROM hazards_site s
        WHERE s.deleted_at IS NULL AND s.kind = cells.kind
          AND (%(visible)s::bigint[] IS NULL OR s.area_id = ANY(%(visible)s::bigint[]))
          AND s.location && ST_MakeEnvelope(
              cells.cx * %(cell)s - %(box)s, cells.cy * %(cell)s - %(box)s,
              (cells.cx + 1) * %(cell)s + %(box)s, (cells.cy + 1) * %(cell)s + %(box)s, 4326)
    ) s
)
SELECT DISTINCT ON (c.row_no) c.row_no, s.code, s.name,
       round(ST_Distance(c.location::geography, s.location::geography))::int
FROM import_chunk c
JOIN candidates s ON s.kind = c.kind AND s.cx = floor(c.longitude / %(cell)s)::int
                 AND s.cy = floor(c.latitude / %(cell)s)::int AND s.id <> c.id
                 AND s.location && ST_Expand(c.location, %(box)s)
WHERE ST_DWithin(s.location::geography, c.location::geography, %(metres)s)
ORDER BY c.row_no, ST_Distance(c.location::geography, s.location::geography)
LIMIT %(limit)s
"""
# An earlier row of the file, of another site of the same kind, within the radius: in
# this chunk (its own spatial index) or in one staged before (the staging table's index
# of grid cells: `cells` are those within the radius of the row).
# Rows are taken in the file's order and the search stops at the first found, so a file
# of rows packed together finds its list's worth at once.
NEAR_IN_FILE = """
SELECT c.row_no, e.row_no, e.name, round(ST_Distance(c.location::geography, e.location::geography))::int
FROM (
    SELECT *, ARRAY(
        SELECT x * 1000000 + y
        FROM generate_series(floor((longitude - %(box)s) / %(grid)s)::bigint,
                             floor((longitude + %(box)s) / %(grid)s)::bigint) x,
             generate_series(floor((latitude - %(box)s) / %(grid)s)::bigint,
                             floor((latitude + %(box)s) / %(grid)s)::bigint) y
    ) AS cells
    FROM import_chunk ORDER BY row_no
) c
CROSS JOIN LATERAL (
    (SELECT row_no, name, location FROM import_chunk e
     WHERE e.kind = c.kind AND e.id <> c.id AND e.row_no < c.row_no
       AND e.location && ST_Expand(c.location, %(box)s)
       AND ST_DWithin(e.location::geography, c.location::geography, %(metres)s)
     LIMIT 1)
    UNION ALL
    (SELECT row_no, name, location FROM {staged} e
     WHERE e.kind = c.kind AND e.id <> c.id AND {cell} = ANY (c.cells)
       AND ST_DWithin(e.location::geography, c.location::geography, %(metres)s)
     LIMIT 1)
    LIMIT 1
) e
WHERE c.row_no NOT IN (SELECT unnest(%(listed)s::int[]))
LIMIT %(limit)s
"""


# COPY's text format: backslash escapes, \N for nothing.
ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: str) -> str:
    return value.translate(ESCAPES)


def _or_null(value) -> str:
    """A value whose text needs no escaping (numbers, choices, times), or \\N for None."""
    if value is None:
        return "\\N"
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)


def copy_line(number: int, row: ImportRow) -> str:
    """A row as COPY reads it into import_chunk. Only the free texts are escaped: the
    other values are numbers, ids, choices and times (a third of the reading time went
    to escaping every value)."""
    return (
        f"{number}\t{row.id}\t{_text(row.name)}\t{row.kind}\t{row.longitude!r}\t{row.latitude!r}\t"
        f"{row.deep_water}\t{_or_null(row.depth_m)}\t{_text(row.responsible_party)}\t{_text(row.notes)}\t"
        f"{_or_null(row.signage)}\t{_or_null(row.barrier)}\t{_or_null(row.inspected_at)}\t"
        f"{_or_null(row.observed_at)}\t{row.clock_suspect}\t{_or_null(row.outline)}\n"
    )


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


class ImportStaging:
    """Stages chunks on the current thread's connection (see the module's text); made
    and used in one thread. `stage` one chunk after the other, then `close`."""

    def __init__(self, staged: str, scope: Scope, check: str | None = None):
        self.staged = staged
        self.scope = scope
        # A check's code prefix (ImportLoad), None for an import: see NUMBERS.
        self.codes = {"number": CHECK_NUMBERS if check else NUMBERS, "check": check}
        self.paths: set[str] = set()
        # (row, code, None, name, metres) of rows near a site of the same kind, and (row,
        # None, other row, name, metres) of rows near an earlier row of the file: the
        # first NEAR_LISTED in the file's order.
        self.near: list[tuple[int, str | None, int | None, str, int]] = []
        # The areas whose sites the near-site check may name (NEAR_REGISTRY); None: all.
        areas = scope.restrict(Area.objects.all(), VIEW)
        self.visible = None if scope.everything else list(areas.values_list("pk", flat=True))
        with connection.cursor() as cursor:
            cursor.execute(CHUNK_TABLES)
            cursor.execute(STAGED.format(staged=staged, number=self.codes["number"]), {"chunk": 0, **self.codes})
            cursor.execute(STAGED_PLACES.format(staged=staged))

    def stage(self, chunk: int, lines: str, limit: int, keep: bool) -> list[tuple[int, str]]:
        """Stages a chunk of rows (copy_line of each), gives each its area and returns
        (row, reason) of up to `limit` rows outside every loaded area or the importer's
        areas. With `keep` and no such row, the chunk is kept, ready to insert."""
        problems = []
        with transaction.atomic(), connection.cursor() as cursor:
            # Compiling the placing statement took a fifth of its run, for every chunk.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("TRUNCATE import_chunk, import_owner")
            cursor.execute("DROP INDEX IF EXISTS import_chunk_location")
            # The chunk's text in one write: psycopg sends it in large blocks (in 8 KB
            # blocks each one waited for the GIL from the read-ahead thread).
            with cursor.cursor.copy(f"COPY import_chunk ({COLUMNS}) FROM STDIN") as copy:
                copy.write(lines)
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
            if keep and not problems:
                if len(self.near) < NEAR_LISTED:
                    self._check_near(cursor)  # before the chunk is kept: earlier chunks only
                cursor.execute(
                    KEEP.format(staged=self.staged, number=self.codes["number"]), {"chunk": chunk, **self.codes}
                )
        return problems

    def _check_near(self, cursor) -> None:
        """Rows of the chunk near a site of the same kind in the registry, else near an
        earlier row of the file; the first NEAR_LISTED of the file's order are kept."""
        params = {"cell": NEAR_CELL_DEG, "box": DUPLICATE_RADIUS_M / 100_000, "metres": DUPLICATE_RADIUS_M}
        cursor.execute(NEAR_REGISTRY, {**params, "visible": self.visible, "limit": NEAR_LISTED})
        registry = cursor.fetchall()
        listed = [row for row, *_site in registry]
        in_file = NEAR_IN_FILE.format(staged=self.staged, cell=CELL_KEY.format("e.location"))
        cursor.execute(in_file, {**params, "grid": NEAR_GRID_DEG, "listed": listed, "limit": NEAR_LISTED})
        in_file = cursor.fetchall()
        found = [(row, code, None, name, metres) for row, code, name, metres in registry]
        found += [(row, None, other, name, metres) for row, other, name, metres in in_file]
        self.near = sorted(self.near + found)[:NEAR_LISTED]

    def close(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE import_chunk, import_owner")


class ImportLoad:
    """One import into the registry: `staged` turns checked chunks into staged ones,
    `insert` writes each, `finish` after the last, `close`; `discard` after the caller's
    transaction ends. Made inside the transaction that writes the registry."""

    def __init__(self, actor, file_name: str, *, apart: bool, check: bool = False):
        self.actor = actor
        self.file_name = file_name
        self.apart = apart
        self.scope = scope_for(actor)
        self.staging: ImportStaging | None = None
        run = uuid.uuid4().hex[:12]
        self.staged_table = f"{STAGED_PREFIX}{int(time.time())}_{run}"
        # A check's codes (NUMBERS): "~", the run, the row in hex; 20 characters at most.
        self.check = f"~{run[:8]}-" if check else None
        # One moment for the whole file, whichever chunk a site comes in.
        # A site is active from its first observation: its row's inspection, if earlier than today.
        self.moment = {
            "today": timezone.localdate(),
            "now": timezone.now(),
            "actor": actor.pk,
        }
        act_as(actor)
        with connection.cursor() as cursor:
            cursor.execute(LOADING)
            # The entry is written at the end, with the counts; the sites name it before.
            cursor.execute("SELECT nextval(pg_get_serial_sequence('accounts_auditentry', 'id'))")
            self.moment["entry"] = cursor.fetchone()[0]
            # The audit, grid and summary triggers leave this transaction's inserts to
            # INSERT and finish below.
            cursor.execute("SELECT set_config('registry.import', %s, true)", [file_name])
            # Keys checked with each chunk, while the next is read, not all at the end.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL jit = off")
        if apart:
            drop_abandoned()

    def staged(self, chunks: Generator[tuple[str, list, int]], limit: int) -> Iterator[tuple[int, list, int]]:
        """(chunk number, problems, rows read) for each (COPY lines, problems, rows read)
        of `chunks`, staged on this thread's connection; stops staging rows to insert
        once a problem is found, and reports at most `limit` problems in all."""
        found = 0
        try:
            self.staging = ImportStaging(self.staged_table, self.scope, self.check)
            for number, (lines, problems, read) in enumerate(chunks):
                keep = not found and not problems
                problems = problems + self.staging.stage(number, lines, max(limit - found, 0), keep)
                found += len(problems)
                yield number, problems, read
            self.staging.close()
        finally:
            chunks.close()  # a read-ahead thread stops with it
            if self.apart:
                connection.close()  # this thread's own connection

    def insert(self, chunk: int) -> int:
        """Writes a staged chunk's sites (with their first inspections); returns how many were new."""
        with connection.cursor() as cursor:
            cursor.execute(INSERT.format(staged=self.staged_table), {**self.moment, "chunk": chunk})
            return cursor.fetchone()[0]

    def finish(self, rows: int, added: int) -> None:
        """Records the import in the audit trail (when it added sites) and hands every
        site inserted to the apps above (sites_imported)."""
        with connection.cursor() as cursor:
            if added:
                details = {"file": self.file_name, "rows": rows, "added": added}
                cursor.execute(ENTRY, {**self.moment, **details, "path": common_path(self.staging.paths)})
            # Statistics first: planned blind, the grid's grouping took half again as long.
            cursor.execute("ANALYZE imported_sites")
        sites_imported.send(sender=Site)

    def close(self) -> None:
        # Within an enclosing transaction (a test's, a caller's) these would outlive the
        # import: ON COMMIT DROP waits for its end, and later inserts would skip the
        # triggers. Every key of the schema is deferred until commit, as Django makes it.
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE imported_sites")
            cursor.execute("SELECT set_config('registry.import', '', true)")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute("SET LOCAL jit = DEFAULT")

    def discard(self) -> None:
        """Drops the staging table, once the transaction that read it has ended."""
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.staged_table}")


def drop_abandoned() -> None:
    """Drops the staging tables of imports that ended without dropping theirs (a crash):
    those made more than a day ago."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relpersistence = 'u' AND relname LIKE %s",
            [STAGED_PREFIX.replace("_", "\\_") + "%"],
        )
        oldest = int(time.time()) - ABANDONED_AFTER_S
        for (name,) in cursor.fetchall():
            made = name[len(STAGED_PREFIX) :].split("_")[0]
            if made.isdigit() and int(made) < oldest:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")

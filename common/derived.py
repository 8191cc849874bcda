"""Tables derived from the sites by triggers, compared with a full rebuild.

`compare_with_rebuild` keeps a copy of each table, rebuilds them with their rebuild
function (the definition the triggers follow), and counts the rows that differ. It keeps
the rebuilt tables when asked to repair, else puts them back as they were.
"""

from dataclasses import dataclass

from django.db import connection, transaction

# Table and column names come from the callers' constants.
KEEP = "CREATE TEMPORARY TABLE {kept} AS SELECT {columns} FROM {table} WHERE {compared}"
DIFFERENT = """
SELECT count(*) FROM {kept} b
FULL JOIN (SELECT {columns} FROM {table} WHERE {compared}) a ON {joined}
WHERE a.{first} IS NULL OR b.{first} IS NULL OR {differs}
"""


@dataclass(frozen=True)
class Derived:
    """A derived table: its rows by `key`, compared in `values`. Without `zero_rows`, rows
    whose values are all zero count as absent (a table whose triggers leave them when
    counts fall to nothing). Floating sums are compared within `tolerance`, relative."""

    table: str
    key: list[str]
    values: list[str]
    tolerance: float = 0.0
    zero_rows: bool = True

    def names(self, kept: str) -> dict:
        """The names the statements above take, with `kept` the copy's."""
        return {
            "table": self.table,
            "kept": kept,
            "compared": "true" if self.zero_rows else " OR ".join(f"{v} <> 0" for v in self.values),
            "columns": ", ".join([*self.key, *self.values]),
            "joined": " AND ".join(f"b.{k} = a.{k}" for k in self.key),
            "first": self.key[0],
            "differs": " OR ".join(
                f"abs(b.{v} - a.{v}) > {self.tolerance} * greatest(abs(b.{v}), abs(a.{v}), 1)" for v in self.values
            ),
        }


class _Undo(Exception):
    """Rolls the rebuild back to the savepoint."""


def compare_with_rebuild(tables: list[Derived], rebuild: str, *, repair: bool) -> int:
    """How many rows of the `tables` are missing, extra or different against what one
    `SELECT rebuild()` makes of them all."""
    found = 0
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for i, derived in enumerate(tables):
                cursor.execute(KEEP.format(**derived.names(f"derived_before_{i}")))
            cursor.execute(f"SELECT {rebuild}()")
            for i, derived in enumerate(tables):
                cursor.execute(DIFFERENT.format(**derived.names(f"derived_before_{i}")))
                found += cursor.fetchone()[0]
                cursor.execute(f"DROP TABLE derived_before_{i}")
            if not (repair and found):
                raise _Undo
    except _Undo:
        pass
    return found

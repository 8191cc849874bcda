"""Tables derived from the sites by triggers, compared with a full rebuild.

`compare_with_rebuild` keeps a copy of the table, rebuilds it with its rebuild function
(the definition the triggers follow), and counts the rows that differ. It keeps the
rebuilt table when asked to repair, else puts the table back as it was.
"""

from django.db import connection, transaction

# Table and column names come from the callers' constants.
KEEP = "CREATE TEMPORARY TABLE derived_before AS SELECT {columns} FROM {table} WHERE {compared}"
DIFFERENT = """
SELECT count(*) FROM derived_before b
FULL JOIN (SELECT {columns} FROM {table} WHERE {compared}) a ON {joined}
WHERE a.{first} IS NULL OR b.{first} IS NULL OR {differs}
"""


class _Undo(Exception):
    """Rolls the rebuild back to the savepoint."""


def compare_with_rebuild(
    table: str,
    key: list[str],
    values: list[str],
    rebuild: str,
    *,
    repair: bool,
    tolerance: float = 0.0,
    zero_rows: bool = True,
) -> int:
    """How many rows of `table` (by `key`) are missing, extra or different in `values`
    against what `SELECT rebuild()` makes. Without `zero_rows`, rows whose values are all
    zero count as absent (a table whose triggers leave them when counts fall to nothing).
    Floating sums are compared within `tolerance`, relative."""
    names = {
        "table": table,
        "compared": "true" if zero_rows else " OR ".join(f"{v} <> 0" for v in values),
        "columns": ", ".join([*key, *values]),
        "joined": " AND ".join(f"b.{k} = a.{k}" for k in key),
        "first": key[0],
        "differs": " OR ".join(
            f"abs(b.{v} - a.{v}) > {tolerance} * greatest(abs(b.{v}), abs(a.{v}), 1)" for v in values
        ),
    }
    found = 0
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(KEEP.format(**names))
            cursor.execute(f"SELECT {rebuild}()")
            cursor.execute(DIFFERENT.format(**names))
            found = cursor.fetchone()[0]
            cursor.execute("DROP TABLE derived_before")
            if not (repair and found):
                raise _Undo
    except _Undo:
        pass
    return found

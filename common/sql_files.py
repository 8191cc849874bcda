"""The migration that applies an app's SQL file (`<app>/sql/<name>`): each family of
database triggers is one readable file, and migrations share it through here, never by
importing one another.

A migration applies the file as it is when the migration runs, not as it was when the
migration was written (README, "Derived data"): a database migrated from zero gets the
current text at every migration that applies the file, and the last of them runs after
every table and column the file names exists. PL/pgSQL bodies are only checked when they
run; an early migration passes check_bodies=False so that the SQL-language functions the
file also holds are not checked against tables and columns later migrations create.
"""

from pathlib import Path

from django.db import migrations

ROOT = Path(__file__).resolve().parent.parent


def apply_sql_file(app: str, name: str, *, reverse_sql=None, check_bodies: bool = True) -> migrations.RunSQL:
    text = (ROOT / app / "sql" / name).read_text()
    if check_bodies:
        return migrations.RunSQL(text, reverse_sql)
    # SET LOCAL lasts until the migration's transaction ends: set it back for the operations after.
    sql = ["SET LOCAL check_function_bodies = off", text, "SET LOCAL check_function_bodies = on"]
    return migrations.RunSQL(sql, reverse_sql)

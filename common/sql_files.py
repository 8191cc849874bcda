"""The migration that applies an app's SQL file (`<app>/sql/<name>`): each family of
database triggers is one readable file, and migrations share it through here, never by
importing one another.

A migration applies the file as it is when the migration runs, not as it was when the
migration was written (README, "Derived data"): a database migrated from zero gets the
current text at every migration that applies the file, and the last of them runs after
every table and column the file names exists. A database already migrated gets a changed
file only from a new migration: the newest migration applying a file names the digest
of the text it was written for (`sha256`), and a test fails when the file has changed
since (tests/config/test_sql_files.py). PL/pgSQL bodies are only checked when they
run; an early migration passes check_bodies=False so that the SQL-language functions the
file also holds are not checked against tables and columns later migrations create.
"""

import hashlib
from pathlib import Path

from django.db import migrations

ROOT = Path(__file__).resolve().parent.parent


class SQLFile(migrations.RunSQL):
    """RunSQL of an app's SQL file, which says which file and, in the newest migration
    applying it, the digest of the text that migration was written for."""

    def __init__(self, sql, reverse_sql, *, app: str, name: str, sha256: str | None):
        super().__init__(sql, reverse_sql)
        self.app, self.name, self.sha256 = app, name, sha256


def sql_file_path(app: str, name: str) -> Path:
    return ROOT / app / "sql" / name


def digest(app: str, name: str) -> str:
    return hashlib.sha256(sql_file_path(app, name).read_bytes()).hexdigest()


def apply_sql_file(
    app: str, name: str, *, sha256: str | None = None, reverse_sql=None, check_bodies: bool = True
) -> SQLFile:
    text = sql_file_path(app, name).read_text()
    sql = text
    if not check_bodies:
        # SET LOCAL lasts until the migration's transaction ends: set it back for the operations after.
        sql = ["SET LOCAL check_function_bodies = off", text, "SET LOCAL check_function_bodies = on"]
    return SQLFile(sql, reverse_sql, app=app, name=name, sha256=sha256)

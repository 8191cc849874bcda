"""A database already migrated gets a changed SQL file (triggers, rebuilds) only from a
new migration that applies it again (common/sql_files.py): the newest migration of the
file's own app applying it names the digest of the text it was written for."""

from django.db.migrations.loader import MigrationLoader

from common.sql_files import SQLFile, digest


def newest_applications() -> dict[tuple[str, str], tuple[str, SQLFile]]:
    """Each SQL file, with the last migration of its own app that applies it (no other
    of them depends on it)."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    appliers: dict[tuple[str, str], list] = {}
    for key, migration in graph.nodes.items():
        for operation in migration.operations:
            if isinstance(operation, SQLFile) and operation.app == key[0]:
                appliers.setdefault((operation.app, operation.name), []).append((key, operation))
    newest = {}
    for sql_file, found in appliers.items():
        last = [
            (k, op) for k, op in found if not any(k in graph.forwards_plan(other) for other, _op in found if other != k)
        ]
        ((key, operation),) = last
        newest[sql_file] = (".".join(key), operation)
    return newest


def test_the_newest_migration_applying_each_sql_file_was_written_for_its_text():
    newest = newest_applications()
    assert set(newest) == {
        ("accounts", "audit.sql"), ("hazards", "audit.sql"), ("reports", "audit.sql"),
        ("reports", "summary.sql"), ("mapping", "site_cells.sql"),
        ("mapping", "tile_grants.sql"),
    }  # fmt: skip
    stale = [
        f"{app}/sql/{name}: changed since {migration}; add a migration that applies it again, with its sha256"
        for (app, name), (migration, operation) in newest.items()
        if operation.sha256 != digest(app, name)
    ]
    assert stale == []

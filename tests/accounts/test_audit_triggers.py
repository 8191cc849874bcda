"""Every audited table has the audit's three triggers, written by registry_audit_attach
(accounts/sql/audit.sql) from one SQL file, its own app's: the coverage check's list
(accounts.derived.AUDITED, which each app fills in) and the triggers name the same tables."""

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.derived import AUDITED

ROOT = Path(settings.BASE_DIR)
EVENTS = {"inserted": "INSERT", "updated": "UPDATE", "deleted": "DELETE"}


def attached_in_files() -> list[tuple[str, str]]:
    """(app, table) for each table an app's SQL file attaches."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*/sql/*.sql"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [
        (name.split("/")[0], table)
        for name in files
        for table in re.findall(r"registry_audit_attach\(\s*'(\w+)'", (ROOT / name).read_text())
    ]


def test_each_audited_table_is_attached_once_by_its_own_app():
    attached = attached_in_files()
    twice = [table for table, times in Counter(table for _app, table in attached).items() if times > 1]
    assert twice == []
    assert {table for _app, table in attached} == set(AUDITED)
    assert [(app, table) for app, table in attached if not table.startswith(f"{app}_")] == []


@pytest.mark.django_db
def test_each_audited_table_has_its_three_triggers():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT tgrelid::regclass::text, tgname, tgnargs
            FROM pg_trigger WHERE tgfoid = 'registry_audit'::regproc AND NOT tgisinternal
            """
        )
        triggers = cursor.fetchall()
    found = {(table, name) for table, name, _nargs in triggers}
    assert found == {(table, f"{table}_audit_{event}") for table in AUDITED for event in EVENTS}
    # Written by registry_audit_attach: its four arguments (left-out columns, site, joins, area).
    assert {nargs for _table, _name, nargs in triggers} == {4}

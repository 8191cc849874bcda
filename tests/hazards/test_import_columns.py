"""The bulk import writes sites in its own SQL (hazards/import_load.py) beside the
services' ORM writes: every column of a site is either written there or named as left
empty, so a column added to the model fails here until the import decides about it; a
column only one of the import and a registration writes fails too; and the state the
import writes is the one the services' rule derives."""

import ast
import csv
import inspect
import re

import pytest

from hazards import imports, services
from hazards.current_state import current_state_differences
from hazards.import_load import INSERT, LEFT_EMPTY
from hazards.models import Site
from tests.conftest import inside


def imported_columns() -> set[str]:
    listed = re.search(r"INSERT INTO hazards_site \((.*?)\)", INSERT, re.DOTALL).group(1)
    return {name.strip() for name in listed.split(",")}


def test_the_import_writes_or_leaves_empty_every_site_column():
    columns = {field.column for field in Site._meta.concrete_fields if not field.generated}
    written = imported_columns()
    assert written.isdisjoint(LEFT_EMPTY)
    assert written | LEFT_EMPTY == columns


@pytest.mark.django_db
def test_an_imported_site_has_the_state_the_services_rule_derives(tmp_path, demo_tree, superuser):
    """The import writes each site's sign, barrier, last check and photo evidence with
    the site itself; the services derive them from its inspections (hazards/current_state.py).
    Compared with that rule, no imported site differs."""
    a, b, c = (inside(demo_tree[code]) for code in ("99101", "99102", "99103"))
    path = tmp_path / "sites.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(
            [
                ["name", "kind", "latitude", "longitude", "signage", "barrier", "inspected_at"],
                ["Ao rào xong", "pond", a.y, a.x, "in_place", "complete", "2025-05-01 09:00"],
                ["Giếng có biển", "well", b.y, b.x, "in_place", "", ""],
                ["Hồ chưa kiểm tra", "lake", c.y, c.x, "", "", ""],
            ]
        )
    imports.import_sites(path, actor=superuser)
    sites = Site.objects.order_by("name")
    assert [s.state for s in sites] == ["protected", "signed_only", "unprotected"]
    assert current_state_differences(repair=False) == 0


def test_the_import_and_a_registration_write_the_same_site_columns():
    """A column one of the two writes and the other does not fails here, unless it is
    named below with why: a column added to a site's registration only, or to the import
    only, is a site that depends on the way it came in."""
    call = next(
        node
        for node in ast.walk(ast.parse(inspect.getsource(services._checked_site)))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Site"
    )
    registered = {Site._meta.get_field(keyword.arg).column for keyword in call.keywords}
    imported = imported_columns()
    # Written by both in their own way: the state and its evidence (the services derive
    # them after the first inspection, hazards/current_state.py), the times and the empty reason
    # (the model's defaults on a registration).
    either = {"signage", "barrier", "last_checked_at", "photo_evidence", "created_at", "updated_at", "close_reason"}
    # Which file and row an imported site came from; a registration has neither.
    import_only = {"import_entry_id", "import_row"}
    # The day works under construction are expected to end: a registration gives it, a file has no column for it.
    registration_only = {"expected_end"}
    assert imported - registered - either == import_only
    assert registered - imported == registration_only

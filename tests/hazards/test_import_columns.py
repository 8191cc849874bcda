"""The bulk import writes sites in its own SQL (hazards/import_load.py) beside the
services' ORM writes: every column of a site is either written there or named as left
empty, so a column added to the model fails here until the import decides about it."""

import re

from hazards.import_load import INSERT, LEFT_EMPTY
from hazards.models import Site


def test_the_import_writes_or_leaves_empty_every_site_column():
    columns = {field.column for field in Site._meta.concrete_fields if not field.generated}
    listed = re.search(r"INSERT INTO hazards_site \((.*?)\)", INSERT, re.DOTALL).group(1)
    written = {name.strip() for name in listed.split(",")}
    assert written.isdisjoint(LEFT_EMPTY)
    assert written | LEFT_EMPTY == columns

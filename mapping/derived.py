"""The map grid (mapping_sitecell) and the grid by state (mapping_sitestatecell) against
one full rebuild of both (mapping/sql/site_cells.sql)."""

from common.derived import Derived, compare_with_rebuild

# The cells' coordinate sums are floats added and taken away site by site.
SUM_TOLERANCE = 1e-9

CELLS = Derived(
    "mapping_sitecell",
    ["level", "cx", "cy", "area_id", "kind", "signage", "barrier", "closed"],
    ["n", "sum_x", "sum_y"],
    tolerance=SUM_TOLERANCE,
)
STATE_CELLS = Derived(
    "mapping_sitestatecell",
    ["level", "cx", "cy", "area_id", "state"],
    ["n", "sum_x", "sum_y"],
    tolerance=SUM_TOLERANCE,
)


def cell_differences(*, repair: bool) -> int:
    return compare_with_rebuild([CELLS, STATE_CELLS], "mapping_rebuild_cells", repair=repair)

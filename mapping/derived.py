"""The map grid (mapping_sitecell) against a full rebuild (mapping/sql/site_cells.sql)."""

from hazards.derived import compare_with_rebuild

# The cells' coordinate sums are floats added and taken away site by site.
SUM_TOLERANCE = 1e-9


def cell_differences(*, repair: bool) -> int:
    return compare_with_rebuild(
        "mapping_sitecell",
        ["level", "cx", "cy", "area_id", "kind", "signage", "barrier", "closed"],
        ["n", "sum_x", "sum_y"],
        "mapping_rebuild_cells",
        repair=repair,
        tolerance=SUM_TOLERANCE,
    )

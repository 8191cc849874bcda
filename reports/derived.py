"""The report's summary (reports_areaday) against a full rebuild (reports/sql/summary.sql)."""

from hazards.derived import Derived, compare_with_rebuild

SUMMARY = Derived(
    "reports_areaday",
    ["area_id", "is_temporary", "day"],
    ["counting", "signed", "fenced", "protected", "with_photo"],
    zero_rows=False,  # counts that fell to nothing stay as rows of zeros
)


def summary_differences(*, repair: bool) -> int:
    return compare_with_rebuild([SUMMARY], "reports_rebuild_summary", repair=repair)

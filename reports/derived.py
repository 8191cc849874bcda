"""The report's summary (reports_areaday) against a full rebuild (reports/sql/summary.sql),
and the results kept for past days (reports_asofresult) against the same days computed again."""

from common.derived import Derived, compare_with_rebuild

from .models import AsOfResult
from .periods import Period
from .selectors import TABLE_AS_OF, Country, as_of_params, grouped

SUMMARY = Derived(
    "reports_areaday",
    ["area_id", "is_temporary", "day"],
    ["counting", "signed", "fenced", "protected", "with_photo"],
    zero_rows=False,  # counts that fell to nothing stay as rows of zeros
)


def summary_differences(*, repair: bool) -> int:
    return compare_with_rebuild([SUMMARY], "reports_rebuild_summary", repair=repair)


def kept_result_differences(*, repair: bool) -> int:
    """Results kept for a past period that differ from the period computed again. The
    summary's triggers drop those a change reaches; one they missed would be shown, old,
    until then. Repairing drops it: the next report computes it again."""
    stale = []
    for kept in AsOfResult.objects.select_related("area").order_by("pk"):
        period = Period(kept.since, kept.day, "range")
        if grouped(TABLE_AS_OF, as_of_params(kept.area or Country(), period)) != kept.rows:
            stale.append(kept.pk)
    if repair:
        AsOfResult.objects.filter(pk__in=stale).delete()
    return len(stale)

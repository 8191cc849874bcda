"""The report's remediation order columns (issue 22): for the report's area and period, per
child area and in all, the orders opened, overdue and verified in the period and the
median days from opening to verification. The numbers come from
hazards.order_selectors.order_numbers and each links to the order list it counts (the
same rule, hazards.filters.order_period_q), so a number and its list always agree. The
page, the CSV and XLSX files and the documents all read this table."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.numbers import format_number
from hazards.filters import ORDER_PERIOD_LABELS
from hazards.order_selectors import order_numbers, orders_for

from .periods import Period

MEDIAN = "median_days_to_verify"
# (key, title) of each column, in order: the counts, then the median (days, one decimal).
COLUMNS = [*ORDER_PERIOD_LABELS.items(), (MEDIAN, gettext_lazy("Median days to verify"))]


@dataclass
class OrderCell:
    key: str
    value: int | float | None  # a count; the median in days, None when nothing was verified
    url: str
    now: str = ""  # a submitted report's cell that recomputing now changes: the number now

    @property
    def text(self) -> str:
        return format_number(self.value, 1 if self.key == MEDIAN else 0)


@dataclass
class OrderRow:
    area: object  # an Area, the report's Country, or None for orders of sites lying in the area itself
    cells: list[OrderCell]

    def name(self, report_area) -> str:
        if self.area is None:
            return _("Directly in %(area)s") % {"area": report_area.name}
        return self.area.name


@dataclass
class OrderTable:
    rows: list[OrderRow]
    total: OrderRow


def _cells(counts: dict, area_code: str, directly: bool, period: Period) -> list[OrderCell]:
    base = {"area": area_code} if area_code else {}
    if directly:
        base["directly"] = "true"
    cells = []
    for event in ORDER_PERIOD_LABELS:
        query = {**base, "in_period": event, "from": period.start.isoformat(), "to": period.end.isoformat()}
        cells.append(OrderCell(event, counts.get(event, 0), f"{reverse('order-list')}?{urlencode(query)}"))
    # The median stands for the verified orders: it links to their list.
    cells.append(OrderCell(MEDIAN, counts.get(MEDIAN), cells[-1].url))
    return cells


def order_table(area, period: Period, user) -> OrderTable:
    """The rows (each child area of `area`, then orders lying in `area` itself if any) and
    the total, each cell a number and the link to its list."""
    by_child, total = order_numbers(
        orders_for(user, within=area.path), area.path, period.start, period.end, timezone.localdate()
    )
    rows = [
        OrderRow(child, _cells(by_child.get(child.code, {}), child.code, False, period))
        for child in area.children.order_by("code")
    ]
    if "" in by_child:
        rows.append(OrderRow(None, _cells(by_child[""], area.code, True, period)))
    return OrderTable(rows, OrderRow(area, _cells(total, area.code, False, period)))

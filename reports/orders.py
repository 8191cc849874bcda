"""The report's remediation order columns (issue 22): for the report's area and period, per
child area and in all, the orders opened, overdue and verified in the period and the
median days from opening to verification. The numbers come from
hazards.order_selectors.order_numbers and each links to the order list it counts (the
same rule, hazards.filters.order_period_q), so a number and its list always agree. The
page, the CSV and XLSX files and the documents all read this table.

A submitted report keeps the numbers and the orders behind each (frozen_orders); shown
again, each cell links to the orders as submitted and a cell that recomputing now
changes carries its number now (order_changes)."""

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


def _numbers(area, period: Period, user, *, with_ids: bool = False) -> tuple[dict[str, dict], dict]:
    orders = orders_for(user, within=area.path)
    return order_numbers(orders, area.path, period.start, period.end, timezone.localdate(), with_ids=with_ids)


def order_table(area, period: Period, user) -> OrderTable:
    """The rows (each child area of `area`, then orders lying in `area` itself if any) and
    the total, each cell a number and the link to its list."""
    by_child, total = _numbers(area, period, user)
    rows = [
        OrderRow(child, _cells(by_child.get(child.code, {}), child.code, False, period))
        for child in area.children.order_by("code")
    ]
    if "" in by_child:
        rows.append(OrderRow(None, _cells(by_child[""], area.code, True, period)))
    return OrderTable(rows, OrderRow(area, _cells(total, area.code, False, period)))


def frozen_orders(area, period: Period, user) -> dict:
    """What a submission keeps of its order columns: per child code ("" for orders lying in
    the area itself) and in all, the numbers and the ids of the orders behind each count."""
    by_child, total = _numbers(area, period, user, with_ids=True)

    def kept(counts: dict) -> dict:
        ids = {f"{event}_ids": sorted(counts.get(f"{event}_ids") or []) for event in ORDER_PERIOD_LABELS}
        return {**{key: counts.get(key) for key, _title in COLUMNS}, **ids}

    return {"rows": {code: kept(counts) for code, counts in by_child.items()}, "total": kept(total)}


def frozen_order_table(submission, area, children: list) -> OrderTable | None:
    """The order columns as submitted, each cell linking to the orders it counted then;
    None for a report submitted before reports counted orders. `children`: the report's
    child areas as submitted."""
    frozen = submission.numbers.get("orders")
    if frozen is None:
        return None
    url = reverse("submission-orders", args=[submission.pk])

    def cells(counts: dict, child: str | None) -> list[OrderCell]:
        result = []
        for key, _title in COLUMNS:
            # The median stands for the verified orders: it links to their list.
            event = "verified" if key == MEDIAN else key
            query = {"event": event, **({"child": child} if child is not None else {})}
            result.append(OrderCell(key, counts.get(key, 0 if key != MEDIAN else None), f"{url}?{urlencode(query)}"))
        return result

    rows = [OrderRow(child, cells(frozen["rows"].get(child.code, {}), child.code)) for child in children]
    if "" in frozen["rows"]:
        rows.append(OrderRow(None, cells(frozen["rows"][""], "")))
    return OrderTable(rows, OrderRow(area, cells(frozen["total"], None)))


def frozen_ids(submission, event: str, child: str | None) -> list[str] | None:
    """The orders a submitted number counted (`child` None: the total); None if the
    submission kept no such list."""
    frozen = submission.numbers.get("orders")
    if frozen is None or event not in ORDER_PERIOD_LABELS:
        return None
    counts = frozen["total"] if child is None else frozen["rows"].get(child, {})
    return counts.get(f"{event}_ids", [])


def order_changes(table: OrderTable, area, period: Period, user) -> int:
    """Mark each cell of a submitted order table whose number recomputed now differs
    (cell.now) and say how many."""
    by_child, total = _numbers(area, period, user)
    changed = 0
    for row in [*table.rows, table.total]:
        now = total if row is table.total else by_child.get(row.area.code if row.area is not None else "", {})
        for cell in row.cells:
            current = OrderCell(cell.key, now.get(cell.key, 0 if cell.key != MEDIAN else None), "")
            if current.text != cell.text:
                cell.now, changed = current.text or "–", changed + 1
    return changed

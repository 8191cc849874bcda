"""The report table's columns, defined once for the page, the CSV and XLSX files, the
documents and a submission's "changed since" view. A linked column's number is the
length of the list behind it (selectors.INDICATOR_FILTERS); a gap to the target links
nowhere: it is a count of sites still to bring up, not a list."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from common.numbers import format_number

from .numbers import format_share
from .selectors import Row


@dataclass(frozen=True)
class Column:
    key: str
    title: Promise
    kind: str  # count, share, target, gap or change
    group: Promise | None = None  # the heading over several columns
    indicator: str | None = None  # signed, fenced, protected: whose share, target or gap
    links: bool = False  # a count whose sites are listed (its key names the list)

    @property
    def full_title(self) -> str:
        return f"{self.group} – {self.title}" if self.group else str(self.title)


def _group(indicator: str, label) -> list[Column]:
    return [
        Column(indicator, _("Sites"), "count", label, indicator, links=True),
        Column(f"{indicator}_share", "%", "share", label, indicator),
        Column(f"{indicator}_target", _("Target %"), "target", label, indicator),
        Column(f"{indicator}_gap", _("Gap to target"), "gap", label, indicator),
    ]


COLUMNS = [
    Column("counting", _("Sites counting"), "count", links=True),
    *_group("signed", _("Warning sign in place")),
    *_group("fenced", _("Complete barrier")),
    *_group("protected", _("Protected (both)")),
    Column("not_protected", _("Not protected"), "count", links=True),
    Column("change", _("Change of the protected share since the previous period (points)"), "change"),
    Column("inspected", _("Inspected in the period"), "count", links=True),
    Column("with_photo", _("With photo evidence"), "count", links=True),
    Column("unverified", _("Unverified (not checked within the interval)"), "count", links=True),
]


def value(row: Row, column: Column) -> int | Decimal | None:
    """The cell's number: sites, a share or a target in %, points of change; None: none."""
    if column.kind == "count":
        return row.missing("protected") if column.key == "not_protected" else row.counts[column.key]
    if column.kind == "share":
        return row.share(column.indicator)
    if column.kind == "target":
        return row.targets[column.indicator]
    if column.kind == "gap":
        return row.gap(column.indicator)
    return row.change("protected")


def text(row: Row, column: Column) -> str:
    """The cell as the reader's language writes it (1.234 / 12,5 / +2,5)."""
    number = value(row, column)
    if column.kind in ("share", "target"):
        return format_share(number)
    return format_number(number, 1 if column.kind == "change" else 0, sign=column.kind == "change")


def groups() -> list[tuple[str, int]]:
    """The heading row over the column titles: (group, columns spanned); "" where a
    column stands alone (its title spans both rows)."""
    result: list[tuple[str, int]] = []
    for column in COLUMNS:
        title = str(column.group) if column.group else ""
        if result and title and result[-1][0] == title:
            result[-1] = (title, result[-1][1] + 1)
        else:
            result.append((title, 1))
    return result


def heading_rows() -> tuple[list[dict], list[dict]]:
    """The two heading rows of an HTML table: groups (and lone columns spanning both rows),
    then the titles under each group."""
    top, under, position = [], [], 0
    for title, span in groups():
        if title:
            top.append({"title": title, "colspan": span, "rowspan": 1})
            under += [{"title": column.title} for column in COLUMNS[position : position + span]]
        else:
            top.append({"title": COLUMNS[position].title, "colspan": 1, "rowspan": 2})
        position += span
    return top, under

"""The report table as files: CSV and XLSX (area codes as text). The columns are those of
the page (reports/table.py), then the page's remediation order table (reports/orders.py:
below the sites in the CSV, a sheet of its own in the XLSX); the PDF and DOCX are
documents (reports/documents.py).

CSV: numbers as numbers, no grouping; "," between fields and "." before decimals, or,
with `semicolon`, ";" and "," as Excel set to Vietnamese expects. XLSX: typed numbers
(counts as integers, shares and targets as fractions in a percent format, changes in
points), column widths to fit, the group heading merged over its columns, panes frozen
under the heading."""

import csv
import io
from decimal import Decimal
from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from common.numbers import round_half_up
from common.spreadsheets import csv_row, xlsx_row
from common.urls import absolute_url

from . import orders as order_columns
from .orders import OrderTable
from .selectors import Report, Row
from .table import COLUMNS, groups, value


def headers() -> list[str]:
    return [_("Area code"), _("Area")] + [column.full_title for column in COLUMNS]


def _area_cells(row: Row, parent_name: str) -> list[str]:
    if row.area is None:
        return ["", _("Directly in %(area)s") % {"area": parent_name}]
    return [row.area.code, row.area.name]


def rows(report: Report) -> list[tuple[Row, list[str]]]:
    name = report.area.name
    return [(row, _area_cells(row, name)) for row in [*report.rows, report.total]]


def order_headers() -> list[str]:
    return [_("Area code"), _("Area")] + [str(title) for _key, title in order_columns.COLUMNS]


def order_rows(report: Report, orders: OrderTable) -> list[tuple[list[str], list[Any], list[str]]]:
    """The order table's rows as (area code and name, numbers, links): counts, then the
    median days in a Decimal of one place, rounded half up as the page shows it (None:
    nothing verified);
    each number's link is the page's, to the orders it counts."""
    result = []
    for row in [*orders.rows, orders.total]:
        area = ["", row.name(report.area)] if row.area is None else [row.area.code, row.area.name]
        numbers = [
            cell.value if cell.key != order_columns.MEDIAN or cell.value is None else round_half_up(cell.value, 1)
            for cell in row.cells
        ]
        result.append((area, numbers, [cell.url for cell in row.cells]))
    return result


def _csv_number(number, decimal_comma: bool) -> str:
    if number is None:
        return ""
    text = str(number)
    return text.replace(".", ",") if decimal_comma and isinstance(number, Decimal) else text


def as_csv(report: Report, orders: OrderTable, *, semicolon: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if semicolon else ",")
    writer.writerow(csv_row([_("Progress report"), report.area.name, report.period.label]))
    writer.writerow(headers())
    for row, area in rows(report):
        # Names may look like formulas; numbers ("-1,5" with a decimal comma too) stay numbers.
        writer.writerow(csv_row(area) + [_csv_number(value(row, column), semicolon) for column in COLUMNS])
    writer.writerow([])
    writer.writerow([_("Remediation orders in the period")])
    writer.writerow(order_headers())
    for area, numbers, _links in order_rows(report, orders):
        writer.writerow(csv_row(area) + [_csv_number(number, semicolon) for number in numbers])
    # A byte-order mark so that Excel opens the Vietnamese names correctly.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# The colour of a link's text in Office's "Hyperlink" style, which openpyxl's links do not set.
LINK_COLOUR = "0563C1"
# XLSX number formats: the reader's Excel shows them in its own language's separators.
FORMATS = {"count": "#,##0", "gap": "#,##0", "share": "0.0%", "target": "0.0%", "change": "+0.0;-0.0;0.0"}
WIDTHS = {"count": 10, "gap": 10, "share": 8, "target": 9, "change": 14}


def _xlsx_value(number, kind: str):
    if number is None:
        return None
    if kind in ("share", "target"):
        return float(number / 100)  # a fraction shown as a percentage
    return float(number) if isinstance(number, Decimal) else number


def as_xlsx(report: Report, orders: OrderTable) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = report.period.label[:31].replace("/", "-")
    sheet.append(xlsx_row(sheet, [_("Progress report"), report.area.name, report.period.label]))
    bold, centred = Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)
    # Two heading rows: the groups over their columns, then each column's title.
    first, column = 3, 3
    sheet.cell(row=2, column=1, value=_("Area code"))
    sheet.cell(row=2, column=2, value=_("Area"))
    for cell_column in (1, 2):
        sheet.merge_cells(start_row=2, start_column=cell_column, end_row=3, end_column=cell_column)
    for title, span in groups():
        if title:
            sheet.cell(row=2, column=column, value=title)
            sheet.merge_cells(start_row=2, start_column=column, end_row=2, end_column=column + span - 1)
        for offset in range(span):
            spec = COLUMNS[column - first + offset]
            sheet.cell(row=3 if title else 2, column=column + offset, value=str(spec.title))
            if not title:
                sheet.merge_cells(start_row=2, start_column=column + offset, end_row=3, end_column=column + offset)
        column += span
    for heading in sheet.iter_rows(min_row=2, max_row=3):
        for cell in heading:
            cell.font, cell.alignment = bold, centred
    for row, area in rows(report):
        sheet.append(xlsx_row(sheet, area + [_xlsx_value(value(row, spec), spec.kind) for spec in COLUMNS]))
        number = sheet.max_row
        sheet.cell(row=number, column=1).number_format = "@"  # codes keep their leading zeros
        for offset, spec in enumerate(COLUMNS):
            sheet.cell(row=number, column=first + offset).number_format = FORMATS[spec.kind]
    for cell in sheet[sheet.max_row]:
        cell.font = bold  # the total
    sheet.column_dimensions["A"].width = 10
    sheet.column_dimensions["B"].width = max(16, min(40, max(len(area[1]) for _row, area in rows(report)) + 2))
    for offset, spec in enumerate(COLUMNS):
        sheet.column_dimensions[get_column_letter(first + offset)].width = WIDTHS[spec.kind]
    sheet.row_dimensions[3].height = 45
    sheet.freeze_panes = "C4"
    _order_sheet(book, report, orders)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _order_sheet(book: Workbook, report: Report, orders: OrderTable) -> None:
    """The remediation order table on a sheet of its own: counts as integers, the median
    days as a number of one decimal place, each a link to the orders it counts (the
    page's link, absolute: the workbook is opened away from the registry)."""
    sheet = book.create_sheet(_("Orders")[:31])
    sheet.append(xlsx_row(sheet, [_("Remediation orders in the period"), report.area.name, report.period.label]))
    sheet.append(order_headers())
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    total_row = 3 + len(orders.rows)  # below the title and the headings
    for area, numbers, links in order_rows(report, orders):
        sheet.append(xlsx_row(sheet, area + [float(n) if isinstance(n, Decimal) else n for n in numbers]))
        number = sheet.max_row
        sheet.cell(row=number, column=1).number_format = "@"
        for offset, ((key, _title), link) in enumerate(zip(order_columns.COLUMNS, links, strict=True)):
            cell = sheet.cell(row=number, column=3 + offset)
            cell.number_format = "0.0" if key == order_columns.MEDIAN else "#,##0"
            if cell.value is not None:  # openpyxl would write the address into an empty cell
                cell.hyperlink = absolute_url(link)
                cell.font = Font(color=LINK_COLOUR, underline="single", bold=number == total_row)
    for cell in sheet[sheet.max_row][:2]:
        cell.font = Font(bold=True)  # the total
    sheet.column_dimensions["A"].width = 10
    sheet.column_dimensions["B"].width = 30
    for offset in range(len(order_columns.COLUMNS)):
        sheet.column_dimensions[get_column_letter(3 + offset)].width = 14
    sheet.row_dimensions[2].height = 30
    sheet.freeze_panes = "C3"


def file_name(area, period, fmt: str) -> str:
    """The name a report file is saved under: report-<area>-<from>-<to>.<fmt>."""
    return slugify(_("report") + f"-{area.code}-{period.start:%Y%m%d}-{period.end:%Y%m%d}") + f".{fmt}"

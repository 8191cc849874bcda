"""Cells a spreadsheet shows and never runs. A site, area or school name that starts with
= + - @ (or a tab or carriage return before one) is a formula to Excel and LibreOffice:
opened from a CSV it runs, and openpyxl writes any text starting with = as a formula.
Every CSV and XLSX the registry writes (sites, priority list, report) passes its values
through here (OWASP's CSV injection advice)."""

from openpyxl.cell import WriteOnlyCell

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_value(value):
    """The value as a CSV cell: text that a spreadsheet would take for a formula gets a
    leading apostrophe (shown as text, the formula not run); numbers, signed ones
    included ("+1.5" in a report), stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def csv_row(values) -> list:
    return [csv_value(value) for value in values]


def xlsx_cell(sheet, value):
    """A cell for sheet.append: text is typed as text, so it never becomes a formula."""
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def xlsx_row(sheet, values) -> list:
    return [xlsx_cell(sheet, value) for value in values]

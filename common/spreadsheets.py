"""Cells a spreadsheet shows and never runs. A site, area or school name that starts with
= + - @ (or a tab or carriage return before one) is a formula to Excel and LibreOffice:
opened from a CSV it runs, and openpyxl writes any text starting with = as a formula.
Every CSV and XLSX the registry writes (sites, priority list, report) passes its values
through here (OWASP's CSV injection advice)."""

import re

from openpyxl.cell import WriteOnlyCell

from common.text import NOT_IN_XML

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


# "_x000B_" in a workbook's text is the character U+000B to Excel (OOXML's ST_Xstring);
# a "_" that starts such a sequence in the text itself is written "_x005F_".
XSTRING_LOOKALIKE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")


def _xstring(match) -> str:
    return f"_x{ord(match.group()):04X}_"


def xlsx_text(text: str) -> str:
    """The text as a workbook cell holds it: the characters a cell cannot hold (NOT_IN_XML)
    written in OOXML's escape, which Excel reads back as the same
    characters. New text with them is refused at input (services.clean_text); this is for
    records stored before that, so that one of them cannot fail every export covering it.
    The record itself is unchanged: only this file's cell is written differently."""
    return NOT_IN_XML.sub(_xstring, XSTRING_LOOKALIKE.sub(_xstring, text))


def xlsx_cell(sheet, value):
    """A cell for sheet.append: text is typed as text, so it never becomes a formula."""
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=xlsx_text(value))
        cell.data_type = "s"
        return cell
    return WriteOnlyCell(sheet, value=value)


def xlsx_row(sheet, values) -> list:
    return [xlsx_cell(sheet, value) for value in values]

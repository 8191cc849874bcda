"""A campaign's board as files: XLSX (area codes as text, every name typed as text so
none runs as a formula) and a printable PDF, from the same rows as the page."""

import io

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from common.numbers import format_number
from common.pdf import paragraph
from common.spreadsheets import xlsx_row

from .order_selectors import BOARD_COLUMNS, percent_checked

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FONT = "BoardSerif"  # settings.DOCUMENT_FONTS: a face with every Vietnamese letter


def headers() -> list[str]:
    return [
        _("Area code"),
        _("Area"),
        _("Sites in the campaign"),
        _("Checked"),
        _("Checked (%)"),
        _("Protected at the start"),
        _("Protected now"),
        _("Nobody assigned"),
        _("Orders opened"),
        _("Orders verified"),
    ]


def _window(campaign) -> str:
    return _("%(name)s · %(area)s · %(start)s – %(end)s") % {
        "name": campaign.name,
        "area": campaign.area_label,
        "start": f"{campaign.starts_on:%d/%m/%Y}",
        "end": f"{campaign.ends_on:%d/%m/%Y}",
    }


def _cells(counts: dict, shown, shown_percent) -> list:
    """A row's counts in the headers' order, the share checked after the checked."""
    cells = [shown(counts[k]) for k in BOARD_COLUMNS]
    cells.insert(BOARD_COLUMNS.index("checked") + 1, shown_percent(percent_checked(counts)))
    return cells


def table(rows, totals, shown=lambda n: n, shown_percent=lambda n: n) -> list[list]:
    """The board's rows and total; `shown` and `shown_percent` format the counts and the
    shares (the PDF writes them in the reader's format, the XLSX keeps them numbers)."""
    body = [[row.area.code, row.area.name, *_cells(row.counts, shown, shown_percent)] for row in rows]
    return [*body, ["", _("Total"), *_cells(totals, shown, shown_percent)]]


def as_xlsx(campaign, rows, totals) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _("Campaign")[:31]
    sheet.append(xlsx_row(sheet, [_window(campaign)]))
    sheet.append(xlsx_row(sheet, headers()))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for values in table(rows, totals):
        sheet.append(xlsx_row(sheet, values))
        sheet.cell(row=sheet.max_row, column=1).number_format = "@"  # codes keep their leading zeros
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_pdf(campaign, rows, totals) -> bytes:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, settings.DOCUMENT_FONTS["regular"]))
        pdfmetrics.registerFont(TTFont(FONT + "-Bold", settings.DOCUMENT_FONTS["bold"]))
    out = io.BytesIO()
    margins = {"leftMargin": 12 * mm, "rightMargin": 12 * mm, "topMargin": 12 * mm, "bottomMargin": 12 * mm}
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), title=campaign.name, **margins)
    title = ParagraphStyle("title", fontName=FONT + "-Bold", fontSize=15, leading=19)
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12)
    cell = ParagraphStyle("cell", fontName=FONT, fontSize=8, leading=10)
    grid = Table([[paragraph(h, cell) for h in headers()]] + [
        [paragraph(v, cell) for v in values]
        for values in table(rows, totals, format_number, lambda share: format_number(share, 1))
    ], repeatRows=1)  # fmt: skip
    grid.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f3f3f3")),
            ]
        )
    )
    doc.build(
        [
            paragraph(_("Campaign progress"), title),
            paragraph(_window(campaign), body),
            paragraph(_("Date of issue: %(day)s") % {"day": f"{timezone.localdate():%d/%m/%Y}"}, body),
            Spacer(1, 4 * mm),
            grid,
        ]
    )
    return out.getvalue()


def render(fmt: str, campaign, rows, totals) -> tuple[bytes, str]:
    if fmt == "xlsx":
        return as_xlsx(campaign, rows, totals), XLSX
    return as_pdf(campaign, rows, totals), "application/pdf"

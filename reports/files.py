"""The report as files: CSV and XLSX of the table (area codes as text), and a printable
PDF with title, period, area, table, charts and date of issue. One table serves all."""

import csv
import io

from django.conf import settings
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from hazards.spreadsheets import csv_row, xlsx_row

from .selectors import Report, Row


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def headers() -> list[str]:
    return [
        _("Area code"),
        _("Area"),
        _("Sites counting"),
        _("Signed"),
        _("Signed %"),
        _("Fenced"),
        _("Fenced %"),
        _("Protected"),
        _("Protected %"),
        _("Target protected %"),
        _("Gap signed"),
        _("Gap fenced"),
        _("Gap protected"),
        _("Change protected (points)"),
        _("Inspected in period"),
        _("With photo evidence"),
        _("Unverified"),
    ]


def row_values(row: Row, parent_name: str) -> list:
    c = row.counts
    change = row.change("protected")
    return [
        row.area.code if row.area else "",
        row.area.name if row.area else _("Directly in %(area)s") % {"area": parent_name},
        c["counting"],
        c["signed"],
        _share(row.share("signed")),
        c["fenced"],
        _share(row.share("fenced")),
        c["protected"],
        _share(row.share("protected")),
        f"{row.targets['protected']:.0f}",
        row.gap("signed"),
        row.gap("fenced"),
        row.gap("protected"),
        "" if change is None else f"{change:+.1f}",
        c["inspected"],
        c["with_photo"],
        c["unverified"],
    ]


def table(report: Report) -> list[list]:
    name = report.area.name
    return [row_values(row, name) for row in report.rows] + [row_values(report.total, name)]


def as_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_row([_("Progress report"), report.area.name, report.period.label]))
    writer.writerow(headers())
    writer.writerows(csv_row(values) for values in table(report))
    # A byte-order mark so that Excel opens the Vietnamese names correctly.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(report: Report) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = report.period.label[:31].replace("/", "-")
    sheet.append(xlsx_row(sheet, [_("Progress report"), report.area.name, report.period.label]))
    sheet.append(headers())
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for values in table(report):
        sheet.append(xlsx_row(sheet, values))
        sheet.cell(row=sheet.max_row, column=1).number_format = "@"  # codes keep their leading zeros
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


FONT = "DejaVuSans"


def _register_fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, settings.PDF_FONT))
        pdfmetrics.registerFont(TTFont(FONT + "-Bold", settings.PDF_FONT_BOLD))


def _bars(report: Report) -> Drawing:
    rows = [r for r in report.rows if r.counts["counting"]]
    drawing = Drawing(250 * mm, max(40, 9 * len(rows) + 20) * mm / 2.2)
    chart = HorizontalBarChart()
    chart.x, chart.y = 60 * mm, 5 * mm
    chart.width, chart.height = 170 * mm, drawing.height - 10 * mm
    chart.data = [[r.share("protected") or 0 for r in rows] or [0]]
    chart.categoryAxis.categoryNames = [r.area.name if r.area else "–" for r in rows] or ["–"]
    chart.categoryAxis.labels.fontName = FONT
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labels.fontName = FONT
    chart.bars[0].fillColor = colors.HexColor("#1a9641")
    drawing.add(chart)
    target = float(report.total.targets["protected"])
    x = chart.x + chart.width * target / 100
    drawing.add(Line(x, chart.y, x, chart.y + chart.height, strokeColor=colors.red, strokeWidth=1.5))
    drawing.add(
        String(x + 2, chart.y + chart.height + 2, _("target %(v).0f%%") % {"v": target}, fontName=FONT, fontSize=7)
    )
    return drawing


def _trend(points) -> Drawing:
    drawing = Drawing(120 * mm, 45 * mm)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 15 * mm, 10 * mm, 95 * mm, 30 * mm
    plot.data = [[(i, value) for i, (_p, value) in enumerate(points) if value is not None] or [(0, 0)]]
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = -0.2, len(points) - 0.8
    plot.xValueAxis.valueSteps = list(range(len(points)))
    plot.xValueAxis.labelTextFormat = lambda i: points[round(i)][0].label if 0 <= round(i) < len(points) else ""
    plot.xValueAxis.labels.fontName = plot.yValueAxis.labels.fontName = FONT
    plot.xValueAxis.labels.fontSize = 6
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = 0, 100
    plot.lines[0].strokeColor = colors.HexColor("#0b3d91")
    drawing.add(plot)
    return drawing


def as_pdf(report: Report, trend_points) -> bytes:
    _register_fonts()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=_("Progress report"),
    )
    title = ParagraphStyle("title", fontName=FONT + "-Bold", fontSize=15, leading=19)
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12)
    cell = ParagraphStyle("cell", fontName=FONT, fontSize=6.5, leading=8)
    story = [
        Paragraph(_("Progress report: warning signs and barriers at places with deep water"), title),
        Paragraph(
            _("Area: %(area)s (%(code)s) · Period: %(period)s (%(start)s – %(end)s)")
            % {
                "area": report.area.name,
                "code": report.area.code,
                "period": report.period.label,
                "start": f"{report.period.start:%d/%m/%Y}",
                "end": f"{report.period.end:%d/%m/%Y}",
            },
            body,
        ),
        Paragraph(_("Date of issue: %(day)s") % {"day": f"{timezone.localdate():%d/%m/%Y}"}, body),
        Spacer(1, 4 * mm),
    ]
    data = [[Paragraph(h, cell) for h in headers()]] + [
        [Paragraph(str(v), cell) for v in values] for values in table(report)
    ]
    grid = Table(data, repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f3f3f3")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [grid, Spacer(1, 5 * mm), Paragraph(_("Protected share by area, against the target"), body), _bars(report)]
    story += [Paragraph(_("Protected share over the last periods"), body), _trend(trend_points)]
    doc.build(story)
    return out.getvalue()


def file_name(area, period, fmt: str) -> str:
    return slugify(_("report") + f"-{area.code}-{period.start:%Y%m%d}-{period.end:%Y%m%d}") + f".{fmt}"

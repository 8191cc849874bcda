"""An AdministrativeDocument as PDF, laid out as Nghị định 30/2020/NĐ-CP (Phụ lục I)
wants: A4, Times-metric serif (Liberation Serif), the issuing body top left with its
number and symbol, the national heading and motto top right with place and date, the
kind and subject centred, the body, recipients beside the signature block, annexes on
pages of their own, page numbers centred in the top margin from the second page."""

import io

from django.conf import settings
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    HRFlowable,
    KeepTogether,
    PageBreak,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Image as PdfImage
from reportlab.platypus import Table as Grid
from reportlab.platypus.tables import LongTable

from common.pdf import paragraph

from .model import AdministrativeDocument, Paragraph, Picture, Table, ends_with_text, heading_lines, national_heading

FONT = "DocumentSerif"
# Rows per table piece: a long annex is laid out piece by piece (the layout of one huge
# table grows faster than its rows).
PIECE_ROWS = 400


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    faces = settings.DOCUMENT_FONTS
    for face, suffix in (("regular", ""), ("bold", "-Bold"), ("italic", "-Italic"), ("bold_italic", "-BoldItalic")):
        pdfmetrics.registerFont(TTFont(FONT + suffix, faces[face]))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT + "-Bold", italic=FONT + "-Italic", boldItalic=FONT + "-BoldItalic"
    )


def fits(width: float, size: float, bold: bool):
    """Whether a line of text fits `width` points in the document's font (the DOCX's
    Times New Roman has the same metrics as Liberation Serif)."""
    _register_fonts()
    font = FONT + "-Bold" if bold else FONT
    return lambda text: pdfmetrics.stringWidth(text, font, size) <= width


def _style(name: str, size: float = 13, align=TA_LEFT, font: str = FONT, leading: float | None = None, **extra):
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading or size * 1.25, alignment=align, **extra)


STYLES = {
    "heading_small": _style("heading_small", 12, TA_CENTER),
    "heading_bold": _style("heading_bold", 12, TA_CENTER, FONT + "-Bold"),
    "motto": _style("motto", 13, TA_CENTER, FONT + "-Bold"),
    "place": _style("place", 13, TA_CENTER, FONT + "-Italic"),
    "number": _style("number", 13, TA_CENTER),
    "kind": _style("kind", 14, TA_CENTER, FONT + "-Bold", spaceBefore=6 * mm),
    "subject": _style("subject", 14, TA_CENTER, FONT + "-Bold"),
    "body": _style("body", 13, TA_JUSTIFY, firstLineIndent=10 * mm, spaceBefore=3, spaceAfter=3),
    "heading": _style("heading", 13, TA_LEFT, FONT + "-Bold", spaceBefore=6, spaceAfter=3),
    "note": _style("note", 11.5, TA_JUSTIFY, FONT + "-Italic", spaceBefore=6, spaceAfter=2),
    "recipients_title": _style("recipients_title", 12, TA_LEFT, FONT + "-BoldItalic"),
    "recipients": _style("recipients", 11, TA_LEFT, leading=13.5),
    "signature": _style("signature", 13, TA_CENTER, FONT + "-Bold"),
    "annex": _style("annex", 14, TA_CENTER, FONT + "-Bold"),
    "attached": _style("attached", 13, TA_CENTER, FONT + "-Italic", spaceAfter=4 * mm),
    "cell": _style("cell", 9.5, TA_LEFT, leading=11.5),
    "cell_total": _style("cell_total", 9.5, TA_LEFT, FONT + "-Bold", leading=11.5),
    "cell_head": _style("cell_head", 8.5, TA_CENTER, FONT + "-Bold", leading=10),
    "caption": _style("caption", 12, TA_LEFT, FONT + "-Italic", spaceBefore=8, spaceAfter=2),
    "picture_caption": _style("picture_caption", 11.5, TA_CENTER, FONT + "-Italic", spaceBefore=2, spaceAfter=6),
}
HEADING_PADDING = 6  # points between the heading's two columns
ALIGN = {"left": "LEFT", "right": "RIGHT", "center": "CENTER"}


def _line(fraction: float) -> HRFlowable:
    return HRFlowable(
        width=f"{fraction * 100:.0f}%", thickness=0.6, color=colors.black, spaceBefore=1, spaceAfter=3, hAlign="CENTER"
    )


def _heading(document: AdministrativeDocument, width: float) -> list:
    """Issuing body (left) and national heading (right), side by side."""
    country, motto = national_heading()
    column = width * 0.38 - HEADING_PADDING
    left = []
    if document.parent_body:
        lines = heading_lines(document.parent_body, fits(column, 12, bold=False))
        left.append(paragraph("\n".join(lines), STYLES["heading_small"]))
    left += [
        paragraph("\n".join(heading_lines(document.issuing_body, fits(column, 12, bold=True))), STYLES["heading_bold"]),
        _line(0.4),
        paragraph(document.number_and_symbol, STYLES["number"]),
    ]
    right = [
        paragraph(country, STYLES["heading_bold"]),
        paragraph(motto, STYLES["motto"]),
        _line(0.62),
        paragraph(document.place_and_date, STYLES["place"]),
    ]
    grid = Grid([[left, right]], colWidths=[width * 0.38, width * 0.62])
    grid.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), HEADING_PADDING),
            ]
        )
    )
    return [
        grid,
        paragraph(document.kind.upper(), STYLES["kind"]),
        paragraph(document.subject, STYLES["subject"]),
        _line(0.25),
    ]


def _table(table: Table, width: float) -> list:
    total = sum(c.width for c in table.columns)
    widths = [width * c.width / total for c in table.columns]
    head = [[paragraph(c.title, STYLES["cell_head"]) for c in table.columns]]
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, 9.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        # reportlab's 6 pt each side leaves a twenty-column table's narrow columns too
        # little room for a heading's word ("STT" was set as "ST / T").
        ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
    ]
    header_rows = 1
    if table.groups:
        # A group over one column with no title of its own: the column's title spans both rows.
        group_row, column = [], 0
        for title, span in table.groups:
            if span == 1 and not title:
                group_row.append(head[0][column])
                head[0][column] = ""
                style.append(("SPAN", (column, 0), (column, 1)))
            else:
                group_row += [paragraph(title, STYLES["cell_head"])] + [""] * (span - 1)
                style.append(("SPAN", (column, 0), (column + span - 1, 0)))
            column += span
        head.insert(0, group_row)
        header_rows = 2
    for index, column in enumerate(table.columns):
        style.append(("ALIGN", (index, header_rows), (index, -1), ALIGN[column.align]))
    pieces = []
    rows = table.rows
    for start in range(0, max(1, len(rows)), PIECE_ROWS):
        chunk = rows[start : start + PIECE_ROWS]
        first_total = len(rows) - table.totals
        body = [
            [
                # Text cells are paragraphs, which the table's FONT below does not reach.
                paragraph(value, STYLES["cell_total" if start + at >= first_total else "cell"])
                if column.align == "left"
                else value
                for value, column in zip(row, table.columns, strict=True)
            ]
            for at, row in enumerate(chunk)
        ]
        chunk_style = list(style)
        last_rows = table.totals - (len(rows) - start - len(chunk))
        if last_rows > 0:
            chunk_style.append(("FONT", (0, -last_rows), (-1, -1), FONT + "-Bold", 9.5))
        grid = LongTable(head + body, colWidths=widths, repeatRows=header_rows)
        grid.setStyle(TableStyle(chunk_style))
        pieces.append(grid)
    if table.caption:
        pieces.insert(0, paragraph(table.caption, STYLES["caption"]))
    return pieces


def _picture(picture: Picture, width: float) -> list:
    pixels_wide, pixels_high = ImageReader(io.BytesIO(picture.data)).getSize()
    shown = min(picture.width_mm * mm, width)
    image = PdfImage(io.BytesIO(picture.data), width=shown, height=shown * pixels_high / pixels_wide)
    parts = [Spacer(1, 2 * mm), image]
    if picture.caption:
        parts.append(paragraph(picture.caption, STYLES["picture_caption"]))
    return [KeepTogether(parts)]


def _blocks(blocks, width: float) -> list:
    story = []
    for block in blocks:
        if isinstance(block, Table):
            story += _table(block, width)
        elif isinstance(block, Paragraph):
            story.append(paragraph(block.text, STYLES[block.style]))
        elif isinstance(block, Picture):
            story += _picture(block, width)
        else:
            raise TypeError(f"not a document block: {block!r}")
    return story


def _closing(document: AdministrativeDocument, width: float) -> list:
    """Recipients (left) beside the signature block (right)."""
    left = [paragraph(_("Recipients:"), STYLES["recipients_title"])]
    left += [paragraph(f"- {r}", STYLES["recipients"]) for r in document.recipients]
    sign = document.signature
    right = [paragraph(line.upper(), STYLES["signature"]) for line in (sign.capacity, sign.title) if line]
    right += [Spacer(1, 24 * mm), paragraph(sign.name, STYLES["signature"])]
    grid = Grid([[left, right]], colWidths=[width * 0.5, width * 0.5])
    grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return [Spacer(1, 6 * mm), grid]


def render(document: AdministrativeDocument) -> bytes:
    """The document as PDF bytes. A plain function: a job can run it for a large one."""
    _register_fonts()
    out = io.BytesIO()
    size = landscape(A4) if document.landscape else A4
    top, right, bottom, left = (value * mm for value in document.margins_mm)
    pdf = SimpleDocTemplate(
        out,
        pagesize=size,
        topMargin=top,
        rightMargin=right,
        bottomMargin=bottom,
        leftMargin=left,
        title=document.title or document.subject,
        author=document.issuing_body,
    )
    width = pdf.width
    body, closing = _blocks(document.body, width), _closing(document, width)
    if ends_with_text(document):
        # The signature never stands alone on a page: the body's last paragraph goes with it
        # (a page holding nothing but a signature could be put under another text).
        body, closing = body[:-1], body[-1:] + closing
    # One KeepTogether: ReportLab carries one nested in another to the next page even when
    # both fit where they stand (a short notice took two pages, half of the first empty).
    closing = [KeepTogether(closing)]
    story = _heading(document, width) + body + closing
    for annex in document.annexes:
        story += [
            PageBreak(),
            paragraph(_("Annex").upper(), STYLES["annex"]),
            paragraph(annex.title.upper(), STYLES["annex"]),
            paragraph(document.attached_to(), STYLES["attached"]),
            *_blocks(annex.blocks, width),
        ]

    def number_page(canvas, page_doc):
        canvas.saveState()
        canvas.setFont(FONT, 13)
        canvas.drawCentredString(size[0] / 2, size[1] - 12 * mm, str(page_doc.page))
        canvas.restoreState()

    pdf.build(story, onLaterPages=number_page)
    return out.getvalue()

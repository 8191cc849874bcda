"""An AdministrativeDocument as an editable DOCX (python-docx), laid out as its PDF
(pdf.py) and as Nghị định 30/2020/NĐ-CP wants: Times New Roman, A4, the heading
in a borderless two-column table, the page number centred in the top margin from the
second page (a PAGE field: Word renumbers after edits), tables whose header rows repeat
on every page."""

import io

from django.utils.translation import gettext as _
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from common.text import NOT_IN_XML

from .model import AdministrativeDocument, Paragraph, Picture, Table, ends_with_text, heading_lines, national_heading
from .pdf import fits

FONT = "Times New Roman"
CELL_MARGIN_PT = 5.4  # Word's default left and right cell margin (0.19 cm)
# A table's text and margins, as the PDF sets them (pdf.py's cell and cell_head styles).
CELL_SIZE, HEAD_SIZE = 9.5, 8.5
CELL_SIDE_PT, CELL_TOP_PT = 2.5, 1.5
ALIGN = {"left": WD_ALIGN_PARAGRAPH.LEFT, "right": WD_ALIGN_PARAGRAPH.RIGHT, "center": WD_ALIGN_PARAGRAPH.CENTER}


def _text(paragraph, text: str, size: float = 13, bold=False, italic=False, align=None, space_after: float = 0):
    # Text stored before clean_text refused what XML cannot hold made python-docx fail the
    # whole document (pentest N2, P7); Word has no escape for it: shown as U+FFFD.
    run = paragraph.add_run(NOT_IN_XML.sub("\ufffd", text))
    run.font.name, run.font.size, run.bold, run.italic = FONT, Pt(size), bold, italic
    if align is not None:
        paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(space_after)
    paragraph.paragraph_format.space_before = Pt(0)
    return paragraph


def _rule(container, width_mm: float, line_mm: float) -> None:
    """A short centred line (a tiny paragraph's bottom border, indented from both sides)
    under the paragraph before it, in a table cell or the document."""
    paragraph = container.add_paragraph()
    properties = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    properties.append(borders)
    indent = Mm(max(0.0, (width_mm - line_mm) / 2))
    layout = paragraph.paragraph_format
    layout.left_indent = layout.right_indent = indent
    layout.space_before, layout.space_after = Pt(0), Pt(4)
    layout.line_spacing = Pt(2)


def _no_borders(table) -> None:
    properties = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    properties.append(borders)


def _cell(cell, lines: list[tuple[str, dict]]) -> None:
    first = True
    for text, options in lines:
        paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        _text(paragraph, text, **options)


def _heading(word, document: AdministrativeDocument, width_mm: float) -> None:
    country, motto = national_heading()
    grid = word.add_table(rows=1, cols=2)
    _no_borders(grid)
    left_mm, right_mm = width_mm * 0.38, width_mm * 0.62
    _widths(grid, [left_mm, right_mm])
    left, right = grid.rows[0].cells
    centre = {"align": WD_ALIGN_PARAGRAPH.CENTER}
    column = Mm(left_mm).pt - 2 * CELL_MARGIN_PT
    lines = []
    if document.parent_body:
        lines += [
            (line, {"size": 12, **centre}) for line in heading_lines(document.parent_body, fits(column, 12, False))
        ]
    body = heading_lines(document.issuing_body, fits(column, 12, bold=True))
    lines += [(line, {"size": 12, "bold": True, **centre}) for line in body]
    _cell(left, lines)
    _rule(left, left_mm, 25)
    _text(left.add_paragraph(), document.number_and_symbol, **centre)
    _cell(right, [(country, {"size": 12, "bold": True, **centre}), (motto, {"bold": True, **centre})])
    _rule(right, right_mm, 62)
    _text(right.add_paragraph(), document.place_and_date, italic=True, **centre)
    _text(word.add_paragraph(), "", space_after=6)
    _text(word.add_paragraph(), document.kind.upper(), 14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _text(word.add_paragraph(), document.subject, 14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _rule(word, width_mm, 40)
    _text(word.add_paragraph(), "", space_after=6)


def _widths(table, widths_mm: list[float]) -> None:
    """Column widths that Word and LibreOffice both follow (the grid and every cell)."""
    table.autofit = False
    for column, width in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width)
        for cell in column.cells:
            cell.width = Mm(width)


def _row_flag(row, flag: str) -> None:
    """w:tblHeader (repeat the row on every page) or w:cantSplit (keep the row on one page)."""
    marker = OxmlElement(f"w:{flag}")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


def _cell_margins(table, side_pt: float, top_pt: float) -> None:
    """Narrower cell margins than Word's 0.19 cm: a twenty-column table's narrow columns
    otherwise break a heading's word across lines ("ST / T", "Chư / a"), as the PDF's
    table had before (pdf.py pads 2.5 pt)."""
    margins = OxmlElement("w:tblCellMar")
    for edge, points in (("top", top_pt), ("left", side_pt), ("bottom", top_pt), ("right", side_pt)):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:w"), str(round(points * 20)))  # twentieths of a point
        element.set(qn("w:type"), "dxa")
        margins.append(element)
    table._tbl.tblPr.append(margins)


def _table(word, table: Table, width_mm: float) -> None:
    if table.caption:
        caption = _text(word.add_paragraph(), table.caption, 12, italic=True, space_after=2)
        caption.paragraph_format.keep_with_next = True  # never alone at a page's foot
    header_rows = 2 if table.groups else 1
    grid = word.add_table(rows=header_rows + len(table.rows), cols=len(table.columns))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    _cell_margins(grid, CELL_SIDE_PT, CELL_TOP_PT)
    total = sum(c.width for c in table.columns)
    _widths(grid, [width_mm * c.width / total for c in table.columns])
    head = {"size": HEAD_SIZE, "bold": True, "align": WD_ALIGN_PARAGRAPH.CENTER}
    for index, column in enumerate(table.columns):
        _text(grid.cell(header_rows - 1, index).paragraphs[0], column.title, **head)
    if table.groups:
        column = 0
        for title, span in table.groups:
            if span == 1 and not title:
                merged = grid.cell(0, column).merge(grid.cell(1, column))
                for extra in merged.paragraphs[1:]:
                    extra._p.getparent().remove(extra._p)
                merged.paragraphs[0].clear()
                _text(merged.paragraphs[0], table.columns[column].title, **head)
            else:
                merged = grid.cell(0, column).merge(grid.cell(0, column + span - 1))
                _text(merged.paragraphs[0], title, **head)
            column += span
    for row in grid.rows[:header_rows]:
        _row_flag(row, "tblHeader")
        for cell in row.cells:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            for paragraph in cell.paragraphs:  # the heading stays with the first row
                paragraph.paragraph_format.keep_with_next = True
    bold_from = len(table.rows) - table.totals
    for r, values in enumerate(table.rows):
        row = grid.rows[header_rows + r]
        _row_flag(row, "cantSplit")
        for value, cell, column in zip(values, row.cells, table.columns, strict=True):
            _text(cell.paragraphs[0], value, CELL_SIZE, bold=r >= bold_from, align=ALIGN[column.align])
    _text(word.add_paragraph(), "", space_after=4)


def _blocks(word, blocks, width_mm: float) -> None:
    for block in blocks:
        if isinstance(block, Table):
            _table(word, block, width_mm)
        elif isinstance(block, Paragraph):
            paragraph = word.add_paragraph()
            if block.style == "body":
                paragraph.paragraph_format.first_line_indent = Mm(10)
                _text(paragraph, block.text, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=4)
            elif block.style == "heading":
                _text(paragraph, block.text, bold=True, space_after=4)
            else:
                _text(paragraph, block.text, 11.5, italic=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=2)
        elif isinstance(block, Picture):
            word.add_picture(io.BytesIO(block.data), width=Mm(min(block.width_mm, width_mm)))
            word.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            if block.caption:
                caption = word.add_paragraph()
                _text(caption, block.caption, 11.5, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=4)
        else:
            raise TypeError(f"not a document block: {block!r}")


def _closing(word, document: AdministrativeDocument, width_mm: float) -> None:
    spacer = _text(word.add_paragraph(), "", space_after=6)
    if ends_with_text(document):
        # The signature never stands alone on a page: the body's last paragraph and the
        # space under it keep with the recipients and signature (as in the PDF).
        word.paragraphs[-2].paragraph_format.keep_with_next = True
        spacer.paragraph_format.keep_with_next = True
    grid = word.add_table(rows=1, cols=2)
    _no_borders(grid)
    _widths(grid, [width_mm / 2, width_mm / 2])
    _row_flag(grid.rows[0], "cantSplit")  # recipients and signature on one page
    left, right = grid.rows[0].cells
    _cell(left, [(_("Recipients:"), {"size": 12, "bold": True, "italic": True})])
    for recipient in document.recipients:
        _text(left.add_paragraph(), f"- {recipient}", 11)
    sign = document.signature
    centre = {"bold": True, "align": WD_ALIGN_PARAGRAPH.CENTER}
    _cell(right, [(line.upper(), centre) for line in (sign.capacity, sign.title) if line] or [("", {})])
    for _blank in range(4):
        right.add_paragraph()
    _text(right.add_paragraph(), sign.name, **centre)


def _page_numbers(section) -> None:
    """The page number centred in the header, not on the first page."""
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    run.font.name, run.font.size = FONT, Pt(13)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)


def render(document: AdministrativeDocument) -> bytes:
    """The document as DOCX bytes. A plain function: a job can run it for a large one."""
    word = Document()
    normal = word.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(13)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    section = word.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    if document.landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
    top, right, bottom, left = (Mm(value) for value in document.margins_mm)
    section.top_margin, section.right_margin, section.bottom_margin, section.left_margin = top, right, bottom, left
    width_mm = (section.page_width - section.left_margin - section.right_margin) / Mm(1)
    word.core_properties.title = document.title or document.subject
    word.core_properties.author = document.issuing_body
    _page_numbers(section)
    _heading(word, document, width_mm)
    _blocks(word, document.body, width_mm)
    _closing(word, document, width_mm)
    for annex in document.annexes:
        title = _text(word.add_paragraph(), _("Annex").upper(), 14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        # A new page from the title itself: a paragraph holding a page break, after a
        # signature that ends near a page's foot, left a blank page before the annex.
        title.paragraph_format.page_break_before = True
        _text(word.add_paragraph(), annex.title.upper(), 14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        _text(word.add_paragraph(), document.attached_to(), italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=8)
        _blocks(word, annex.blocks, width_mm)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()

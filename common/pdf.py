"""Text set in a PDF paragraph. ReportLab reads a Paragraph's text as markup: `<img src>`
opens a file on the server and embeds it, `<a href>` makes a link (javascript: too),
`<font>` restyles. Every PDF the registry writes builds its paragraphs here, so what a
person typed (names, notes, order texts, narrative) is escaped once and shown as typed."""

from xml.sax.saxutils import escape

from reportlab.platypus import Paragraph


def paragraph(text, style) -> Paragraph:
    """`text` shown literally in `style`; its line breaks stay line breaks."""
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)

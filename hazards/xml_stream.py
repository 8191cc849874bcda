"""XML from outside (a KML, a workbook's sheet) read in blocks, keeping only the rows a
reader asks for: everything else is counted and dropped as soon as it is parsed, so the
memory a file costs is one block and one row, whatever it holds between them.
ElementTree's iterparse keeps every element it has seen under its parent until the end of
the document (clearing one empties it but leaves it there): 4 million <x/> in a 248 KB KMZ
held 355 MB. Parsed by defusedxml (no entity declarations); the limits of
hazards/file_limits.py are checked at every element and text."""

import logging
from collections.abc import Callable, Iterator
from typing import BinaryIO
from xml.etree.ElementTree import Element, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from django.utils.translation import gettext as _

from common.numbers import format_number

from . import file_limits
from .file_limits import TooLarge, too_many_rows

BLOCK = 64 * 1024
log = logging.getLogger(__name__)


def refusal(exc: Exception) -> str:
    """What a person is told of XML refused by the parser (ParseError, defusedxml's
    refusals), to follow "<file>: ": the parser's own words (EntitiesForbidden(name='x',
    system_id='file:///etc/passwd'…)) are logged, not shown."""
    log.info("XML refused: %r", exc)
    if isinstance(exc, DefusedXmlException):
        return _(
            "it declares a document type or entities (<!DOCTYPE …>), which are not accepted: "
            "export it again from the program that made it"
        )
    line = getattr(exc, "position", (0, 0))[0]
    return _("its XML is broken or cut short at line %(line)s: export it again from the program that made it") % {
        "line": format_number(line)
    }


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class _Target:
    """ElementTree parser target: builds the subtrees whose root is one of `rows` (by
    local name), drops everything else, and counts."""

    def __init__(self, rows: frozenset[str], most: int, too_many: Callable[[], TooLarge]):
        self.rows, self.most, self.too_many = rows, most, too_many
        self.builder: TreeBuilder | None = None
        self.depth = 0  # within the row being built
        self.row_elements = 0
        self.outside = 0
        self.count = 0
        self.text = 0
        self.events = 0  # of the parser, to see how long a tag has gone on unfinished
        self.ready: list[Element] = []

    def start(self, tag, attrib):
        self.events += 1
        self.text = 0
        if self.builder is None:
            if local(tag) not in self.rows:
                self.outside += 1
                if self.outside > file_limits.MAX_ELEMENTS_OUTSIDE_ROWS:
                    raise TooLarge(
                        _("it holds more than %(n)s XML elements outside its rows")
                        % {"n": format_number(file_limits.MAX_ELEMENTS_OUTSIDE_ROWS)}
                    )
                return
            self.count += 1
            if self.count > self.most:
                raise self.too_many()
            self.builder, self.row_elements = TreeBuilder(), 0
        self.row_elements += 1
        if self.row_elements > file_limits.MAX_ELEMENTS_PER_ROW:
            raise TooLarge(
                _("its row %(row)d holds more than %(n)s XML elements")
                % {"row": self.count, "n": format_number(file_limits.MAX_ELEMENTS_PER_ROW)}
            )
        self.depth += 1
        self.builder.start(tag, attrib)

    def data(self, text):
        self.events += 1
        self.text += len(text)
        if self.text > file_limits.MAX_TEXT_CHARS:
            raise TooLarge(
                _("it holds a text longer than %(n)s characters") % {"n": format_number(file_limits.MAX_TEXT_CHARS)}
            )
        if self.builder is not None:
            self.builder.data(text)

    def end(self, tag):
        self.events += 1
        self.text = 0
        if self.builder is None:
            return
        self.builder.end(tag)
        self.depth -= 1
        if self.depth == 0:
            self.ready.append(self.builder.close())
            self.builder = None

    def close(self):
        return None


def rows(
    source: BinaryIO, names: set[str], most: int | None = None, too_many: Callable[[], TooLarge] = too_many_rows
) -> Iterator[Element]:
    """Each element whose local name is in `names` (not nested in another), whole, in
    document order: at most `most` of them (MAX_ROWS), else too_many(). ParseError (and
    defusedxml's refusals) for XML that is not sound, TooLarge beyond the limits."""
    target = _Target(frozenset(names), most or file_limits.MAX_ROWS, too_many)
    parser = DefusedXMLParser(target=target)
    unfinished, events = 0, 0
    while block := source.read(BLOCK):
        parser.feed(block)
        # expat 2.5 parses an unfinished tag again from its start at every block
        # (CVE-2023-52425): a tag of N bytes costs N² / BLOCK (pentest P6,
        # bench/NOTES.md). Blocks that end no tag (no element or text came of them) are
        # one tag going on: beyond MAX_TAG_BYTES it is refused.
        unfinished = unfinished + len(block) if target.events == events else 0
        events = target.events
        if unfinished > file_limits.MAX_TAG_BYTES:
            raise TooLarge(
                _("it holds an XML tag or comment longer than %(n)s bytes")
                % {"n": format_number(file_limits.MAX_TAG_BYTES)}
            )
        yield from target.ready
        target.ready.clear()
    parser.close()
    yield from target.ready


class _Counter:
    def __init__(self, most: int, too_many: Callable[[], TooLarge]):
        self.elements, self.most, self.too_many = 0, most, too_many

    def start(self, _tag, _attrib):
        self.elements += 1
        if self.elements > self.most:
            raise self.too_many()

    def close(self):
        return None


def check_elements(source: BinaryIO, most: int, too_many: Callable[[], TooLarge]) -> None:
    """too_many() once the XML holds more than `most` elements: before a library that
    reads a document whole (and slowly) is given it."""
    parser = DefusedXMLParser(target=_Counter(most, too_many))
    while block := source.read(BLOCK):
        parser.feed(block)
    parser.close()

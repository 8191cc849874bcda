"""The values of a workbook's sheets, read within hazards/file_limits.py. openpyxl reads
what is small (the workbook's list of sheets, its styles, which say which cells are
dates) and turns each cell into its value; the sheets and the shared strings are streamed
by hazards/xml_stream.py a row at a time. openpyxl's own read-only sheets are not used:
opening a workbook parses every sheet that declares no dimension to its end, and its
parsers keep every element they have seen under its parent (pentest F7: a 260 KB XLSX
cost 324 MB)."""

from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _
from openpyxl.cell.text import Text
from openpyxl.packaging.relationship import get_rels_path
from openpyxl.reader.excel import ExcelReader, _find_workbook_part  # how openpyxl finds it (pinned)
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.worksheet._reader import WorkSheetParser  # openpyxl's cell parser, pinned in requirements.txt
from openpyxl.xml.constants import ARC_CONTENT_TYPES, ARC_STYLE, SHARED_STRINGS

from common.numbers import format_number

from . import file_limits, xml_stream
from .file_limits import TooLarge, too_many_rows

# Distinct texts a workbook may hold (its shared strings, kept in memory while it is read).
MAX_SHARED_STRINGS = 1_000_000


def _too_many_texts() -> TooLarge:
    return TooLarge(_("it holds more than %(n)s distinct texts") % {"n": format_number(MAX_SHARED_STRINGS)})


class Workbook:
    """An opened workbook: `sheets` (name -> part) and `rows(name)`. Use it with `with`."""

    def __init__(self, path: Path):
        self.reader = ExcelReader(path, read_only=True, data_only=True)
        try:
            self._small(ARC_CONTENT_TYPES)
            self.reader.read_manifest()
            self.strings = self._strings()
            workbook = _find_workbook_part(self.reader.package).PartName[1:]
            self._small(workbook)
            self._small(get_rels_path(workbook))
            self.reader.read_workbook()
            self._small(ARC_STYLE)
            apply_stylesheet(self.reader.archive, self.reader.wb)
            self.sheets = {
                sheet.name: rel.target
                for sheet, rel in self.reader.parser.find_sheets()
                if rel.target in self.reader.valid_files and "chartsheet" not in rel.Type
            }
        except BaseException:
            self.close()
            raise

    def _small(self, part: str) -> None:
        """TooLarge unless the part, which openpyxl reads whole, is as small as a real one."""
        if part not in self.reader.valid_files:
            return
        self._at_most(part, file_limits.XLSX_MAX_PART_BYTES)

        def too_many() -> TooLarge:
            return TooLarge(
                _("%(part)s holds more than %(n)s XML elements")
                % {"part": part, "n": format_number(file_limits.MAX_ELEMENTS_READ_WHOLE)}
            )

        with self.reader.archive.open(part) as source:
            xml_stream.check_elements(source, file_limits.MAX_ELEMENTS_READ_WHOLE, too_many)

    def _at_most(self, part: str, limit: int) -> None:
        """TooLarge if the part inflates beyond `limit` bytes, whatever its name in the zip
        (pentest N1: a workbook part moved under xl/worksheets/ had the sheets' allowance)."""
        if self.reader.archive.getinfo(part).file_size > limit:
            raise TooLarge(_("%(part)s is larger than %(limit)d MB") % {"part": part, "limit": limit // 1_000_000})

    def _strings(self) -> list[str]:
        part = self.reader.package.find(SHARED_STRINGS)
        if part is None:
            return []
        self._at_most(part.PartName[1:], file_limits.XLSX_MAX_STRINGS_BYTES)
        with self.reader.archive.open(part.PartName[1:]) as source:
            return [
                Text.from_tree(element).content.replace("x005F_", "")  # as openpyxl's read_string_table
                for element in xml_stream.rows(source, {"si"}, MAX_SHARED_STRINGS, _too_many_texts)
            ]

    def close(self) -> None:
        self.reader.archive.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()

    def rows(self, name: str) -> Iterator[list]:
        """The sheet's rows as lists of values, a row the sheet leaves out as []."""
        book = self.reader.wb
        cells = WorkSheetParser(
            None,
            self.strings,
            data_only=True,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        number = 0
        with self.reader.archive.open(self.sheets[name]) as source:
            for element in xml_stream.rows(source, {"row"}):
                index, found = cells.parse_row(element)
                cells.row_dimensions.clear()  # row heights: not needed, and kept per row
                if index > file_limits.MAX_ROWS:
                    raise too_many_rows()
                if index <= number:
                    continue  # a row out of order: openpyxl skips it too
                width = max((cell["column"] for cell in found), default=0)
                if width > file_limits.MAX_COLUMNS:
                    raise TooLarge(
                        _("its row %(row)d reaches column %(column)s; the most one import takes is %(n)s")
                        % {"row": index, "column": format_number(width), "n": format_number(file_limits.MAX_COLUMNS)}
                    )
                for _missing in range(number + 1, index):
                    yield []
                values = [None] * width
                for cell in found:
                    values[cell["column"] - 1] = cell["value"]
                number = index
                yield values

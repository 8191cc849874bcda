"""What one file sent to the import may hold, whatever its format, so that reading it costs
memory and time in proportion to these numbers and not to what the file claims (pentest
F7: a small KMZ cost hundreds of megabytes; bench/NOTES.md). Each reader checks them
while it streams, before it builds anything larger, and stops with TooLarge, whose
message names the limit for the person who sent the file."""

from django.utils.translation import gettext as _

from common.numbers import format_number

# A file as sent, and any file inside it once unpacked (the KML of a KMZ, a workbook's
# sheet, the parts of a zipped Shapefile).
MAX_FILE_BYTES = 200 * 1024 * 1024
# Rows of a table, features of a layer, placemarks of a KML (the import benchmark's
# national file holds a million sites).
MAX_ROWS = 1_000_000
# Columns of a table or cells of a sheet's row (KoboToolbox exports have a few hundred).
MAX_COLUMNS = 1_000
# One row's own bytes: a CSV line, a GeoJSON feature, a GeoPackage or Shapefile feature
# as ogr2ogr writes it (an outline of the most vertices allowed is about 250 KB).
MAX_ROW_BYTES = 1024 * 1024
# XML (KML, a workbook's sheet): elements in one row (a placemark, a sheet row), elements
# outside the rows (folders, styles, a sheet's settings), characters of one text.
MAX_ELEMENTS_PER_ROW = 5_000
MAX_ELEMENTS_OUTSIDE_ROWS = 100_000
MAX_TEXT_CHARS = 1_000_000
# XML: one tag with its attributes, or one comment (a KML's are a few hundred bytes).
MAX_TAG_BYTES = 256 * 1024
# XML a library reads whole, and slowly (openpyxl: a workbook's list of sheets and its
# styles, bench/NOTES.md): a real workbook's have a few thousand elements.
MAX_ELEMENTS_READ_WHOLE = 20_000
# A workbook's parts once inflated: its sheets are streamed (hazards/xlsx_reader.py) and
# may be as large as a file sent; its shared strings are held while it is read; the rest
# (the list of sheets, the styles) openpyxl reads whole. Held to these by what each part
# is (the package's content types and relationships), wherever the zip puts it.
XLSX_MAX_STRINGS_BYTES = 64 * 1024 * 1024
XLSX_MAX_PART_BYTES = 10 * 1024 * 1024
# ogr2ogr reading a GeoPackage or Shapefile: its address space and its CPU time. GDAL's
# memory is not Python's to count: a small GeoPackage whose column is computed by SQLite
# made it hold gigabytes (bench/NOTES.md). GDAL itself needs about 350 MB of address
# space to start.
GDAL_MAX_MEMORY_BYTES = 1024 * 1024 * 1024
GDAL_MAX_SECONDS = 300


class TooLarge(Exception):
    """A file goes beyond one of the limits; the message says which, for a person."""


def too_many_rows() -> TooLarge:
    return TooLarge(
        _("it holds more than %(n)s rows, the most one import takes: split it") % {"n": format_number(MAX_ROWS)}
    )


def too_large_unpacked(member: str) -> TooLarge:
    return TooLarge(
        _("%(member)s would unpack to more than %(limit)d MB, the most one import takes")
        % {"member": member[:100], "limit": MAX_FILE_BYTES // 1_000_000}
    )

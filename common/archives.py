"""Zip files from outside (a zipped Shapefile, an XLSX workbook): their declared sizes
are checked before a byte is inflated, and members are copied out in blocks, so a small
file cannot make the server inflate hundreds of megabytes or hold them in memory.

What the archive's end record and central directory declare is checked first: at most
MAX_MEMBERS members and a directory of at most MAX_DIRECTORY_BYTES (Python's zipfile
reads the whole directory when it opens a file), at most MAX_TOTAL_BYTES once inflated,
and no member inflating more than MAX_RATIO times its compressed size (a real Shapefile
or workbook stays far below; a zip bomb is hundreds or thousands). zipfile itself stops
a member at its declared size, so what is declared is what can come out."""

import shutil
import struct
import zipfile
import zlib
from pathlib import Path

from django.utils.translation import gettext as _

from .numbers import format_number

MAX_MEMBERS = 1000
MAX_DIRECTORY_BYTES = 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_RATIO = 100
# Below this a member's ratio means nothing (a few kilobytes of zeros compress 1000 times).
RATIO_FROM_BYTES = 1024 * 1024
BLOCK = 1024 * 1024
# What reading a member of a damaged or cut-short zip raises: a CRC that does not match,
# deflated data zlib cannot inflate (zlib.error, which is no OSError: it answered 500),
# a member that ends early.
DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError)

END_RECORD = struct.Struct("<4s4H2LH")
END_SIGNATURE = b"PK\x05\x06"
ZIP64_LOCATOR = struct.Struct("<4sLQL")
ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")


class ArchiveError(Exception):
    """The archive is refused; the message says why, for a person."""


def _end_record(handle) -> tuple[int, int]:
    """(members, directory bytes) as the end-of-central-directory record declares them
    (its ZIP64 form included)."""
    handle.seek(0, 2)
    size = handle.tell()
    tail_start = max(0, size - END_RECORD.size - 0xFFFF)  # the record ends with a comment of up to 64 KB
    handle.seek(tail_start)
    tail = handle.read()
    at = tail.rfind(END_SIGNATURE)
    if at < 0 or len(tail) - at < END_RECORD.size:
        raise zipfile.BadZipFile
    _signature, _disk, _start_disk, _here, members, directory, _offset, _comment = END_RECORD.unpack_from(tail, at)
    locator = tail[at - ZIP64_LOCATOR.size : at] if at >= ZIP64_LOCATOR.size else b""
    if locator[:4] == b"PK\x06\x07":
        handle.seek(ZIP64_LOCATOR.unpack(locator)[2])
        record = handle.read(ZIP64_END_RECORD.size)
        if len(record) < ZIP64_END_RECORD.size or record[:4] != b"PK\x06\x06":
            raise zipfile.BadZipFile
        members, directory = ZIP64_END_RECORD.unpack(record)[7:9]
    return members, directory


def too_many() -> ArchiveError:
    return ArchiveError(_("The zip file holds too many files (more than %(n)s).") % {"n": format_number(MAX_MEMBERS)})


def check(path: Path) -> zipfile.ZipFile:
    """The archive opened, once what it declares is within the limits; ArchiveError
    (or zipfile.BadZipFile for a file that is no zip) otherwise."""
    with open(path, "rb") as handle:
        members, directory = _end_record(handle)
    if members > MAX_MEMBERS or directory > MAX_DIRECTORY_BYTES:
        raise too_many()
    archive = zipfile.ZipFile(path)
    try:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise too_many()
        total = sum(info.file_size for info in infos)
        if total > MAX_TOTAL_BYTES:
            raise ArchiveError(
                _("The zip file would unpack to %(size)d MB; the limit is %(limit)d MB.")
                % {"size": total // 1_000_000, "limit": MAX_TOTAL_BYTES // 1_000_000}
            )
        for info in infos:
            if info.file_size > RATIO_FROM_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise ArchiveError(
                    _("%(member)s in the zip file is compressed %(ratio)d times: it is refused as a zip bomb.")
                    % {"member": info.filename[:100], "ratio": info.file_size // max(info.compress_size, 1)}
                )
    except ArchiveError:
        archive.close()
        raise
    return archive


def extract(archive: zipfile.ZipFile, member: str, target: Path) -> None:
    """Copy one member to `target` in blocks (never the whole member in memory)."""
    with archive.open(member) as source, open(target, "wb") as out:
        shutil.copyfileobj(source, out, BLOCK)

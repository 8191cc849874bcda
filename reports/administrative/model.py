"""What an administrative document holds, independent of its file format. The layout
(Nghị định 30/2020/NĐ-CP, Phụ lục I) is the renderers' business: pdf and word
draw the same AdministrativeDocument."""

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

# Page margins in mm (top, right, bottom, left). Portrait as the decree sets them (top and
# bottom 20-25, left 30-35, right 15-20); landscape pages (wide tables) turn the binding
# edge to the top.
MARGINS_MM = {"portrait": (20, 15, 20, 30), "landscape": (25, 15, 15, 20)}


@dataclass
class Paragraph:
    """Body text. `style`: "body" (justified, first line indented), "heading" (bold, a
    section such as "I. KẾT QUẢ THỰC HIỆN"), "note" (italic, smaller)."""

    text: str
    style: str = "body"


@dataclass
class Column:
    title: str
    width: float = 1.0  # a share of the table's width, relative to the other columns
    align: str = "left"  # left, right (numbers) or center


@dataclass
class Table:
    """A table of text already formatted (numbers in the reader's format). `groups`: an
    optional first header row of (title, columns spanned) over the column titles; the
    last `totals` rows are set in bold."""

    columns: list[Column]
    rows: list[list[str]]
    groups: list[tuple[str, int]] | None = None
    totals: int = 0
    caption: str = ""


@dataclass
class Picture:
    """A photo in the body, centred: the image's bytes (JPEG or PNG, as stored), its
    width on the page and a caption under it."""

    data: bytes
    caption: str = ""
    width_mm: float = 90


@dataclass
class Signature:
    """The signature block: the capacity in which the signer signs ("TM. ỦY BAN NHÂN DÂN",
    "KT. GIÁM ĐỐC", or empty when the head signs), the signer's title and name."""

    title: str
    name: str = ""
    capacity: str = ""


@dataclass
class Annex:
    title: str
    blocks: list = field(default_factory=list)


@dataclass
class AdministrativeDocument:
    """A document in Vietnamese administrative form. Names in ordinary case ("Ủy ban nhân
    dân tỉnh Sông Xanh", "Báo cáo"): the heading sets them in capitals where the decree
    wants them. `number` empty: a draft, the number left for the registry of outgoing
    documents to fill in ("Số:    /BC-UBND")."""

    issuing_body: str
    kind: str  # "Báo cáo", "Thông báo"...
    subject: str  # trích yếu: what the document is about
    place: str
    day: dt.date
    symbol: str  # ký hiệu: "BC-UBND"
    signature: Signature
    number: str = ""
    parent_body: str = ""  # cơ quan chủ quản, above the issuing body
    body: list = field(default_factory=list)  # Paragraph, Table and Picture blocks
    recipients: list[str] = field(default_factory=list)
    annexes: list[Annex] = field(default_factory=list)
    landscape: bool = False
    title: str = ""  # the file's metadata title; the subject when empty

    @property
    def margins_mm(self) -> tuple[int, int, int, int]:
        return MARGINS_MM["landscape" if self.landscape else "portrait"]

    @property
    def number_and_symbol(self) -> str:
        """ "Số: 12/BC-UBND", or "Số:      /BC-UBND" for a draft."""
        # No-break spaces: PDF and DOCX layout keep them, where ordinary spaces collapse to one.
        number = self.number or "\u00a0" * 8
        return _("No.: %(number)s/%(symbol)s") % {"number": number, "symbol": self.symbol}

    @property
    def place_and_date(self) -> str:
        return place_and_date(self.place, self.day)

    def attached_to(self) -> str:
        """The line under an annex's title naming the document it belongs to."""
        return _("(Attached to %(kind)s no. %(number)s/%(symbol)s of %(date)s by %(body)s)") % {
            "kind": self.kind,
            "number": self.number or "\u2002" * 3,
            "symbol": self.symbol,
            "date": f"{self.day:%d/%m/%Y}",
            "body": self.issuing_body,
        }


def ends_with_text(document: AdministrativeDocument) -> bool:
    """Whether the body ends with a paragraph, which the renderers keep on the signature's
    page (a photo or a table at the end is left where it falls)."""
    return bool(document.body) and isinstance(document.body[-1], Paragraph)


def national_heading() -> tuple[str, str]:
    """Quốc hiệu and tiêu ngữ."""
    return _("SOCIALIST REPUBLIC OF VIETNAM"), _("Independence - Freedom - Happiness")


def place_and_date(place: str, day: dt.date) -> str:
    """ "Sông Xanh, ngày 05 tháng 01 năm 2026": days before the 10th and months before
    March carry a leading zero (Nghị định 30/2020, Phụ lục I, mục II.5)."""
    return _("%(place)s, %(day)s/%(month)s/%(year)s") % {
        "place": place,
        "day": f"{day.day:02d}" if day.day < 10 else str(day.day),
        "month": f"{day.month:02d}" if day.month < 3 else str(day.month),
        "year": day.year,
    }


# The unit a body's name ends with ("Ủy ban nhân dân | xã | Suối Bạc"); the longer names
# first, so that "thị xã" is not read as "xã".
UNIT = re.compile(r"(?<!\S)(THÀNH PHỐ|THỊ XÃ|THỊ TRẤN|ĐẶC KHU|TỈNH|HUYỆN|QUẬN|PHƯỜNG|XÃ)\s")
NO_BREAK = "\u00a0"


def heading_lines(name: str, fits: Callable[[str], bool]) -> list[str]:
    """A body's name in capitals as the heading sets it (Nghị định 30/2020, Phụ lục I):
    on one line if it fits ("UBND XÃ SUỐI BẠC"), else the body above its unit
    ("ỦY BAN NHÂN DÂN" / "XÃ SUỐI BẠC"), and the unit's type above its name where even
    that is too wide ("THỊ TRẤN" / "NÔNG TRƯỜNG MỘC CHÂU"). A line that fits has its words
    bound by no-break spaces, so no renderer splits a name inside it; only a part too wide
    for any line wraps, at its spaces. `fits`: whether a line fits the heading's column."""
    name = " ".join(name.upper().split())
    unit = UNIT.search(name)
    if fits(name) or unit is None:
        lines = [name]
    else:
        body, kind, proper = name[: unit.start()].strip(), unit.group(1), name[unit.end() :].strip()
        place = f"{kind} {proper}"
        lines = ([body] if body else []) + ([place] if fits(place) else [kind, proper])
    return [line.replace(" ", NO_BREAK) if fits(line) else line for line in lines]

"""The one rule for text a person gives the registry to keep: names of sites, campaigns,
areas and people, notes, uploaded files' names."""

import re

from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext as _

# Control characters (C0, DEL, C1) are no text a person types: a terminal or a spreadsheet
# takes them for commands, and a workbook cannot hold most of them (an XLSX export of the
# record would fail). A field of several lines keeps its tabs and line breaks.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_CHARACTERS_IN_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Noncharacters (U+FDD0-U+FDEF, the last two of every plane) and lone surrogates are no
# text either: XML cannot hold U+FFFE, U+FFFF or a surrogate, so a record with one made
# every workbook and Word document covering it fail (pentest P7).
NONCHARACTERS = re.compile(
    "[\ud800-\udfff\ufdd0-\ufdef"
    + "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
    + "]"
)


# What XML 1.0 cannot hold at all: control characters but tab and line breaks, lone
# surrogates, U+FFFE and U+FFFF. Writers of workbooks and Word documents escape or replace
# them in text stored before clean_text refused them.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(value, field: str, label, *, lines: bool = False) -> str:
    """The text stripped, or ValidationError naming the field if it holds a control
    character. Every text the registry stores from a person or a file passes here."""
    text = (value or "").strip()
    found = NONCHARACTERS.search(text)
    if found:
        raise ValidationError(
            {
                field: _("%(field)s contains U+%(code)04X, which is no character: remove it, then send again.")
                % {"field": capfirst(label), "code": ord(found.group())}
            }
        )
    found = (CONTROL_CHARACTERS_IN_LINES if lines else CONTROL_CHARACTERS).search(text)
    if found:
        raise ValidationError(
            {
                field: _("%(field)s contains the control character U+%(code)04X: remove it, then send again.")
                % {"field": capfirst(label), "code": ord(found.group())}
            }
        )
    return text

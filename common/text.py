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

# Invisible characters that change how a name reads: direction controls (Unicode's
# Bidi_Control: embeddings, overrides, isolates and marks) show "nimda" as "admin" or
# reorder a file name's extension, and zero-width characters (spaces, joiners, the word
# joiner, the BOM) make two names that look the same differ. A name is one line: these
# are refused there; notes and narratives of several lines may carry what a copy from
# elsewhere brings, which changes no name a list or a sign-in shows.
INVISIBLE_IN_NAMES = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")

# What XML 1.0 cannot hold at all: control characters but tab and line breaks, lone
# surrogates, U+FFFE and U+FFFF. Writers of workbooks and Word documents escape or replace
# them in text stored before clean_text refused them.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(value, field: str, label, *, lines: bool = False) -> str:
    """The text stripped, or ValidationError naming the field if it holds a control
    character or a noncharacter, or, in a one-line text (a name), an invisible character
    of INVISIBLE_IN_NAMES. Every text the registry stores from a person or a file passes here."""
    text = (value or "").strip()
    found = NONCHARACTERS.search(text)
    if found:
        raise ValidationError(
            {
                field: _("%(field)s contains U+%(code)04X, which is no character: remove it, then send again.")
                % {"field": capfirst(label), "code": ord(found.group())}
            }
        )
    found = None if lines else INVISIBLE_IN_NAMES.search(text)
    if found:
        raise ValidationError(
            {
                field: _(
                    "%(field)s contains U+%(code)04X, an invisible character that changes how text reads "
                    "(a direction mark or a zero-width space): remove it, then send again."
                )
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

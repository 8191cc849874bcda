"""Reading what tablets send, so that one bad record cannot spoil the others.

The body is read by Python's json module as usual. Two things it would refuse for the
whole body are left to each record instead: NaN and Infinity (not JSON, but what a
careless client writes for an unknown number) become floats that the record's checks
refuse, and a number too long for an int becomes an infinite float. A value nested too
deeply for the reader (a hostile body) is read around: the containers above it are
walked one member at a time and the value itself becomes TOO_DEEP, which the record's
checks refuse; the records beside it are read as usual."""

import json
import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class _TooDeep:
    def __repr__(self) -> str:
        return "TOO_DEEP"


TOO_DEEP = _TooDeep()
# Containers walked member by member above a value too deep to read: a batch, its list,
# a record, its inspection, a location. Deeper than that the value as a whole is TOO_DEEP.
WALKED_LEVELS = 5
# Longer integers would hit Python's limit on digits and fail the whole body.
LONGEST_INT = 100
WHITESPACE = re.compile(r"[ \t\n\r]*")
# What matters for finding a value's end: strings (skipped whole) and brackets.
TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _number(text: str):
    return int(text) if len(text) <= LONGEST_INT else float(text)


DECODER = json.JSONDecoder(parse_int=_number)


def loads(text: str):
    """The JSON value of `text`, as described above; json.JSONDecodeError when it is not JSON."""
    try:
        return DECODER.decode(text)
    except RecursionError:
        value, end = _walk(text, _skip_space(text, 0), 0)
        if _skip_space(text, end) != len(text):
            raise json.JSONDecodeError("Extra data", text, end) from None
        return value


def _skip_space(text: str, index: int) -> int:
    return WHITESPACE.match(text, index).end()


def _walk(text: str, index: int, level: int):
    """(value, end) of the JSON value starting at `index`."""
    opening = text[index : index + 1]
    if level < WALKED_LEVELS and opening in ("[", "{"):
        return (_walk_object if opening == "{" else _walk_array)(text, index, level)
    try:
        return DECODER.raw_decode(text, index)
    except RecursionError:
        return TOO_DEEP, _end_of_container(text, index)


def _walk_array(text: str, index: int, level: int):
    items, index = [], _skip_space(text, index + 1)
    if text[index : index + 1] == "]":
        return items, index + 1
    while True:
        item, index = _walk(text, index, level + 1)
        items.append(item)
        index = _skip_space(text, index)
        if text[index : index + 1] == "]":
            return items, index + 1
        index = _skip_space(text, _expect(text, index, ","))


def _walk_object(text: str, index: int, level: int):
    members, index = {}, _skip_space(text, index + 1)
    if text[index : index + 1] == "}":
        return members, index + 1
    while True:
        if text[index : index + 1] != '"':
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, index)
        key, index = DECODER.raw_decode(text, index)
        index = _skip_space(text, _expect(text, _skip_space(text, index), ":"))
        members[key], index = _walk(text, index, level + 1)
        index = _skip_space(text, index)
        if text[index : index + 1] == "}":
            return members, index + 1
        index = _skip_space(text, _expect(text, index, ","))


def _expect(text: str, index: int, char: str) -> int:
    if text[index : index + 1] != char:
        raise json.JSONDecodeError(f"Expecting '{char}' delimiter", text, index)
    return index + 1


def _end_of_container(text: str, index: int) -> int:
    """Where the array or object opening at `index` ends (its brackets balanced, strings
    skipped); the end of the text when it never closes (the reader then refuses it)."""
    depth = 0
    for token in TOKENS.finditer(text, index):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
        elif bracket in ("]", "}"):
            depth -= 1
            if depth == 0:
                return token.end()
    return len(text)


class SyncJSONParser(JSONParser):
    """DRF's JSON parser with the reading above, and a message a person can act on."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = (stream.read() if limit is None else stream.read(limit + 1)) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise ParseError(_("The request is too large: send the records in smaller batches."))
        try:
            return loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise ParseError(_("The request is not UTF-8 text: the app must send JSON in UTF-8.")) from None
        except json.JSONDecodeError as exc:
            raise ParseError(
                _("The request is not valid JSON (%(reason)s at character %(position)d); nothing was stored.")
                % {"reason": exc.msg, "position": exc.pos}
            ) from None

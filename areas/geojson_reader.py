"""The features of a GeoJSON file, read one at a time from a sliding buffer by the json
module's C scanner, so a million-feature file never sits in memory. Having ogr2ogr turn
the file into GeoJSON lines first took as much CPU as the whole rest of an import's
reading. A file holds a FeatureCollection, a Feature or a bare geometry, or a sequence
of them (GeoJSON lines, RFC 8142's record separators allowed).

A `crs` member is read by nobody: one that names WGS 84 is allowed (old files carry it),
any other, links included, stops the file (ForeignCRS). GDAL 3.6 would fetch a linked
crs from the network when it opens the file (areas/spatialfile.py runs this reader over
a GeoJSON file before GDAL may see it)."""

import json
from collections.abc import Iterator
from pathlib import Path

BLOCK = 1 << 20
GEOMETRY_TYPES = frozenset(
    ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"]
)
SPACE = " \t\n\r\x1e"
# How a crs member may name WGS 84 longitude/latitude; nothing else is accepted.
WGS84_NAMES = frozenset(
    [
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "urn:ogc:def:crs:OGC::CRS84",
        "urn:ogc:def:crs:EPSG::4326",
        "urn:ogc:def:crs:EPSG:4326",
        "EPSG:4326",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "http://www.opengis.net/def/crs/EPSG/0/4326",
    ]
)


class GeoJSONError(ValueError):
    """Not GeoJSON text; `at` is the character where it went wrong."""

    def __init__(self, at: int):
        super().__init__(at)
        self.at = at


class ValueTooLarge(ValueError):
    """One feature (or other value) longer than the reader was allowed to hold."""

    def __init__(self, at: int, limit: int):
        super().__init__(at)
        self.at, self.limit = at, limit


class ForeignCRS(ValueError):
    """The file declares a crs that is not WGS 84 by name (a link, a code, a definition)."""

    def __init__(self, crs):
        self.crs = json.dumps(crs, ensure_ascii=False)[:120]
        super().__init__(self.crs)


def check_crs(obj: dict) -> None:
    """ForeignCRS unless the object's crs member is absent or names WGS 84."""
    crs = obj.get("crs")
    if crs is None:
        return
    named = crs.get("properties") if isinstance(crs, dict) and crs.get("type") == "name" else None
    name = named.get("name") if isinstance(named, dict) else None
    if not isinstance(name, str) or name not in WGS84_NAMES:
        raise ForeignCRS(crs)


def _check_geometry(geometry) -> None:
    if isinstance(geometry, dict):
        check_crs(geometry)
        for part in geometry.get("geometries") or ():
            _check_geometry(part)


def _checked(feature: dict) -> dict:
    """The feature, once no crs member in it or its geometry names anything but WGS 84."""
    check_crs(feature)
    _check_geometry(feature.get("geometry"))
    return feature


class _Buffer:
    def __init__(self, handle, most: int | None):
        self.handle = handle
        self.most = most
        self.text = ""
        self.pos = 0
        self.dropped = 0  # characters of the file before the buffer
        self.ended = False
        self.decoder = json.JSONDecoder()

    def _more(self) -> bool:
        if self.ended:
            return False
        block = self.handle.read(BLOCK)
        if not block:
            self.ended = True
            return False
        # Drop what was read: the buffer slides along the file.
        self.dropped += self.pos
        self.text = self.text[self.pos :] + block
        self.pos = 0
        return True

    def _longer(self) -> bool:
        """False, or ValueTooLarge when the value being read is longer than allowed."""
        if self.most is not None and len(self.text) - self.pos > self.most:
            raise ValueTooLarge(self.where(), self.most)
        return False

    def peek(self) -> str:
        """The next character that is not white space, or "" at the end of the file."""
        while True:
            text, pos = self.text, self.pos
            while pos < len(text) and text[pos] in SPACE:
                pos += 1
            self.pos = pos
            if pos < len(text):
                return text[pos]
            if not self._more():
                return ""

    def where(self) -> int:
        return self.dropped + self.pos

    def expect(self, characters: str) -> str:
        found = self.peek()
        if not found or found not in characters:
            raise GeoJSONError(self.where())
        self.pos += 1
        return found

    def value(self):
        """The next JSON value. A value that reaches the end of the buffer may be cut
        short (a number, or an object missing its end): read more and decode it again,
        unless it is longer than `most` characters already."""
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                if self._longer() or self._more():
                    continue
                raise GeoJSONError(self.dropped + exc.pos) from None
            except RecursionError:  # nested deeper than json decodes; no real GeoJSON nests so
                raise GeoJSONError(self.where()) from None
            except ValueError:  # an integer of more digits than int() converts (4,300); none is real
                raise GeoJSONError(self.where()) from None
            if end >= len(self.text) and (self._longer() or self._more()):
                continue
            if self.most is not None and end - self.pos > self.most:
                raise ValueTooLarge(self.where(), self.most)
            self.pos = end
            return value


def _features_of(buffer: _Buffer) -> Iterator[dict]:
    """The features of the top-level value at the buffer's position: those of a
    FeatureCollection streamed one by one, a Feature, or a geometry as a feature."""
    buffer.expect("{")
    members = {}
    streamed = False
    if buffer.peek() == "}":
        buffer.expect("}")
    else:
        while True:
            key = buffer.value()
            if not isinstance(key, str):
                raise GeoJSONError(buffer.where())
            buffer.expect(":")
            if key == "features" and buffer.peek() == "[":
                streamed = True
                yield from _array(buffer)
            else:
                members[key] = buffer.value()
                if key == "crs":
                    check_crs(members)
            if buffer.expect(",}") == "}":
                break
    if streamed:
        return
    if members.get("type") == "Feature":
        yield _checked(members)
    elif members.get("type") in GEOMETRY_TYPES:
        _check_geometry(members)
        yield {"type": "Feature", "properties": {}, "geometry": members}


def _array(buffer: _Buffer) -> Iterator[dict]:
    buffer.expect("[")
    if buffer.peek() == "]":
        buffer.expect("]")
        return
    while True:
        feature = buffer.value()
        if isinstance(feature, dict):
            yield _checked(feature)
        if buffer.expect(",]") == "]":
            return


def features(path: Path, most: int | None = None) -> Iterator[dict]:
    """Each feature of the file as the json module decodes it. UnicodeDecodeError for a
    file that is not UTF-8, GeoJSONError for one that is not GeoJSON, ForeignCRS for
    one that declares a crs other than WGS 84, ValueTooLarge for a feature (or a member
    of the collection) longer than `most` characters: it is decoded whole, in several
    times its length of memory."""
    with open(path, encoding="utf-8-sig") as handle:
        buffer = _Buffer(handle, most)
        while buffer.peek():
            yield from _features_of(buffer)

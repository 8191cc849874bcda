"""The placemarks of a KML file (Google Earth, Google My Maps, QGIS and the registry's own
export) or of the KML inside a KMZ, as GeoJSON-like features, read by the registry
itself: GDAL's KML drivers would follow a NetworkLink to any address, and a file must
never make the server fetch anything (areas/spatialfile.py); a KMZ is opened within the
archive limits (common/archives.py) and its KML may unpack to no more than a KML may be
sent. The XML is read by hazards/xml_stream.py: a block and one placemark at a time,
within the limits of hazards/file_limits.py.

A placemark's properties are its <name>, its <description> and its ExtendedData
(<Data name><value> as My Maps writes it, <SimpleData name> as GDAL and QGIS do). Its
geometry: a Point, a Polygon (outer ring and holes), or the type of anything else.
NetworkLinks are never opened; counted, so the caller can say they were left out."""

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from django.utils.translation import gettext as _

from common.archives import DAMAGED, ArchiveError, check

from . import file_limits, xml_stream
from .file_limits import TooLarge, too_large_unpacked


class KMLError(Exception):
    """The file is not readable KML (or KMZ); the message says why, for a person."""


def _child(element, name: str):
    return next((c for c in element if xml_stream.local(c.tag) == name), None)


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text  # left as written: the import reports it on the placemark's row


def _positions(text: str | None) -> list[list]:
    """KML coordinates ("lon,lat[,alt] lon,lat[,alt] ...") as [lon, lat] pairs."""
    pairs = (item.split(",") for item in (text or "").split())
    return [[_number(parts[0]), _number(parts[1] if len(parts) > 1 else "")] for parts in pairs]


def _ring(boundary) -> list[list[float]]:
    ring = next((c for c in boundary.iter() if xml_stream.local(c.tag) == "coordinates"), None)
    return _positions(ring.text if ring is not None else None)


def _geometry(placemark) -> dict | None:
    for element in placemark:
        kind = xml_stream.local(element.tag)
        if kind == "Point":
            positions = _positions(getattr(_child(element, "coordinates"), "text", None))
            if len(positions) > 1:  # several points, for its row to be refused: which was meant?
                return {"type": "MultiPoint", "coordinates": positions}
            return {"type": "Point", "coordinates": positions[0] if positions else []}
        if kind == "Polygon":
            outer = _child(element, "outerBoundaryIs")
            holes = [_ring(b) for b in element if xml_stream.local(b.tag) == "innerBoundaryIs"]
            return {"type": "Polygon", "coordinates": [_ring(outer) if outer is not None else [], *holes]}
        if kind in ("LineString", "LinearRing", "MultiGeometry", "Model", "Track", "MultiTrack"):
            return {"type": kind}
    return None


def _properties(placemark) -> dict:
    properties = {}
    for element in placemark:
        kind = xml_stream.local(element.tag)
        if kind in ("name", "description") and element.text:
            properties[kind] = element.text.strip()
        elif kind == "ExtendedData":
            for data in element.iter():
                if xml_stream.local(data.tag) == "Data" and data.get("name"):
                    value = _child(data, "value")
                    properties[data.get("name")] = (value.text or "").strip() if value is not None else ""
                elif xml_stream.local(data.tag) == "SimpleData" and data.get("name"):
                    properties[data.get("name")] = (data.text or "").strip()
    return properties


class Placemarks:
    """Iterating gives each placemark as {"properties": ..., "geometry": ...}; after it,
    `network_links` says how many NetworkLinks were passed over."""

    def __init__(self, path: Path):
        self.path = path
        self.network_links = 0

    @contextmanager
    def _source(self):
        if self.path.suffix.lower() != ".kmz":
            with open(self.path, "rb") as source:
                yield source
            return
        try:
            archive = check(self.path)
        except ArchiveError as exc:
            raise KMLError(str(exc)) from None
        except zipfile.BadZipFile:
            raise KMLError(_("it is not a zip file, as a KMZ is")) from None
        with archive:
            # Google Earth names it doc.kml; without it, the one KML at the top of the
            # archive (of several, which one is meant is not for the registry to guess).
            names = [n for n in archive.namelist() if n.lower().endswith(".kml") and "/" not in n]
            if not names:
                raise KMLError(_("the KMZ holds no KML file"))
            if "doc.kml" not in names and len(names) > 1:
                raise KMLError(
                    _("the KMZ holds several KML files (%(names)s) and no doc.kml: send the KML file to import")
                    % {"names": ", ".join(sorted(names))}
                )
            name = "doc.kml" if "doc.kml" in names else names[0]
            if archive.getinfo(name).file_size > file_limits.MAX_FILE_BYTES:
                raise KMLError(str(too_large_unpacked(name)))
            with archive.open(name) as source:
                yield source

    def __iter__(self) -> Iterator[dict]:
        self.network_links = 0
        try:
            with self._source() as source:
                for element in xml_stream.rows(source, {"Placemark", "NetworkLink"}):
                    if xml_stream.local(element.tag) == "Placemark":
                        yield {"properties": _properties(element), "geometry": _geometry(element)}
                    else:
                        self.network_links += 1
        except TooLarge as exc:
            raise KMLError(str(exc)) from None
        except (ParseError, DefusedXmlException) as exc:
            raise KMLError(xml_stream.refusal(exc)) from None
        except (OSError, *DAMAGED) as exc:  # a KMZ member cut short or corrupt
            xml_stream.log.info("KMZ refused: %r", exc)
            raise KMLError(_("it is not a readable KMZ: the archive is damaged or cut short; send it again")) from None

"""A QGIS style (QML) for each collection, written from the collections' registry: the
fields' titles as aliases and each choice's label in place of its value (in the language
of the request), and, for the sites and their outlines, a colour per state in the maps'
palette with the due ring. QGIS 3.22 cannot fetch a style from an OGC API, so a GIS
officer loads the file once (Layer Properties → Symbology → Style → Load Style) and keeps
it in the project. It holds no registry data."""

from xml.etree import ElementTree as ET

from django.utils.translation import gettext as _

from ..tile_documents import palette
from .collections import Collection

# The oldest QGIS the style is written for; later versions read it as well.
QGIS_VERSION = "3.22.0"
WHITE = "255,255,255,255"
OUTLINE_OPACITY = "128"  # an outline's fill lets the basemap through; its edge does not


def _rgba(colour: str, alpha: str = "255") -> str:
    """'#d7191c' as QGIS writes colours: '215,25,28,255'."""
    return ",".join(str(int(colour[i : i + 2], 16)) for i in (1, 3, 5)) + f",{alpha}"


def _options(parent: ET.Element, values: dict) -> ET.Element:
    """A QGIS option map (QgsXmlUtils' format) of strings, booleans, integers and maps."""
    for name, value in values.items():
        if isinstance(value, dict):
            _options(ET.SubElement(parent, "Option", name=name, type="Map"), value)
        elif isinstance(value, bool):
            ET.SubElement(parent, "Option", name=name, type="bool", value="true" if value else "false")
        elif isinstance(value, int):
            ET.SubElement(parent, "Option", name=name, type="int", value=str(value))
        else:
            ET.SubElement(parent, "Option", name=name, type="QString", value=value)
    return parent


def _symbol_layer(parent: ET.Element, name: str, kind: str, props: dict) -> ET.Element:
    """A symbol of one simple layer (SimpleMarker or SimpleFill) with these properties."""
    symbol_type = "marker" if kind == "SimpleMarker" else "fill"
    symbol = ET.SubElement(
        parent, "symbol", {"name": name, "type": symbol_type, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"}
    )
    layer = ET.SubElement(symbol, "layer", {"class": kind, "enabled": "1", "locked": "0", "pass": "0"})
    for key, value in props.items():
        ET.SubElement(layer, "prop", k=key, v=value)
    return layer


def _state_symbol(parent: ET.Element, name: str, geometry_type: str, fill: str, ring: str) -> None:
    """A circle for a point, a fill for a polygon, in `fill`; the edge drawn in the due ring's
    colour when the feature is due for inspection, white otherwise."""
    edge = {"outline_color": WHITE, "outline_width": "0.5"}
    if geometry_type == "Point":
        kind, props = "SimpleMarker", {"name": "circle", "size": "3", "color": _rgba(fill)}
    else:
        kind, props = "SimpleFill", {"style": "solid", "color": _rgba(fill, OUTLINE_OPACITY)}
    layer = _symbol_layer(parent, name, kind, {**props, **edge})
    due_edge = f"""if("due", '{_rgba(ring)}', '{WHITE}')"""
    defined = {"outlineColor": {"active": True, "expression": due_edge, "type": 3}}
    _options(
        ET.SubElement(ET.SubElement(layer, "data_defined_properties"), "Option", type="Map"),
        {"name": "", "properties": defined, "type": "collection"},
    )


def _renderer(root: ET.Element, collection: Collection) -> None:
    if collection.coloured_by is None:  # areas: their edges, no fill; orders: a plain mark
        renderer = ET.SubElement(root, "renderer-v2", type="singleSymbol", symbollevels="0", forceraster="0")
        if collection.geometry_type == "Point":
            mark = {"name": "diamond", "size": "3.5", "color": "60,60,60,255", "outline_color": WHITE}
            _symbol_layer(ET.SubElement(renderer, "symbols"), "0", "SimpleMarker", mark)
        else:
            edge = {"style": "no", "outline_color": "60,60,60,255", "outline_width": "0.4"}
            _symbol_layer(ET.SubElement(renderer, "symbols"), "0", "SimpleFill", edge)
        return
    colours, ring = palette()
    prop = next(p for p in collection.properties if p.name == collection.coloured_by)
    renderer = ET.SubElement(
        root, "renderer-v2", type="categorizedSymbol", attr=prop.name, symbollevels="0", forceraster="0"
    )
    categories, symbols = ET.SubElement(renderer, "categories"), ET.SubElement(renderer, "symbols")
    for number, (value, label) in enumerate(prop.choices.choices):
        ET.SubElement(categories, "category", render="true", symbol=str(number), value=value, label=str(label))
        _state_symbol(symbols, str(number), collection.geometry_type, colours[value], ring)


def _fields(root: ET.Element, collection: Collection) -> None:
    """Aliases, and a value map (QGIS shows a choice's label, keeps its value) per choice."""
    configuration = ET.SubElement(root, "fieldConfiguration")
    aliases = ET.SubElement(root, "aliases")
    for index, prop in enumerate(collection.properties):
        field = ET.SubElement(configuration, "field", name=prop.name, configurationFlags="None")
        if prop.choices is not None:
            widget = ET.SubElement(field, "editWidget", type="ValueMap")
            config = ET.SubElement(ET.SubElement(widget, "config"), "Option", type="Map")
            entries = ET.SubElement(config, "Option", name="map", type="List")
            blank = [("", "")] if "" in prop.schema["enum"] else []  # shown empty, not as "()"
            for value, label in blank + prop.choices.choices:
                entry = ET.SubElement(entries, "Option", type="Map")
                ET.SubElement(entry, "Option", name=str(label), type="QString", value=value)
        ET.SubElement(aliases, "alias", field=prop.name, index=str(index), name=prop.title())


def style(collection: Collection) -> bytes:
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology|Fields")
    _renderer(root, collection)
    _fields(root, collection)
    ET.SubElement(root, "layerGeometryType").text = "0" if collection.geometry_type == "Point" else "2"
    ET.indent(root)
    comment = _("QGIS style of %(title)s, from the hazard registry") % {"title": collection.title()}
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f"<!-- {comment.replace('--', '-')} -->\n"
        f"{ET.tostring(root, encoding='unicode')}\n"
    ).encode()

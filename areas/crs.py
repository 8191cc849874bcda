"""The coordinate systems a file may be in, and their way to WGS 84.

Besides WGS 84 (longitude/latitude, and UTM 48N/49N), Vietnamese survey and cadastral
data is in VN-2000: geographic, UTM zones 48 and 49, and the 3° zones (TM-3, scale
0.9999, false easting 500 km) whose central meridian each province's cadastre uses.
The definitions are the EPSG dataset's (as PROJ ships it), whose areas of use name the
provinces of Circular 973/2001/TT-TCĐC for each meridian (listed in PROVINCES below for
people choosing a zone). VN-2000 reaches WGS 84 only by "VN-2000 to WGS 84 (2)"
(EPSG:6960), the official seven parameters of that circular: PROJ would otherwise pick,
point by point, an academic set for two Mekong delta blocks (EPSG:5194), and a file
whose datum PROJ does not know is moved by nothing, about 224 m off.

A file's declared system is identified only when it is one of these by name and
parameters; anything else is refused, never guessed. PROJ's network access stays off
(pyproj's default): no grid or definition is ever fetched."""

from dataclasses import dataclass
from functools import cache

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from pyproj.transformer import TransformerGroup

WGS84 = 4326
OFFICIAL = "VN-2000 to WGS 84 (2)"  # EPSG:6960, Circular 973/2001/TT-TCĐC


@dataclass(frozen=True)
class System:
    code: int  # EPSG
    label: str
    # The provinces (before the 2025 mergers, as the cadastre still uses them) of a TM-3 zone.
    provinces: str = ""

    @property
    def projected(self) -> bool:
        return self.code != WGS84 and self.code != VN2000

    def __str__(self) -> str:
        return f"{self.label} ({self.provinces})" if self.provinces else self.label


VN2000 = 4756
# Every system a file may be in, by EPSG code. Provinces from the EPSG areas of use.
SYSTEMS = {
    s.code: s
    for s in [
        System(WGS84, "WGS 84 (EPSG:4326)"),
        System(32648, "WGS 84 / UTM 48N (EPSG:32648)"),
        System(32649, "WGS 84 / UTM 49N (EPSG:32649)"),
        System(VN2000, "VN-2000 (EPSG:4756)"),
        System(3405, "VN-2000 / UTM 48N (EPSG:3405)"),
        System(3406, "VN-2000 / UTM 49N (EPSG:3406)"),
        System(9205, "VN-2000 / TM-3 103°00' (EPSG:9205)", "Điện Biên, Lai Châu"),
        System(9206, "VN-2000 / TM-3 104°00' (EPSG:9206)", "Sơn La"),
        System(9207, "VN-2000 / TM-3 104°30' (EPSG:9207)", "Cà Mau, Kiên Giang"),
        System(9208, "VN-2000 / TM-3 104°45' (EPSG:9208)", "An Giang, Lào Cai, Nghệ An, Phú Thọ, Yên Bái"),
        System(
            5897,
            "VN-2000 / TM-3 105°00' (EPSG:5897)",
            "Hà Nội, Hà Nam, Ninh Bình, Thanh Hóa, Vĩnh Phúc, Cần Thơ, Bạc Liêu, Đồng Tháp, Hậu Giang",
        ),
        System(
            9209,
            "VN-2000 / TM-3 105°30' (EPSG:9209)",
            "Bắc Ninh, Hà Giang, Hà Tĩnh, Hải Dương, Hưng Yên, Nam Định, Sóc Trăng, Tây Ninh, Thái Bình, "
            "Trà Vinh, Vĩnh Long",
        ),
        System(
            9210,
            "VN-2000 / TM-3 105°45' (EPSG:9210)",
            "Hải Phòng, TP. Hồ Chí Minh, Bến Tre, Bình Dương, Cao Bằng, Long An, Tiền Giang",
        ),
        System(9211, "VN-2000 / TM-3 106°00' (EPSG:9211)", "Hòa Bình, Quảng Bình, Tuyên Quang"),
        System(9212, "VN-2000 / TM-3 106°15' (EPSG:9212)", "Bình Phước, Quảng Trị"),
        System(9213, "VN-2000 / TM-3 106°30' (EPSG:9213)", "Bắc Kạn, Thái Nguyên"),
        System(9214, "VN-2000 / TM-3 107°00' (EPSG:9214)", "Bắc Giang, Thừa Thiên Huế"),
        System(9215, "VN-2000 / TM-3 107°15' (EPSG:9215)", "Lạng Sơn"),
        System(9216, "VN-2000 / TM-3 107°30' (EPSG:9216)", "Kon Tum"),
        System(
            5899,
            "VN-2000 / TM-3 107°45' (EPSG:5899)",
            "Quảng Ninh, Đà Nẵng, Quảng Nam, Bà Rịa - Vũng Tàu, Đồng Nai, Lâm Đồng",
        ),
        System(5898, "VN-2000 / TM-3 108°00' (EPSG:5898)", "Quảng Ngãi"),
        System(9217, "VN-2000 / TM-3 108°15' (EPSG:9217)", "Bình Định, Khánh Hòa, Ninh Thuận"),
        System(9218, "VN-2000 / TM-3 108°30' (EPSG:9218)", "Bình Thuận, Đắk Lắk, Đắk Nông, Gia Lai, Phú Yên"),
    ]
}


class UnknownSystem(Exception):
    """A declared coordinate system that is none of SYSTEMS; `name` is what it calls itself."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def identify(wkt: str) -> System:
    """The system a file's WKT (a Shapefile's .prj, a GeoPackage's definition) declares,
    when it is one of SYSTEMS: identified by EPSG's own matching at full confidence, or
    with the same parameters under another name when its datum is the system's own (an
    unnamed datum on WGS 84's ellipsoid with a TM-3 meridian is not taken for VN-2000).
    A TOWGS84 clause is not used: VN-2000 goes by the official transformation."""
    try:
        crs = CRS.from_wkt(wkt)
    except CRSError:
        raise UnknownSystem(wkt[:80]) from None
    crs = crs.source_crs if crs.is_bound else crs
    for authority, code, confidence in crs.list_authority(min_confidence=70):
        if authority != "EPSG" or int(code) not in SYSTEMS:
            continue
        if confidence >= 90 or _same_datum(crs, int(code)):
            return SYSTEMS[int(code)]
    raise UnknownSystem(crs.name)


def _same_datum(crs: CRS, code: int) -> bool:
    """The declared datum is the one `code` is based on (by name, ESRI's aliases such as
    D_Vietnam_2000 resolved by PROJ), not merely the same ellipsoid: VN-2000's is WGS 84's."""
    return crs.datum is not None and crs.datum.name == CRS.from_epsg(code).datum.name


@cache
def to_wgs84(code: int) -> Transformer:
    """The transformation from SYSTEMS[code] to WGS 84 longitude/latitude (x = easting or
    longitude first): for VN-2000 the official one, whatever the point."""
    candidates = TransformerGroup(CRS.from_epsg(code), CRS.from_epsg(WGS84), always_xy=True).transformers
    if SYSTEMS[code].label.startswith("VN-2000"):
        candidates = [t for t in candidates if OFFICIAL in t.description]
    return candidates[0]


def choices() -> list[tuple[int, str]]:
    """(code, label) of each system, for a person to choose the one of a table."""
    return [(code, str(system)) for code, system in SYSTEMS.items()]

"""A photo as a phone writes it, carrying every kind of metadata that can say where and by
whom it was taken, and the check that a stored photo holds none of it: only the pixels,
turned upright by the orientation tag, in a JPEG with its JFIF header."""

import io
import re

from PIL import Image, ImageCms

# Text each kind of metadata carries; none may be found in a stored file.
SECRETS = {
    "gps": b"GPS-21.0345N",  # the GPS IFD's processing method, beside the position itself
    "maker": b"PhoneMaker-SecretModel",
    "maker_note": b"MAKERNOTE-serial-A1B2C3",
    "user_comment": b"UserComment-Ao nha ong Ba",
    "description": b"Description-ao-sau-3m",
    "artist": b"Artist-Nguyen Van Lan",
    "comment": b"COM-Ao nha ong Ba, 21.03N",
    "xmp": b"XMP-ao-nha-ong-ba",
    "iptc": b"IPTC-Thon 3",
    "icc": b"ICC-Camera-Profile",
    "trailer": b"TRAILER-after-the-image",
}
GPS = {1: "N", 2: (21.0, 2.0, 4.2), 3: "E", 4: (105.0, 50.0, 3.0), 27: b"ASCII\x00\x00\x00" + SECRETS["gps"]}


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = SECRETS["maker"].decode()  # Make
    exif[0x010E] = SECRETS["description"].decode()  # ImageDescription
    exif[0x013B] = SECRETS["artist"].decode()  # Artist
    exif[0x8825] = GPS
    exif[0x8769] = {
        0x927C: SECRETS["maker_note"],  # MakerNote
        0x9286: b"ASCII\x00\x00\x00" + SECRETS["user_comment"],  # UserComment
    }
    return exif.tobytes()


def _icc() -> bytes:
    profile = ImageCms.createProfile("sRGB")
    ImageCms.ImageCmsProfile(profile)
    data = bytearray(ImageCms.ImageCmsProfile(profile).tobytes())
    # The profile's description as a camera's names it: its text travels inside the profile.
    at = data.find(b"sRGB")
    if at >= 0:
        data[at : at + 4] = b"ICC-"
    return bytes(data) + SECRETS["icc"]


def _app13_iptc() -> bytes:
    """Photoshop's APP13 segment with an IPTC caption, as photo editors write it."""
    caption = SECRETS["iptc"]
    iptc = b"\x1c\x02\x78" + len(caption).to_bytes(2, "big") + caption
    resource = b"8BIM\x04\x04\x00\x00" + len(iptc).to_bytes(4, "big") + iptc
    body = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + (len(body) + 2).to_bytes(2, "big") + body


def camera_jpeg(size=(64, 48), orientation: int = 6) -> bytes:
    """A JPEG of `size` stored sideways (orientation 6: turn 90° clockwise to show it),
    with EXIF (GPS, maker, maker notes, comments), a comment segment, XMP, an ICC profile
    with text, Photoshop's IPTC and bytes after the image's end, as some phones append."""
    image = Image.new("RGB", size, (30, 120, 200))
    image.paste((220, 40, 40), (0, 0, size[0] // 2, size[1] // 2))  # a red corner: where "up" is
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description>'
        + SECRETS["xmp"]
        + b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    out = io.BytesIO()
    image.save(
        out, format="JPEG", quality=95, exif=_exif(orientation), comment=SECRETS["comment"], icc_profile=_icc(), xmp=xmp
    )
    data = out.getvalue()
    data = data[:2] + _app13_iptc() + data[2:]  # right after SOI
    data += SECRETS["trailer"]
    assert all(secret in data for secret in SECRETS.values()), "the source carries each kind"
    with Image.open(io.BytesIO(data)) as check:
        assert check.getexif().get_ifd(0x8825) and "icc_profile" in check.info and "comment" in check.info
    return data


def jpeg_markers(data: bytes) -> list[int]:
    """The JPEG's marker segments before its image data (APPn, COM, DQT, SOF...)."""
    markers, at = [], 2
    while at < len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: image data follows
            break
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return markers


APP0, APP15, COM = 0xE0, 0xEF, 0xFE


def metadata_left(stored: bytes) -> list[str]:
    """What a stored file holds beyond pixels; empty when it holds nothing else."""
    found = [name for name, secret in SECRETS.items() if secret in stored]
    markers = jpeg_markers(stored)
    if stored[:2] != b"\xff\xd8" or not stored.endswith(b"\xff\xd9"):
        found.append("not a JPEG ending where its image ends")
    apps = [m for m in markers if APP0 <= m <= APP15]
    if apps != [APP0]:
        found.append("application segments " + ", ".join(hex(m) for m in apps))
    if COM in markers:
        found.append("a comment segment")
    if not re.match(rb"\xff\xd8\xff\xe0\x00\x10JFIF\x00", stored):
        found.append("an APP0 other than the plain JFIF header")
    with Image.open(io.BytesIO(stored)) as image:
        if image.getexif():
            found.append("EXIF")
        found.extend(key for key in ("icc_profile", "comment", "exif", "xmp", "photoshop") if key in image.info)
    return found


def red_corner(stored: bytes) -> str:
    """Where the source's red corner ended up: top-right once the orientation 6 is applied."""
    with Image.open(io.BytesIO(stored)) as image:
        width, height = image.size
        corners = {
            "top-left": (1, 1),
            "top-right": (width - 2, 1),
            "bottom-left": (1, height - 2),
            "bottom-right": (width - 2, height - 2),
        }
        rgb = image.convert("RGB")
        return next(name for name, xy in corners.items() if rgb.getpixel(xy)[0] > 150 and rgb.getpixel(xy)[2] < 120)

"""Evidence photos: decoded only from JPEG, PNG or WebP, within size and pixel limits,
turned upright, re-encoded without any metadata (EXIF with its GPS, comments, ICC and
XMP: these are places where children play) and given a thumbnail for lists."""

import hashlib
import io
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, UnidentifiedImageError

from common.numbers import format_number

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
STORED_LONG_SIDE = 2560
THUMB_LONG_SIDE = 320


@dataclass(frozen=True)
class ProcessedPhoto:
    sha256: str  # of the bytes the device sent, so a retried upload is recognised
    image: bytes
    thumbnail: bytes
    width: int
    height: int


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # Nothing of the source is written: info (comment, ICC, XMP, EXIF) was emptied and no
    # metadata argument is given, so the file holds pixels and its JFIF header only.
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def too_large(size: int) -> ValidationError | None:
    """The refusal for a photo of `size` bytes, or None when it is within the limit."""
    if size <= settings.PHOTO_MAX_BYTES:
        return None
    return ValidationError(
        _("The photo is too large (%(size)s MB); the limit is %(limit)s MB.")
        % {"size": format_number(size / 1e6, 1), "limit": format_number(settings.PHOTO_MAX_BYTES // 1_000_000)},
        code="too_large",
    )


# What decoding may cost is bounded by what was sent: a photo may declare at most
# PIXELS_PER_BYTE pixels per byte of its file (a camera JPEG holds 2 to 12; the review's
# 48 KB PNG declaring 7071 x 7071 held a thousand and cost 524 MB), and any photo up to
# FREE_PIXELS, within PHOTO_MAX_PIXELS.
PIXELS_PER_BYTE = 40
FREE_PIXELS = 4_000_000


def pixel_budget(size: int) -> int:
    return min(settings.PHOTO_MAX_PIXELS, max(FREE_PIXELS, size * PIXELS_PER_BYTE))


def _too_many_pixels(size: int) -> ValidationError:
    return ValidationError(
        _(
            "The photo has too many pixels for a file of %(kb)s KB (at most %(mp)s megapixels): "
            "send the photo as the camera took it."
        )
        % {"kb": format_number(size // 1000), "mp": format_number(pixel_budget(size) / 1e6, 1)},
        code="too_many_pixels",
    )


# What Pillow raises for a file that is no sound image: truncated or broken data, text
# chunks beyond its limits (ValueError), a header that lies about its size.
BROKEN = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


# How each EXIF orientation is undone.
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says. Only the orientation is read:
    ImageOps.exif_transpose also rewrites the EXIF it leaves, which the stored photo drops
    anyway, and a tag of the wrong type there (text stored as a number) raised
    AttributeError, TypeError or struct.error, a 500 a tablet retries for ever (pentest 5)."""
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    method = UPRIGHT.get(orientation) if isinstance(orientation, int) else None
    return image if method is None else image.transpose(method)


def process_photo(data: bytes) -> ProcessedPhoto:
    refusal = too_large(len(data))
    if refusal:
        raise refusal
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except UnidentifiedImageError:
        raise ValidationError(_("The file is not a JPEG, PNG or WebP photo."), code="not_an_image") from None
    except Image.DecompressionBombError:  # Pillow's own bound, far above ours
        raise _too_many_pixels(len(data)) from None
    except BROKEN:
        raise _damaged() from None
    # Refuse by the declared size before decoding a single pixel (decompression bombs).
    width, height = image.size
    if width * height > pixel_budget(len(data)):
        raise _too_many_pixels(len(data))
    try:
        # One decoded copy: a JPEG is decoded already scaled down (draft), the image is
        # shrunk in place, and only then turned upright and converted.
        scale = min(1.0, STORED_LONG_SIDE / max(width, height))
        image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
        image.load()
        factor = max(image.size) // STORED_LONG_SIDE
        if factor >= 2:  # a whole-number reduction first frees the full image early
            image = image.reduce(factor)
        image.thumbnail((STORED_LONG_SIDE, STORED_LONG_SIDE), Image.Resampling.LANCZOS)
        upright = _upright(image)
        stored = upright if upright.mode == "RGB" else upright.convert("RGB")
    except BROKEN:
        raise _damaged() from None
    stored.info = {}
    thumbnail = stored.copy()
    thumbnail.thumbnail((THUMB_LONG_SIDE, THUMB_LONG_SIDE), Image.Resampling.LANCZOS)
    return ProcessedPhoto(
        sha256=content_hash(data),
        image=_jpeg(stored),
        thumbnail=_jpeg(thumbnail),
        width=stored.width,
        height=stored.height,
    )


def _damaged() -> ValidationError:
    return ValidationError(_("The photo is damaged or incomplete; send it again."), code="damaged")

"""Evidence photos: decoded only from JPEG, PNG or WebP, within size and pixel limits,
turned upright, re-encoded without any metadata (EXIF GPS included: these are places
where children play) and given a thumbnail for lists."""

import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

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


def _jpeg(image: Image.Image, long_side: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # No exif= argument: the encoder writes no metadata at all.
    copy.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def too_large(size: int) -> ValidationError | None:
    """The refusal for a photo of `size` bytes, or None when it is within the limit."""
    if size <= settings.PHOTO_MAX_BYTES:
        return None
    return ValidationError(
        _("The photo is too large (%(size).1f MB); the limit is %(limit)d MB.")
        % {"size": size / 1e6, "limit": settings.PHOTO_MAX_BYTES // 1_000_000},
        code="too_large",
    )


def process_photo(data: bytes) -> ProcessedPhoto:
    refusal = too_large(len(data))
    if refusal:
        raise refusal
    too_many_pixels = ValidationError(
        _("The photo has too many pixels; the limit is %(mp)d megapixels.")
        % {"mp": settings.PHOTO_MAX_PIXELS // 1_000_000},
        code="too_many_pixels",
    )
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError:
        raise too_many_pixels from None
    except (UnidentifiedImageError, OSError):
        raise ValidationError(_("The file is not a JPEG, PNG or WebP photo."), code="not_an_image") from None
    # Refuse by the declared size before decoding a single pixel (decompression bombs).
    width, height = image.size
    if width * height > settings.PHOTO_MAX_PIXELS:
        raise too_many_pixels
    try:
        image.load()
        upright = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_("The photo is damaged or incomplete; send it again."), code="damaged") from None
    stored = _jpeg(upright, STORED_LONG_SIDE)
    with Image.open(io.BytesIO(stored)) as check:
        stored_size = check.size
    return ProcessedPhoto(
        sha256=content_hash(data),
        image=stored,
        thumbnail=_jpeg(upright, THUMB_LONG_SIDE),
        width=stored_size[0],
        height=stored_size[1],
    )

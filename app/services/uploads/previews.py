"""Previews of image uploads: a small WebP thumbnail, the size, and a ThumbHash placeholder.

Decoding goes through `images.decode`, the same checks as gallery uploads: the format is sniffed
from the bytes, the pixel count is read from the header and a pixel bomb is refused there,
before anything is decoded. ThumbHash (`fast-thumbhash`, bindings to the reference Rust crate)
is computed from the thumbnail, never from the full image: it wants at most 100×100 pixels.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from typing import IO

from fast_thumbhash import rgba_to_thumb_hash, thumb_hash_to_rgba
from PIL import Image, WebPImagePlugin

from app.services.images.decode import ACCEPTED_FORMATS, decode_upload

IMAGE_TYPES = frozenset(mime for mime, _ext in ACCEPTED_FORMATS.values())
_THUMBHASH_MAX_SIDE = 100  # the ThumbHash algorithm's limit


@dataclass(frozen=True)
class Preview:
    thumbnail: bytes  # WebP
    width: int  # of the original, after EXIF orientation
    height: int
    thumbhash: str  # base64


def is_image_type(mime_type: str | None) -> bool:
    return (mime_type or "").split(";")[0].strip().lower() in IMAGE_TYPES


def make_preview(fp: IO[bytes], *, max_pixels: int, size: int) -> Preview:
    """Raises InvalidImageError (not an image, truncated) or ImageTooLargeError (pixel bomb)."""
    decoded = decode_upload(fp, max_pixels=max_pixels, thumb_size=size)
    return Preview(
        thumbnail=decoded.thumbnail,
        width=decoded.width,
        height=decoded.height,
        thumbhash=thumbhash_of(decoded.thumbnail),
    )


def thumbhash_of(webp: bytes) -> str:
    """The base64 ThumbHash of a thumbnail this module made (a small WebP)."""
    with WebPImagePlugin.WebPImageFile(io.BytesIO(webp)) as image:
        rgba = image.convert("RGBA")
    rgba.thumbnail((_THUMBHASH_MAX_SIDE, _THUMBHASH_MAX_SIDE), Image.Resampling.BOX)
    hashed = rgba_to_thumb_hash(rgba.width, rgba.height, rgba.tobytes())
    return base64.b64encode(bytes(hashed)).decode("ascii")


# A ThumbHash is at most 25 bytes; anything longer is not one (and not worth decoding).
_MAX_HASH_BYTES = 32


def placeholder_data_url(thumbhash: str | None) -> str | None:
    """The ThumbHash decoded to a tiny PNG `data:` URL (about 32 px), for a page to show while
    the thumbnail loads (no JavaScript decoder needed). None when the hash is missing or not a
    ThumbHash: a broken hash shows the file-type icon instead of breaking the log."""
    if not thumbhash:
        return None
    try:
        raw = base64.b64decode(thumbhash, validate=True)
        if not 5 <= len(raw) <= _MAX_HASH_BYTES:
            return None
        width, height, rgba = thumb_hash_to_rgba(raw)
        image = Image.frombytes("RGBA", (width, height), bytes(rgba))
    except (binascii.Error, ValueError, TypeError, IndexError, OverflowError):
        return None
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")

"""A ThumbHash drawn as a tiny PNG data URL: the blurry stand-in shown until a thumbnail exists."""

from __future__ import annotations

import base64
import binascii
import io

from fast_thumbhash import thumb_hash_to_rgba
from PIL import Image

# A ThumbHash is at most 25 bytes; anything longer is not one (and not worth decoding).
_MAX_HASH_BYTES = 32


def thumbhash_data_url(thumbhash: str | None) -> str | None:
    """`data:image/png;base64,...` of the hash's picture (about 32 px), or None when the hash is
    missing or malformed: a broken hash shows the file-type icon instead of breaking the log."""
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
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()

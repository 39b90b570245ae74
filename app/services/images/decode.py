"""Image bytes -> a checked, decoded image: pure functions, no database, storage or settings.

Nothing about a file is trusted but its bytes: the format is sniffed, the pixel count is checked
from the header before anything is decoded (decompression bombs), and the whole image is decoded
so truncated files are caught. `intake` uses these for uploads to the gallery, and the studio's
engine (`studio.imageops`, which must start fast and touch no database) for its wider list of
formats.
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import IO, Any

from PIL import (
    GifImagePlugin,  # noqa: F401 - imported so Image.OPEN has the four accepted formats
    Image,
    ImageFile,
    ImageOps,
    JpegImagePlugin,  # noqa: F401
    PngImagePlugin,  # noqa: F401
    WebPImagePlugin,  # noqa: F401
)

from app.services.core.errors import ImageTooLargeError, InvalidImageError

ACCEPTED_FORMATS: dict[str, tuple[str, str]] = {
    # Pillow format -> (MIME type, file extension)
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
ACCEPTED_TEXT = "JPEG, PNG, WebP or GIF"
# Downscale in steps with a cheap filter first, then finish with LANCZOS: near-identical quality,
# several times faster on large photos.
_REDUCING_GAP = 3.0
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, IndexError, TypeError, EOFError, struct.error)


@dataclass(frozen=True)
class DecodedImage:
    format: str
    mime_type: str
    extension: str
    width: int  # after EXIF orientation
    height: int
    is_animated: bool
    thumbnail: bytes  # WebP


def sanitize_filename(filename: str) -> str:
    """The last path segment, without control characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    if not name:
        return "image"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = stem[: 255 - len(ext) - 1] + dot + ext if dot and len(ext) <= 10 else name[:255]
    return name


def open_image_header(
    fp: IO[bytes],
    *,
    formats: Collection[str] = tuple(ACCEPTED_FORMATS),
    accepted_text: str = ACCEPTED_TEXT,
) -> ImageFile.ImageFile:
    """Parse only the header, trying the accepted formats (Pillow format names).

    `Image.open` would also run Pillow's global decompression-bomb check, which warns or raises
    by its own limit before we can name the dimensions; calling the format's factory directly
    leaves that check to us (`check_pixels`), with our limit and a message that says why.
    The image studio passes a wider list of formats than uploads to the gallery accept.
    """
    fp.seek(0)
    prefix = fp.read(16)
    for fmt in formats:
        factory, accept = Image.OPEN[fmt]
        if accept is not None and accept(prefix) is not True:
            continue
        fp.seek(0)
        try:
            image: ImageFile.ImageFile = factory(fp, "")
        except _DECODE_ERRORS as e:
            raise InvalidImageError(
                f"This {_format_name(fmt)} file looks truncated or corrupt. Try exporting it again."
            ) from e
        return image
    raise InvalidImageError(_unsupported_message(fp, formats, accepted_text))


def check_pixels(image: Image.Image, *, max_pixels: int) -> None:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise InvalidImageError("The image has no pixels; it looks truncated or corrupt.")
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"The image is {width}×{height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"the limit is {max_pixels / 1e6:.0f} megapixels. Scale it down and try again."
        )


def decode_upload(fp: IO[bytes], *, max_pixels: int, thumb_size: int) -> DecodedImage:
    """Check an upload (one of ACCEPTED_FORMATS) the way `intake` does, decode it once to the
    end, and make its WebP thumbnail."""
    image = open_image_header(fp)
    fmt = str(image.format)
    mime, ext = ACCEPTED_FORMATS[fmt]
    check_pixels(image, max_pixels=max_pixels)
    width, height = image.size
    try:
        orientation = int(image.getexif().get(0x0112, 1) or 1)
    except _DECODE_ERRORS:
        orientation = 1  # an unreadable EXIF block should not sink a good image
    if orientation in (5, 6, 7, 8):  # rotated a quarter turn
        width, height = height, width
    try:
        # Finding a second frame means parsing past the first; a broken GIF can fail here.
        is_animated = bool(getattr(image, "is_animated", False))
        if is_animated:
            image.seek(0)
    except _DECODE_ERRORS as e:
        raise InvalidImageError(
            f"This {_format_name(fmt)} image looks truncated or corrupt. Try exporting it again."
        ) from e
    if fmt == "JPEG":
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: the whole stream is still read (so
        # truncation is still caught) but memory and time drop by up to 64 times.
        image.draft(image.mode, (thumb_size, thumb_size))
    try:
        image.load()
    except Image.DecompressionBombError as e:
        raise ImageTooLargeError(
            "The image is too large to decode safely. Scale it down and try again."
        ) from e
    except _DECODE_ERRORS as e:
        raise InvalidImageError(
            f"This {_format_name(fmt)} image looks truncated or corrupt and could not be read "
            "to the end. Try exporting it again."
        ) from e
    thumbnail = _thumbnail_bytes(image, size=thumb_size)
    return DecodedImage(fmt, mime, ext, width, height, is_animated, thumbnail)


def _thumbnail_bytes(image: Image.Image, *, size: int) -> bytes:
    image = ImageOps.exif_transpose(image) or image
    image = _to_rgb_or_rgba(image)
    image.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=80, method=4)
    return out.getvalue()


def _to_rgb_or_rgba(image: Image.Image) -> Image.Image:
    """WebP holds 8-bit RGB or RGBA; bring every other mode there without losing alpha."""
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        return image
    if mode == "P":
        has_alpha = "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if mode.startswith("I;16") or mode in ("I", "F"):
        # 16/32-bit greyscale: scale to 8 bits instead of letting convert() clip at 255,
        # which would turn most of a 16-bit image white.
        scale: Callable[[Any], Any] = (lambda v: v / 256) if mode != "F" else (lambda v: v * 255)
        return image.convert("I" if mode != "F" else "F").point(scale).convert("L").convert("RGB")
    if mode in ("LA", "La", "PA", "RGBa") or "A" in mode:
        return image.convert("RGBA")
    return image.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV


def _unsupported_message(fp: IO[bytes], formats: Collection[str], accepted_text: str) -> str:
    fp.seek(0)
    head = fp.read(512)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        kind: str | None = "an SVG drawing"
    elif text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")):
        kind = "an HTML page"
    elif head.startswith(b"%PDF"):
        kind = "a PDF document"
    elif text.startswith(b"<"):
        kind = "an XML or HTML document"
    elif other := _other_image_format(fp, formats):
        kind = f"a {other} image, which is"
    elif _looks_like_text(head):
        kind = "a text file"
    else:
        kind = None
    found = f"This file is {kind}, not" if kind else "This file is not"
    return f"{found} a supported image. Upload a {accepted_text} image."


def _other_image_format(fp: IO[bytes], formats: Collection[str]) -> str | None:
    """Name an image format we do not accept (BMP, TIFF, ...), only to word the message."""
    fp.seek(0)
    prefix = fp.read(16)
    Image.init()
    for fmt, (_factory, accept) in Image.OPEN.items():
        if fmt in formats or accept is None:
            continue
        try:
            if accept(prefix) is True:
                return fmt
        except _DECODE_ERRORS:
            continue
    return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= len(head) - 3  # only a character cut off by the 512-byte window
    return True


def _format_name(fmt: str) -> str:
    return {"WEBP": "WebP"}.get(fmt, fmt)

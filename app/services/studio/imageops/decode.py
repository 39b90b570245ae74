"""Bytes -> one loaded image in a mode every operation handles (L, LA, RGB or RGBA).

The checks are the upload checks of `images.intake` (format sniffed from the bytes, pixel
count read from the header before decoding, truncation caught by decoding to the end), with a
wider list of formats: the studio also converts AVIF, TIFF and BMP. What Pillow would get wrong
silently is fixed here: CMYK is converted through its ICC profile, 16-bit greyscale is scaled
down instead of clipped to white, palettes with transparency become RGBA.
"""

from __future__ import annotations

import io
import logging
import math
import struct
from dataclasses import dataclass

from PIL import (
    AvifImagePlugin,  # noqa: F401 - imported so Image.OPEN knows every format we read
    BmpImagePlugin,  # noqa: F401
    GifImagePlugin,  # noqa: F401
    Image,
    ImageCms,
    JpegImagePlugin,  # noqa: F401
    PngImagePlugin,  # noqa: F401
    TiffImagePlugin,  # noqa: F401
    WebPImagePlugin,  # noqa: F401
)

from app.services.core.errors import ImageTooLargeError, InvalidImageError
from app.services.images.decode import check_pixels, open_image_header

log = logging.getLogger(__name__)

READ_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "AVIF", "TIFF", "BMP")
READ_FORMATS_TEXT = "JPEG, PNG, WebP, GIF, AVIF, TIFF or BMP"
ORIENTATION_TAG = 0x0112
_QUARTER_TURNS = {5, 6, 7, 8}  # EXIF orientations that swap width and height
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, IndexError, TypeError, EOFError, struct.error)
_FORMAT_NAMES = {"WEBP": "WebP", "MPO": "JPEG"}


@dataclass
class Header:
    """What the header says, before any pixel is decoded."""

    image: Image.Image  # opened, not loaded
    format: str  # Pillow's name; a multi-picture JPEG (MPO) is reported as JPEG
    exif: Image.Exif
    width: int  # as stored, before EXIF orientation
    height: int

    @property
    def orientation(self) -> int:
        try:
            value = int(self.exif.get(ORIENTATION_TAG, 1) or 1)
        except (TypeError, ValueError):
            return 1
        return value if 1 <= value <= 8 else 1

    def upright_size(self, *, auto_orient: bool) -> tuple[int, int]:
        if auto_orient and self.orientation in _QUARTER_TURNS:
            return self.height, self.width
        return self.width, self.height


@dataclass
class Decoded:
    image: Image.Image  # loaded; mode L, LA, RGB or RGBA; EXIF orientation not applied yet
    format: str
    exif: Image.Exif
    icc_profile: bytes | None  # describes `image`'s pixels; None when they are sRGB already
    is_animated: bool


def read_header(data: bytes, *, max_pixels: int) -> Header:
    """Sniff the format and check the size; raises InvalidImageError or ImageTooLargeError."""
    if not data:
        raise InvalidImageError("The file is empty.")
    image = open_image_header(
        io.BytesIO(data), formats=READ_FORMATS, accepted_text=READ_FORMATS_TEXT
    )
    check_pixels(image, max_pixels=max_pixels)
    fmt = "JPEG" if image.format == "MPO" else str(image.format)
    # A PNG's eXIf chunk may come after the pixels, and Pillow decodes the whole image to look
    # for it: that waits for `decode`, so a header check stays a header check.
    exif = _exif(image) if fmt != "PNG" or "exif" in image.info else Image.Exif()
    return Header(image, fmt, exif, image.width, image.height)


def decode(header: Header, *, scale: float = 1.0) -> Decoded:
    """Decode the first frame. `scale` (0-1] is the smallest fraction of the stored size the
    pipeline needs: JPEGs are then decoded by libjpeg at 1/2, 1/4 or 1/8 size when that still
    gives at least that many pixels (shrink-on-load: less work and memory for the same result)."""
    image = header.image
    name = _FORMAT_NAMES.get(header.format, header.format)
    try:
        is_animated = bool(getattr(image, "is_animated", False))
        if is_animated:
            image.seek(0)  # animated GIF/WebP/AVIF: the first frame stands for the image
    except _DECODE_ERRORS as e:
        raise InvalidImageError(
            f"This {name} image looks truncated or corrupt. Try exporting it again."
        ) from e
    if header.format == "JPEG" and scale < 1.0:
        wanted = (math.ceil(header.width * scale), math.ceil(header.height * scale))
        image.draft(image.mode, wanted)
    try:
        image.load()
    except Image.DecompressionBombError as e:
        raise ImageTooLargeError(
            "The image is too large to decode safely. Scale it down and try again."
        ) from e
    except MemoryError as e:
        raise ImageTooLargeError(
            "The image needs more memory to decode than a worker has. Scale it down."
        ) from e
    except _DECODE_ERRORS as e:
        raise InvalidImageError(
            f"This {name} image looks truncated or corrupt and could not be read to the end. "
            "Try exporting it again."
        ) from e
    if is_animated:
        log.info("animated %s: processing its first frame only", header.format)
    if header.format == "PNG" and not header.exif:
        header.exif = _exif(image)
    icc = image.info.get("icc_profile") or None
    working, icc = _working_mode(image, icc)
    return Decoded(working, header.format, header.exif, icc, is_animated)


def _exif(image: Image.Image) -> Image.Exif:
    try:
        return image.getexif()
    except _DECODE_ERRORS:
        return Image.Exif()  # an unreadable EXIF block should not sink a good image


def _working_mode(image: Image.Image, icc: bytes | None) -> tuple[Image.Image, bytes | None]:
    mode = image.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        return image, icc
    if mode == "CMYK":
        return _cmyk_to_rgb(image, icc), None
    if mode == "P":
        has_alpha = "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB"), icc
    if mode == "PA":
        return image.convert("RGBA"), icc
    if mode in ("La", "RGBa"):  # premultiplied alpha
        return image.convert("LA" if mode == "La" else "RGBA"), icc
    if mode == "1":
        return image.convert("L"), icc
    if mode.startswith("I") or mode == "F":
        return _high_bit_to_l(image), icc
    return image.convert("RGB"), icc  # YCbCr, LAB, HSV, RGBX


def _cmyk_to_rgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Print files (CMYK JPEG/TIFF) carry the profile of the press they were made for; going
    through it gives the colours a viewer shows. Without one, Pillow's formula is the usual
    guess (and what browsers do)."""
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(
                image, source, srgb, outputMode="RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError) as e:
            log.info("CMYK profile unusable (%s); converting without it", e)
    return image.convert("RGB")


def _high_bit_to_l(image: Image.Image) -> Image.Image:
    """16-bit and 32-bit greyscale: Pillow's own convert("L") clips at 255, turning most of a
    16-bit image white, so scale the full range down instead."""
    import numpy as np  # only these rare images need it; the engine starts faster without

    values = np.asarray(image)
    if image.mode == "F":
        top = float(values.max()) if values.size else 0.0
        scaled = values * (255.0 if 0 < top <= 1.0 else 255.0 / max(top, 1.0))
    elif image.mode == "I" and values.size and int(values.max()) > 65535:
        scaled = values.astype(np.float64) * (255.0 / float(values.max()))
    else:
        scaled = values.astype(np.float64) / 257.0  # 0..65535 -> 0..255
    return Image.fromarray(np.clip(scaled + 0.5, 0, 255).astype(np.uint8), "L")

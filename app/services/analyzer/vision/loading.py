"""Decode uploaded bytes into one small, upright RGB frame that every stage shares.

Every stage works on the same downscaled copy (long edge <= 1024 px): measurements stay
comparable between a 1-MP screenshot and a 24-MP photo, and a 12-MP JPEG analyses in about a
second. The original size is kept for the aspect ratio, and the EXIF block for camera data.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from app.services.core.errors import ImageTooLargeError, InvalidImageError
from app.settings import get_settings

ANALYSIS_EDGE = 1024
# Downscale in steps with a cheap filter first, then finish with a good one: same look, faster.
_REDUCING_GAP = 3.0
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, IndexError, TypeError, EOFError)
_HIGH_BIT_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
_ROTATED_ORIENTATIONS = {5, 6, 7, 8}  # EXIF orientations that swap width and height


@dataclass(frozen=True)
class Frame:
    """The decoded image, as every stage needs it."""

    image: Image.Image  # upright RGB, long edge <= ANALYSIS_EDGE
    rgb: npt.NDArray[np.uint8]  # (h, w, 3) view of `image`
    grey: npt.NDArray[np.uint8]  # (h, w) luma
    width: int  # original size, after EXIF rotation
    height: int
    exif: Image.Exif
    format: str
    is_animated: bool


def load_image(data: bytes) -> Image.Image:
    """Bytes -> upright RGB image, long edge at most 1024 px. Raises InvalidImageError."""
    return decode_frame(data).image


def decode_frame(data: bytes) -> Frame:
    max_pixels = get_settings().max_image_pixels
    try:
        with warnings.catch_warnings():
            # The size is checked against our own limit below; Pillow's warning would only
            # duplicate that (and pytest turns warnings into errors).
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            source = Image.open(io.BytesIO(data))
            width, height = source.size
            if width * height > max_pixels:
                raise ImageTooLargeError(
                    f"The image is {width} x {height} pixels; the limit is "
                    f"{max_pixels:,} pixels. Please upload a smaller image."
                )
            exif = source.getexif()
            orientation = int(exif.get(0x0112, 1) or 1)
            is_animated = bool(getattr(source, "is_animated", False))
            image_format = source.format or ""
            if image_format == "JPEG":
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: much faster than full size.
                source.draft(source.mode, (ANALYSIS_EDGE, ANALYSIS_EDGE))
            source.seek(0)  # animated GIF/WebP: the first frame stands for the image
            source.load()
            upright = ImageOps.exif_transpose(source)
    except Image.DecompressionBombError as e:
        raise ImageTooLargeError("The image has too many pixels to analyse.") from e
    except UnidentifiedImageError as e:
        raise InvalidImageError("This file is not an image we can read.") from e
    except _DECODE_ERRORS as e:
        raise InvalidImageError("The image file is damaged or incomplete.") from e
    if orientation in _ROTATED_ORIENTATIONS:
        width, height = height, width
    rgb_image = _to_rgb(upright)
    rgb_image.thumbnail((ANALYSIS_EDGE, ANALYSIS_EDGE), reducing_gap=_REDUCING_GAP)
    rgb = np.asarray(rgb_image, dtype=np.uint8)
    grey = np.asarray(rgb_image.convert("L"), dtype=np.uint8)
    return Frame(
        image=rgb_image,
        rgb=rgb,
        grey=grey,
        width=width,
        height=height,
        exif=exif,
        format=image_format,
        is_animated=is_animated,
    )


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB; transparency is flattened onto white, as viewers show it."""
    if image.mode in _HIGH_BIT_MODES:
        image = _to_8bit(image)
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in {"RGBA", "LA", "PA", "RGBa", "La"}:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def _to_8bit(image: Image.Image) -> Image.Image:
    """16-bit and float greyscale: Pillow's own conversion clips at 255, so scale instead."""
    values = np.asarray(image, dtype=np.float64)
    top = float(values.max()) if values.size else 0.0
    if top > 255:
        scale = 255 / 65535 if top <= 65535 else 255 / top
        values = values * scale
    elif image.mode == "F" and 0 < top <= 1.0:
        values = values * 255  # float images stored as 0..1
    return Image.fromarray(np.clip(values + 0.5, 0, 255).astype(np.uint8), "L")

"""Images with known content for the analyzer tests: drawn, or photos bundled in scikit-image."""

from __future__ import annotations

import io
from functools import cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont


def encode(image: Image.Image, fmt: str = "PNG", **params: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def solid(color: tuple[int, int, int], size: tuple[int, int] = (300, 200)) -> bytes:
    return encode(Image.new("RGB", size, color))


def half_red_half_blue(size: tuple[int, int] = (400, 300)) -> bytes:
    image = Image.new("RGB", size, (0, 0, 255))
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 2 - 1, size[1]), fill=(255, 0, 0))
    return encode(image)


def text_poster(text: str = "HELLO 2026") -> bytes:
    image = Image.new("RGB", (1200, 500), "white")
    try:
        font: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.truetype(
            "DejaVuSans-Bold.ttf", 130
        )
    except OSError:
        font = ImageFont.load_default(size=130)
    ImageDraw.Draw(image).text((600, 250), text, fill="black", font=font, anchor="mm")
    return encode(image)


def gradient(left: int, right: int, size: tuple[int, int] = (400, 300)) -> bytes:
    """Grey ramp from `left` to `right` brightness, so the light clearly comes from one side."""
    ramp = np.linspace(left, right, size[0], dtype=np.float64)
    grey = np.broadcast_to(ramp[None, :], (size[1], size[0]))
    return encode(Image.fromarray(grey.astype(np.uint8), "L").convert("RGB"))


@cache
def skimage_photo(name: str) -> Image.Image:
    """A photo bundled inside scikit-image's wheel (astronaut, coffee, chelsea, camera, rocket)."""
    from skimage import data

    return Image.fromarray(getattr(data, name)())


def photo_jpeg(name: str, *, blur: float = 0.0, exif: Image.Exif | None = None) -> bytes:
    image = skimage_photo(name).convert("RGB")
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    params: dict[str, Any] = {"quality": 92}
    if exif is not None:
        params["exif"] = exif
    return encode(image, "JPEG", **params)

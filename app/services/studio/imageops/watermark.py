"""A text watermark: white with a thin dark outline (readable on light and dark photos), sized
to the image, drawn with Pillow's bundled TrueType font (no system fonts needed)."""

from __future__ import annotations

import math
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from app.services.studio.imageops.spec import Watermark

# Text height as a share of the image's short edge, and the widest it may get.
_HEIGHT_SHARE = 0.06
_MAX_WIDTH_SHARE = 0.9
_MARGIN_SHARE = 0.03
_MIN_FONT = 8


def add_watermark(image: Image.Image, mark: Watermark) -> Image.Image:
    width, height = image.size
    short = min(width, height)
    size = max(_MIN_FONT, round(short * _HEIGHT_SHARE))
    font = _font(size)
    text_w = _text_width(mark.text, font)
    if text_w > width * _MAX_WIDTH_SHARE:  # long text on a narrow image: shrink to fit
        size = max(_MIN_FONT, int(size * width * _MAX_WIDTH_SHARE / text_w))
        font = _font(size)
    stroke = max(1, size // 15)
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    left, top, right, bottom = draw.textbbox((0, 0), mark.text, font=font, stroke_width=stroke)
    box_w, box_h = math.ceil(right - left), math.ceil(bottom - top)
    margin = max(2, round(short * _MARGIN_SHARE))
    x, y = _position(mark.position, (width, height), (box_w, box_h), margin)
    alpha = round(255 * mark.opacity)
    draw.text(
        (x - left, y - top),
        mark.text,
        font=font,
        fill=(255, 255, 255, alpha),
        stroke_width=stroke,
        stroke_fill=(0, 0, 0, alpha),
    )
    composed = Image.alpha_composite(image.convert("RGBA"), layer)
    # The mark is black and white, so a grey image stays grey.
    return composed if image.mode == "RGBA" else composed.convert(image.mode)


def _position(
    where: str, size: tuple[int, int], box: tuple[int, int], margin: int
) -> tuple[int, int]:
    width, height = size
    box_w, box_h = box
    horizontal = {"left": margin, "right": width - box_w - margin}
    vertical = {"top": margin, "bottom": height - box_h - margin}
    if where == "center":
        return (width - box_w) // 2, (height - box_h) // 2
    v, h = where.split("-")
    return max(0, horizontal[h]), max(0, vertical[v])


def _text_width(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> float:
    return float(font.getlength(text))


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)

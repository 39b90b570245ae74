"""Colour and detail filters. They change colour channels only: transparency is kept as it is
(Pillow's enhancers would otherwise fade or blur the alpha channel along with the colours)."""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from app.services.studio.imageops.spec import Filter

# Used when a filter is ticked without an amount.
DEFAULT_AMOUNTS = {
    "brightness": 1.2,
    "contrast": 1.2,
    "saturation": 1.3,
    "blur": 2.0,
    "sharpen": 1.0,
}
# Warm brown tones for sepia, applied to the grey image (black -> dark brown, white -> cream).
_SEPIA_DARK = (40, 26, 13)
_SEPIA_LIGHT = (255, 240, 192)


def apply_filters(image: Image.Image, filters: list[Filter]) -> Image.Image:
    for item in filters:
        amount = item.amount if item.amount is not None else DEFAULT_AMOUNTS.get(item.name, 1.0)
        image = _on_colour(image, _OPERATIONS[item.name], amount)
    return image


def _on_colour(
    image: Image.Image, operation: Callable[[Image.Image, float], Image.Image], amount: float
) -> Image.Image:
    if image.mode in ("RGBA", "LA"):
        alpha = image.getchannel("A")
        colour = operation(image.convert(image.mode[:-1]), amount)
        colour.putalpha(alpha)
        return colour
    return operation(image, amount)


def _grayscale(image: Image.Image, _amount: float) -> Image.Image:
    return image.convert("L")


def _sepia(image: Image.Image, _amount: float) -> Image.Image:
    return ImageOps.colorize(image.convert("L"), _SEPIA_DARK, _SEPIA_LIGHT)


def _sharpen(image: Image.Image, amount: float) -> Image.Image:
    # Radius grows with the image so "sharpen" looks alike on a thumbnail and a 12-MP photo.
    radius = max(1.0, max(image.size) / 1000)
    return image.filter(ImageFilter.UnsharpMask(radius=radius, percent=round(amount * 100)))


def _blur(image: Image.Image, amount: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius=amount))


def _brightness(image: Image.Image, amount: float) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(amount)


def _contrast(image: Image.Image, amount: float) -> Image.Image:
    return ImageEnhance.Contrast(image).enhance(amount)


def _saturation(image: Image.Image, amount: float) -> Image.Image:
    if image.mode == "L":
        return image  # grey has no saturation to change
    return ImageEnhance.Color(image).enhance(amount)


_OPERATIONS: dict[str, Callable[[Image.Image, float], Image.Image]] = {
    "grayscale": _grayscale,
    "sepia": _sepia,
    "sharpen": _sharpen,
    "blur": _blur,
    "brightness": _brightness,
    "contrast": _contrast,
    "saturation": _saturation,
}

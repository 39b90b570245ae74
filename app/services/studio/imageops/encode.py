"""Encoding: format, quality or a target size, and metadata kept or stripped.

Stripping metadata removes EXIF (camera, GPS, dates) and the ICC profile. A photo in a wide
gamut (Display P3, Adobe RGB) would look washed out without its profile, so its pixels are
converted to sRGB first: stripped files look the same as the original everywhere.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageCms

from app.services.studio.imageops.outputs import IMAGE_FORMATS
from app.services.studio.imageops.spec import Compress

log = logging.getLogger(__name__)

DEFAULT_QUALITY = {"jpeg": 85, "webp": 80, "avif": 70}
# libwebp's effort 0-6: 4 is its default and libvips'; 6 is ~2x slower for ~3% smaller files.
WEBP_METHOD = 4
# Searching for a target size: the quality range tried, lowest first.
_QUALITY_FLOOR = 5
_QUALITY_CEILING = 95
_PNG_PALETTES = (256, 128, 64, 32, 16)
_WHITE = (255, 255, 255)


@dataclass(frozen=True)
class Metadata:
    """What goes into the file besides pixels: nothing when stripped."""

    exif: bytes | None = None
    icc_profile: bytes | None = None


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA")


def encode_image(
    image: Image.Image, fmt: str, *, compress: Compress | None, metadata: Metadata
) -> bytes:
    """Encode as `fmt` ("jpeg", "png", "webp", "avif"); a target size is met by the highest
    quality that fits, or, when none does, by the smallest file the lowest quality gives."""
    image = _encodable(image, fmt)
    if compress is not None and compress.target_kb is not None:
        target = compress.target_kb * 1024
        if fmt == "png":
            return _png_within(image, target, metadata)
        return _highest_quality_within(lambda q: _save(image, fmt, q, metadata), target)
    quality = compress.quality if compress is not None else None
    if fmt == "png":
        return _save_png(image, metadata, optimize=compress is not None)
    return _save(image, fmt, quality or DEFAULT_QUALITY[fmt], metadata)


def flatten_on_white(image: Image.Image) -> Image.Image:
    """JPEG has no transparency: show transparent areas as white, as most viewers do."""
    if not has_alpha(image):
        return image
    base = "RGB" if image.mode == "RGBA" else "L"
    background = Image.new(base, image.size, _WHITE if base == "RGB" else 255)
    background.paste(image.convert(base), mask=image.getchannel("A"))
    return background


def to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Pixels converted from their embedded profile to sRGB; unchanged if already sRGB, grey,
    or the profile is unreadable (better the original colours than none)."""
    if not icc_profile or image.mode not in ("RGB", "RGBA") or is_srgb(icc_profile):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(image, source, _srgb_profile(), outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError) as e:
        log.info("ICC profile unusable (%s); keeping the pixels as they are", e)
        return image
    return converted if converted is not None else image


@lru_cache(maxsize=64)
def is_srgb(icc_profile: bytes) -> bool:
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        description = ImageCms.getProfileDescription(profile)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return True  # unreadable: leave the pixels alone
    return "srgb" in description.lower().replace(" ", "")


@lru_cache(maxsize=1)
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _encodable(image: Image.Image, fmt: str) -> Image.Image:
    if fmt == "jpeg":
        image = flatten_on_white(image)
    elif fmt in ("webp", "avif") and image.mode in ("L", "LA"):
        image = image.convert("RGBA" if image.mode == "LA" else "RGB")
    if image.info:
        # Pillow falls back to `image.info` for the ICC profile (and more) of some formats;
        # what is written must be exactly what `metadata` says.
        image = image.copy()
        image.info = {}
    return image


def _save(image: Image.Image, fmt: str, quality: int, metadata: Metadata) -> bytes:
    params: dict[str, object] = {"quality": quality}
    if fmt == "jpeg":
        params["optimize"] = True  # Huffman tables fitted to the image: ~5% smaller, same pixels
    elif fmt == "webp":
        params["method"] = WEBP_METHOD
    return _write(image, fmt, params, metadata)


def _save_png(image: Image.Image, metadata: Metadata, *, optimize: bool) -> bytes:
    return _write(image, "png", {"optimize": optimize}, metadata)


def _write(image: Image.Image, fmt: str, params: dict[str, object], metadata: Metadata) -> bytes:
    if metadata.exif:
        params["exif"] = metadata.exif
    if metadata.icc_profile:
        params["icc_profile"] = metadata.icc_profile
    buf = io.BytesIO()
    image.save(buf, IMAGE_FORMATS[fmt][0], **params)
    return buf.getvalue()


def _highest_quality_within(encode_at: Callable[[int], bytes], target: int) -> bytes:
    lo, hi = _QUALITY_FLOOR, _QUALITY_CEILING
    best: bytes | None = None
    smallest: bytes | None = None
    while lo <= hi:
        quality = (lo + hi) // 2
        data = encode_at(quality)
        if len(data) <= target:
            best, lo = data, quality + 1
        else:
            hi = quality - 1
            if smallest is None or len(data) < len(smallest):
                smallest = data
    result = best if best is not None else smallest
    assert result is not None  # the loop runs at least once
    return result


def _png_within(image: Image.Image, target: int, metadata: Metadata) -> bytes:
    """PNG is lossless, so the only way down is fewer colours: try the full image, then
    palettes of 256, 128, ... colours (dithered), and keep the first that fits."""
    data = _save_png(image, metadata, optimize=True)
    smallest = data
    if len(data) <= target:
        return data
    alpha = has_alpha(image)
    source = image.convert("RGBA") if alpha else image
    method = Image.Quantize.FASTOCTREE if alpha else Image.Quantize.MEDIANCUT
    for colours in _PNG_PALETTES:
        data = _save_png(source.quantize(colours, method=method), metadata, optimize=True)
        if len(data) <= target:
            return data
        if len(data) < len(smallest):
            smallest = data
    return smallest

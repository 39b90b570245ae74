"""Crop and resize, and how small a JPEG may be decoded for them.

Shrinking an opaque image uses OpenCV's INTER_AREA (each output pixel is the area-weighted mean
of the source pixels it covers): about 3x faster than Pillow's LANCZOS on a 2000 -> 1024 px step
(Pillow's resampling has no SIMD) with no visible difference (SSIM 0.997 against a full-size
LANCZOS reference, LANCZOS 0.998; see benchmarks/imageops_bench.py). Enlarging, and anything
with transparency, uses Pillow's LANCZOS with `reducing_gap` (Pillow premultiplies alpha, so
transparent pixels' colours do not bleed into edges).
"""

from __future__ import annotations

from PIL import Image

from app.services.studio.imageops.spec import Crop, Resize

REDUCING_GAP = 2.0
RESAMPLE = Image.Resampling.LANCZOS


def crop_box(size: tuple[int, int], crop: Crop) -> tuple[int, int, int, int]:
    """The centred box with the asked aspect ratio, as large as the image allows."""
    width, height = size
    ratio = crop.ratio
    if width / height > ratio:  # too wide: trim the sides
        new_w, new_h = max(1, min(width, round(height * ratio))), height
    else:
        new_w, new_h = width, max(1, min(height, round(width / ratio)))
    left = (width - new_w) // 2
    top = (height - new_h) // 2
    return left, top, left + new_w, top + new_h


def crop_to_aspect(image: Image.Image, crop: Crop) -> Image.Image:
    box = crop_box(image.size, crop)
    return image if box == (0, 0, *image.size) else image.crop(box)


def resize(image: Image.Image, spec: Resize) -> Image.Image:
    target, box = resize_plan(image.size, spec)
    if target == image.size and box == (0, 0, *image.size):
        return image
    return resample(image, target, box)


def resample(
    image: Image.Image, size: tuple[int, int], box: tuple[int, int, int, int] | None = None
) -> Image.Image:
    left, top, right, bottom = box or (0, 0, image.width, image.height)
    shrinking = size[0] <= right - left and size[1] <= bottom - top
    if shrinking and image.mode in ("RGB", "L"):
        # A whole-factor box reduction first (Pillow's `reduce`, cheap) while at least
        # REDUCING_GAP times the target remains: less to copy into numpy and to average.
        factor = int(min((right - left) / size[0], (bottom - top) / size[1]) / REDUCING_GAP)
        if factor >= 2:
            image = image.reduce(factor, box=(left, top, right, bottom))
        elif (left, top, right, bottom) != (0, 0, image.width, image.height):
            image = image.crop((left, top, right, bottom))
        # Imported here, not at the top: OpenCV and numpy take a quarter of a second to load, and
        # a conversion or a lossless crop never needs them (`jsoncraft ops` starts faster).
        import cv2
        import numpy as np

        pixels = np.asarray(image)
        return Image.fromarray(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), image.mode)
    return image.resize(size, RESAMPLE, box=box, reducing_gap=REDUCING_GAP)


def resize_plan(
    size: tuple[int, int], spec: Resize
) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
    """(output size, source box). long_edge and fit never enlarge; exact and fill do."""
    width, height = size
    full = (0, 0, width, height)
    if spec.mode == "long_edge":
        assert spec.long_edge is not None  # the spec's validator guarantees it
        scale = min(1.0, spec.long_edge / max(width, height))
        return _scaled(size, scale), full
    assert spec.width is not None and spec.height is not None
    if spec.mode == "fit":
        scale = min(1.0, spec.width / width, spec.height / height)
        return _scaled(size, scale), full
    if spec.mode == "exact":
        return (spec.width, spec.height), full
    # fill: the largest centred box with the target's aspect ratio, scaled to the target.
    target_ratio = spec.width / spec.height
    if width / height > target_ratio:
        box_w, box_h = height * target_ratio, float(height)
    else:
        box_w, box_h = float(width), width / target_ratio
    left, top = (width - box_w) / 2, (height - box_h) / 2
    box = (round(left), round(top), round(left + box_w), round(top + box_h))
    return (spec.width, spec.height), box


def output_scale(size: tuple[int, int], *, crop: Crop | None, spec: Resize | None) -> float:
    """The fraction of `size` the finished image needs (1.0 = full size): every output pixel
    must come from at least one decoded pixel, on both axes."""
    if crop is not None:
        left, top, right, bottom = crop_box(size, crop)
        size = (right - left, bottom - top)
    if spec is None:
        return 1.0
    (out_w, out_h), (left, top, right, bottom) = resize_plan(size, spec)
    scale = max(out_w / (right - left), out_h / (bottom - top))
    return min(1.0, scale)


def thumbnail(image: Image.Image, size: int) -> Image.Image:
    """A copy whose long edge is `size` (never enlarged)."""
    scale = min(1.0, size / max(image.size))
    target = _scaled(image.size, scale)
    if target == image.size:
        return image.copy()
    return resample(image, target)


def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    width, height = size
    if scale >= 1.0:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def long_edge_scale(size: tuple[int, int], edge: int) -> float:
    return min(1.0, edge / max(size)) if max(size) else 1.0

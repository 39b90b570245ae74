"""Drawing primitives for the demo scenes. Pixels are float32 arrays (height, width, 3) in 0..255
while composing; `to_image` turns one into a Pillow image at the end.

Everything here is deterministic: randomness comes from `seeded_rng(slug)`, never the clock.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter, ImageFont

Array = npt.NDArray[np.floating[Any]]
Point = tuple[float, float]

LANDSCAPE = (1024, 768)
PORTRAIT = (768, 1024)
SQUARE = (1024, 1024)


def seeded_rng(slug: str) -> np.random.Generator:
    # crc32, not hash(): Python salts str hashes per process, which would break determinism.
    return np.random.default_rng(zlib.crc32(slug.encode()))


def hex_rgb(hex_code: str) -> Array:
    value = int(hex_code.lstrip("#"), 16)
    return np.array([(value >> 16) & 255, (value >> 8) & 255, value & 255], dtype=np.float32)


def coords(width: int, height: int) -> tuple[Array, Array]:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return xs, ys


def gradient(width: int, height: int, stops: Sequence[tuple[float, str]]) -> Array:
    """A vertical gradient through (position 0..1, colour) stops."""
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)
    positions = [p for p, _ in stops]
    colours = np.stack([hex_rgb(c) for _, c in stops])
    column = np.stack([np.interp(t, positions, colours[:, i]) for i in range(3)], axis=1)
    return np.ascontiguousarray(np.broadcast_to(column[:, None, :], (height, width, 3)), np.float32)


def blend(canvas: Array, alpha: Array, colour: Array | str, opacity: float = 1.0) -> None:
    """Paint `colour` (a hex code, or an image-sized array) over `canvas` through `alpha` 0..1."""
    # Work only inside the bounding box of the mask: most shapes are small, and full-frame
    # float arithmetic per shape is what makes drawing slow.
    rows = np.flatnonzero(alpha.any(axis=1))
    cols = np.flatnonzero(alpha.any(axis=0))
    if rows.size == 0 or opacity <= 0:
        return
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    if isinstance(colour, str):
        paint = hex_rgb(colour)
    elif colour.ndim == 1:  # one colour as an array
        paint = colour
    else:  # an image-sized array of colours (gradients, shaded surfaces)
        paint = colour[box]
    a = (np.clip(alpha[box], 0.0, 1.0) * opacity)[..., None]
    region = canvas[box]
    region *= 1.0 - a
    region += paint * a


def glow(canvas: Array, centre: Point, radius: float, colour: str, strength: float) -> None:
    height, width = canvas.shape[:2]
    xs, ys = coords(width, height)
    d2 = ((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (radius * radius)
    blend(canvas, np.exp(-d2) * strength, colour)


def noise1d(n: int, rng: np.random.Generator, octaves: Sequence[tuple[float, int]]) -> Array:
    """Smooth fractal noise of length n: each octave is (amplitude, number of knots)."""
    out = np.zeros(n, dtype=np.float32)
    x = np.linspace(0.0, 1.0, n)
    for amplitude, knots in octaves:
        values = rng.uniform(-1.0, 1.0, knots + 1)
        out += amplitude * np.interp(x, np.linspace(0.0, 1.0, knots + 1), values).astype(np.float32)
    return out


def below(ridge: Array, height: int) -> Array:
    """Alpha that is 1 under a ridge line y(x), antialiased along it."""
    ys = np.arange(height, dtype=np.float32)[:, None]
    return np.clip(ys - ridge[None, :] + 0.5, 0.0, 1.0)


def to_image(canvas: Array) -> Image.Image:
    return Image.fromarray(np.clip(canvas + 0.5, 0, 255).astype(np.uint8), "RGB")


class Mask:
    """Shapes drawn at 3x and reduced, because ImageDraw does not antialias polygons."""

    def __init__(self, width: int, height: int, scale: int = 3) -> None:
        self.size = (width, height)
        self.s = scale
        self.image = Image.new("L", (width * scale, height * scale), 0)
        self.draw = ImageDraw.Draw(self.image)

    def _pts(self, points: Sequence[Point]) -> list[tuple[float, float]]:
        return [(x * self.s, y * self.s) for x, y in points]

    def polygon(self, points: Sequence[Point], value: int = 255) -> None:
        self.draw.polygon(self._pts(points), fill=value)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, value: int = 255) -> None:
        s = self.s
        self.draw.ellipse(((cx - rx) * s, (cy - ry) * s, (cx + rx) * s, (cy + ry) * s), fill=value)

    def circle(self, cx: float, cy: float, r: float, value: int = 255) -> None:
        self.ellipse(cx, cy, r, r, value)

    def ring(self, cx: float, cy: float, r: float, width: float, value: int = 255) -> None:
        s = self.s
        box = ((cx - r) * s, (cy - r) * s, (cx + r) * s, (cy + r) * s)
        self.draw.ellipse(box, outline=value, width=max(1, round(width * s)))

    def pieslice(self, cx: float, cy: float, r: float, start: float, end: float) -> None:
        s = self.s
        box = ((cx - r) * s, (cy - r) * s, (cx + r) * s, (cy + r) * s)
        self.draw.pieslice(box, start, end, fill=255)

    def rect(self, x0: float, y0: float, x1: float, y1: float, value: int = 255) -> None:
        self.draw.rectangle((x0 * self.s, y0 * self.s, x1 * self.s, y1 * self.s), fill=value)

    def line(self, points: Sequence[Point], width: float, value: int = 255) -> None:
        self.draw.line(self._pts(points), fill=value, width=max(1, round(width * self.s)))

    def alpha(self, blur: float = 0.0) -> Array:
        small = self.image.reduce(self.s)  # box filter, specialised for integer factors
        if blur:
            small = small.filter(ImageFilter.GaussianBlur(blur))
        return np.asarray(small, dtype=np.float32) / 255.0


def load_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # DejaVu Sans Bold reads best on the poster; Pillow's bundled font keeps it working on
    # machines without it (Pillow >= 10.1 ships a scalable default font).
    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def pine(mask: Mask, x: float, base: float, height: float, width: float) -> None:
    """A pine tree in silhouette: stacked triangles on a short trunk, its foot at `base`."""
    tiers = 4
    for i in range(tiers):
        top = base - height + i * height * 0.2
        bottom = base - height * 0.1 - (tiers - 1 - i) * height * 0.16
        half = width * (0.45 + 0.55 * (i + 1) / tiers) / 2
        mask.polygon([(x, top), (x + half, bottom), (x - half, bottom)])
    mask.rect(x - width * 0.05, base - height * 0.14, x + width * 0.05, base)


def stars(canvas: Array, rng: np.random.Generator, count: int, max_y: float) -> None:
    height, width = canvas.shape[:2]
    mask = Mask(width, height)
    for _ in range(count):
        x, y = rng.uniform(0, width), rng.uniform(0, max_y) ** 1.0
        mask.circle(x, y, rng.uniform(0.5, 1.5), int(rng.uniform(90, 255)))
    blend(canvas, mask.alpha(), "#fffbe8")


def sphere(canvas: Array, cx: float, cy: float, r: float, colour: str) -> None:
    """A shaded ball lit from the upper left (fruit, blossoms)."""
    height, width = canvas.shape[:2]
    x0, y0 = max(0, int(cx - r - 2)), max(0, int(cy - r - 2))
    x1, y1 = min(width, int(cx + r + 3)), min(height, int(cy + r + 3))
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    nx, ny = (xs - cx) / r, (ys - cy) / r
    nz = np.sqrt(np.clip(1.0 - nx * nx - ny * ny, 0.0, 1.0))
    light = np.array([-0.55, -0.6, 0.58], dtype=np.float32)
    light /= np.linalg.norm(light)
    lambert = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0.0, 1.0)
    paint = np.clip(hex_rgb(colour) * (0.28 + 0.85 * lambert)[..., None], 0, 255)
    paint += (255.0 - paint) * (lambert**40 * 0.75)[..., None]
    full = np.zeros_like(canvas)
    full[y0:y1, x0:x1] = paint
    mask = Mask(width, height)
    mask.circle(cx, cy, r)
    blend(canvas, mask.alpha(), full)

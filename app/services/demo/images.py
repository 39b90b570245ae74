"""Procedurally drawn demo images, and schema-valid prompts measured from their pixels.

A fresh clone has no user images, yet the gallery, the editor and the analyzer all need
something real to show. These scenes are drawn with Pillow + numpy from a fixed seed, so the
same bytes come out on every run (tests and seeded databases stay stable), and no image file has
to ship in the repository.

`describe_demo` does not just echo authored text: the palette, lighting key, contrast, colour
temperature, symmetry, aspect ratio and orientation are measured from the drawn pixels, the same
way the offline analyzer measures uploads. Only what pixels cannot tell cheaply (what the
subjects are, the mood, the style) is authored per scene.
"""

from __future__ import annotations

import copy
import io
import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from app.services.core.errors import NotFoundError
from app.services.library.prompts.schema import SCHEMA_VERSION, assert_valid_prompt

Array = npt.NDArray[np.floating[Any]]
Point = tuple[float, float]

LANDSCAPE = (1024, 768)
PORTRAIT = (768, 1024)
SQUARE = (1024, 1024)

# Fields `describe_demo` fills by rule from pixel statistics: worth a second look by a person.
HEURISTIC_FIELDS = (
    "color_palette",
    "lighting.key",
    "lighting.contrast",
    "lighting.color_temperature_k",
    "composition.symmetry",
)


@dataclass(frozen=True)
class DemoScene:
    """One demo image: how to draw it, and what a person would say about it."""

    slug: str
    title: str
    tags: tuple[str, ...]
    style: Mapping[str, Any]
    draw: Callable[[], Image.Image]
    scene: str = ""
    subjects: tuple[Mapping[str, Any], ...] = ()
    mood: str = ""
    background: str = ""
    lighting: Mapping[str, Any] = field(default_factory=dict)
    composition: Mapping[str, Any] = field(default_factory=dict)
    camera: Mapping[str, Any] | None = None
    text_render: tuple[Mapping[str, Any], ...] = ()
    negative: str = "blurry, watermark, low detail"


# --------------------------------------------------------------------------------------------
# Drawing helpers. Pixels are float32 arrays (height, width, 3) in 0..255 while composing.
# --------------------------------------------------------------------------------------------


def _rng(slug: str) -> np.random.Generator:
    # crc32, not hash(): Python salts str hashes per process, which would break determinism.
    return np.random.default_rng(zlib.crc32(slug.encode()))


def _rgb(hex_code: str) -> Array:
    value = int(hex_code.lstrip("#"), 16)
    return np.array([(value >> 16) & 255, (value >> 8) & 255, value & 255], dtype=np.float32)


def _coords(width: int, height: int) -> tuple[Array, Array]:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return xs, ys


def _gradient(width: int, height: int, stops: Sequence[tuple[float, str]]) -> Array:
    """A vertical gradient through (position 0..1, colour) stops."""
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)
    positions = [p for p, _ in stops]
    colours = np.stack([_rgb(c) for _, c in stops])
    column = np.stack([np.interp(t, positions, colours[:, i]) for i in range(3)], axis=1)
    return np.ascontiguousarray(np.broadcast_to(column[:, None, :], (height, width, 3)), np.float32)


def _blend(canvas: Array, alpha: Array, colour: Array | str, opacity: float = 1.0) -> None:
    """Paint `colour` (a hex code, or an image-sized array) over `canvas` through `alpha` 0..1."""
    # Work only inside the bounding box of the mask: most shapes are small, and full-frame
    # float arithmetic per shape is what makes drawing slow.
    rows = np.flatnonzero(alpha.any(axis=1))
    cols = np.flatnonzero(alpha.any(axis=0))
    if rows.size == 0 or opacity <= 0:
        return
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    if isinstance(colour, str):
        paint = _rgb(colour)
    elif colour.ndim == 1:  # one colour as an array
        paint = colour
    else:  # an image-sized array of colours (gradients, shaded surfaces)
        paint = colour[box]
    a = (np.clip(alpha[box], 0.0, 1.0) * opacity)[..., None]
    region = canvas[box]
    region *= 1.0 - a
    region += paint * a


def _glow(canvas: Array, centre: Point, radius: float, colour: str, strength: float) -> None:
    height, width = canvas.shape[:2]
    xs, ys = _coords(width, height)
    d2 = ((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (radius * radius)
    _blend(canvas, np.exp(-d2) * strength, colour)


def _noise1d(n: int, rng: np.random.Generator, octaves: Sequence[tuple[float, int]]) -> Array:
    """Smooth fractal noise of length n: each octave is (amplitude, number of knots)."""
    out = np.zeros(n, dtype=np.float32)
    x = np.linspace(0.0, 1.0, n)
    for amplitude, knots in octaves:
        values = rng.uniform(-1.0, 1.0, knots + 1)
        out += amplitude * np.interp(x, np.linspace(0.0, 1.0, knots + 1), values).astype(np.float32)
    return out


def _below(ridge: Array, height: int) -> Array:
    """Alpha that is 1 under a ridge line y(x), antialiased along it."""
    ys = np.arange(height, dtype=np.float32)[:, None]
    return np.clip(ys - ridge[None, :] + 0.5, 0.0, 1.0)


def _to_image(canvas: Array) -> Image.Image:
    return Image.fromarray(np.clip(canvas + 0.5, 0, 255).astype(np.uint8), "RGB")


class _Mask:
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


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # DejaVu Sans Bold reads best on the poster; Pillow's bundled font keeps it working on
    # machines without it (Pillow >= 10.1 ships a scalable default font).
    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def _stars(canvas: Array, rng: np.random.Generator, count: int, max_y: float) -> None:
    height, width = canvas.shape[:2]
    mask = _Mask(width, height)
    for _ in range(count):
        x, y = rng.uniform(0, width), rng.uniform(0, max_y) ** 1.0
        mask.circle(x, y, rng.uniform(0.5, 1.5), int(rng.uniform(90, 255)))
    _blend(canvas, mask.alpha(), "#fffbe8")


def _sphere(canvas: Array, cx: float, cy: float, r: float, colour: str) -> None:
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
    paint = np.clip(_rgb(colour) * (0.28 + 0.85 * lambert)[..., None], 0, 255)
    paint += (255.0 - paint) * (lambert**40 * 0.75)[..., None]
    full = np.zeros_like(canvas)
    full[y0:y1, x0:x1] = paint
    mask = _Mask(width, height)
    mask.circle(cx, cy, r)
    _blend(canvas, mask.alpha(), full)


# --------------------------------------------------------------------------------------------
# The scenes.
# --------------------------------------------------------------------------------------------


def _draw_sunset_sea() -> Image.Image:
    w, h = LANDSCAPE
    rng = _rng("sunset-sea")
    horizon = int(h * 0.6)
    c = _gradient(
        w,
        h,
        [
            (0.0, "#241846"),
            (0.22, "#5c2a68"),
            (0.42, "#c24d5e"),
            (0.53, "#f08a3e"),
            (0.6, "#ffc870"),
            (1.0, "#ffc870"),
        ],
    )
    clouds = _Mask(w, h)
    for _ in range(9):
        cy = rng.uniform(h * 0.12, h * 0.45)
        cloud_x = rng.uniform(0, w)
        clouds.ellipse(cloud_x, cy, rng.uniform(90, 220), rng.uniform(5, 11), 200)
    _blend(c, clouds.alpha(blur=3), "#f59a73", 0.55)
    sun = (w * 0.62, horizon - 58.0)
    _glow(c, sun, 300, "#ffae57", 0.55)
    _glow(c, sun, 110, "#ffe3a0", 0.7)
    disc = _Mask(w, h)
    disc.circle(*sun, 56)
    _blend(c, disc.alpha(), "#fff4cf")

    sea = _gradient(w, h - horizon, [(0.0, "#e0784a"), (0.18, "#a0435a"), (1.0, "#1a1231")])
    c[horizon:] = sea
    streaks = _Mask(w, h)
    for _ in range(240):
        t = rng.uniform(0, 1) ** 1.6
        y = horizon + 2 + t * (h - horizon - 4)
        spread = 30 + 220 * t
        x = sun[0] + rng.normal(0, spread * 0.45)
        half = rng.uniform(6, 26) * (0.4 + 1.6 * t)
        streaks.rect(x - half, y, x + half, y + 1 + 3 * t, int(rng.uniform(120, 255)))
    _blend(c, streaks.alpha(blur=0.6), "#ffd592", 0.85)
    ripples = _Mask(w, h)
    for _ in range(160):
        t = rng.uniform(0, 1) ** 1.3
        y = horizon + 3 + t * (h - horizon - 4)
        x = rng.uniform(0, w)
        ripples.rect(x - 40 - 90 * t, y, x + 40 + 90 * t, y + 1 + 2 * t, 140)
    _blend(c, ripples.alpha(blur=0.5), "#150d27", 0.35)

    boat = _Mask(w, h)
    bx, by = w * 0.27, horizon + 8.0
    boat.polygon([(bx - 34, by - 8), (bx + 34, by - 8), (bx + 24, by + 2), (bx - 26, by + 2)])
    boat.polygon([(bx - 2, by - 96), (bx - 2, by - 12), (bx - 42, by - 12)])
    boat.polygon([(bx + 3, by - 84), (bx + 3, by - 12), (bx + 30, by - 12)])
    _blend(c, boat.alpha(), "#1c1026")
    birds = _Mask(w, h)
    for bxx, byy, s in ((700, 180, 1.0), (735, 200, 0.8), (668, 208, 0.7)):
        birds.line([(bxx - 12 * s, byy - 4 * s), (bxx, byy), (bxx + 12 * s, byy - 5 * s)], 2.2)
    _blend(c, birds.alpha(), "#2a1634")
    return _to_image(c)


def _draw_night_city() -> Image.Image:
    w, h = LANDSCAPE
    rng = _rng("night-city")
    water = int(h * 0.82)
    c = _gradient(w, h, [(0.0, "#050816"), (0.45, "#0d1838"), (0.75, "#2b2552"), (1.0, "#3a2b55")])
    _stars(c, rng, 140, h * 0.5)
    _glow(c, (w * 0.8, h * 0.17), 90, "#cfd8ff", 0.35)
    moon = _Mask(w, h)
    moon.circle(w * 0.8, h * 0.17, 34)
    _blend(c, moon.alpha(), "#f3efdc")
    _glow(c, (w * 0.5, water), 420, "#ff8a4c", 0.28)

    layers = (
        ("#1d2246", 0.30, 0.48, 0.18, "#e0b56a"),
        ("#121632", 0.42, 0.6, 0.3, "#ffd98f"),
        ("#080a18", 0.55, 0.72, 0.38, "#ffe3a3"),
    )
    for colour, top_min, top_max, lit, window_colour in layers:
        body = _Mask(w, h)
        windows = _Mask(w, h)
        x = -20.0
        while x < w:
            bw = rng.uniform(50, 120)
            top = h * rng.uniform(top_min, top_max)
            body.rect(x, top, x + bw, water)
            if rng.uniform() < 0.3:
                body.rect(x + bw * 0.4, top - rng.uniform(20, 60), x + bw * 0.46, top)
            if rng.uniform() < 0.3:
                body.rect(x + bw * 0.15, top - 18, x + bw * 0.85, top)
            for wy in np.arange(top + 12, water - 10, 17.0):
                for wx in np.arange(x + 8, x + bw - 10, 13.0):
                    if rng.uniform() < lit:
                        windows.rect(wx, wy, wx + 6, wy + 9, int(rng.uniform(150, 255)))
            x += bw + rng.uniform(-4, 24)
        _blend(c, body.alpha(), colour)
        _blend(c, windows.alpha(), window_colour)
    # The river mirrors the skyline, darkened and broken up by ripples.
    depth = h - water
    reflection = c[water - depth : water][::-1].copy()
    offsets = (np.sin(np.arange(depth) * 0.9) * 3 + rng.normal(0, 1.5, depth)).astype(int)
    for row in range(depth):
        reflection[row] = np.roll(reflection[row], offsets[row], axis=0)
    fade = np.linspace(0.6, 0.3, depth, dtype=np.float32)[:, None, None]
    c[water:] = reflection * fade + _rgb("#0a0d22") * (1 - fade)
    return _to_image(c)


def _pine(mask: _Mask, x: float, base: float, height: float, width: float) -> None:
    tiers = 4
    for i in range(tiers):
        top = base - height + i * height * 0.2
        bottom = base - height * 0.1 - (tiers - 1 - i) * height * 0.16
        half = width * (0.45 + 0.55 * (i + 1) / tiers) / 2
        mask.polygon([(x, top), (x + half, bottom), (x - half, bottom)])
    mask.rect(x - width * 0.05, base - height * 0.14, x + width * 0.05, base)


def _draw_misty_forest() -> Image.Image:
    w, h = LANDSCAPE
    rng = _rng("misty-forest")
    xs, ys = _coords(w, h)
    c = _gradient(w, h, [(0.0, "#8ea7ad"), (0.5, "#cdd8d4"), (1.0, "#e2e8e2")])
    _glow(c, (w * 0.28, h * 0.22), 260, "#f6f1dc", 0.6)
    haze, dark = _rgb("#b4c5c1"), _rgb("#1a3129")
    for i in range(5):
        t = i / 4
        colour = haze + (dark - haze) * (0.2 + 0.8 * t**1.3)
        base_y = h * (0.5 + 0.115 * i)
        ground = base_y + 10 * _noise1d(w, rng, [(1.0, 5), (0.3, 20)])
        trees = _Mask(w, h)
        x = rng.uniform(-20, 10)
        while x < w + 20:
            col = int(np.clip(x, 0, w - 1))
            tree_h = rng.uniform(60, 130) * (1 + i * 0.45)
            _pine(trees, x, float(ground[col]) + 6, tree_h, tree_h * rng.uniform(0.3, 0.4))
            x += rng.uniform(10, 40) * (1 + i * 0.5)
        alpha = np.maximum(trees.alpha(), _below(ground, h))
        _blend(c, alpha, colour)
        fog = np.exp(-(((ys - base_y) / 38.0) ** 2)) * (0.6 - 0.09 * i)
        fog *= 0.8 + 0.2 * np.sin(xs / 157.0 + i * 1.7)
        _blend(c, fog, "#d3ddd9")
    return _to_image(c)


def _mountain_range(
    canvas: Array,
    rng: np.random.Generator,
    *,
    base: float,
    peaks: int,
    height: float,
    rock: str,
    shade: str,
    snow: str | None,
) -> Array:
    """Paint a range of peaks lit from the right; returns its ridge line y(x).

    Each column belongs to the peak that is highest there, and the face left of that peak's
    apex (bent a little with noise) is in shadow, so faces read as faces, not stripes.
    """
    h, w = canvas.shape[:2]
    xs = np.arange(w, dtype=np.float32)
    ys = np.arange(h, dtype=np.float32)[:, None]
    apex_x = np.linspace(-60, w + 60, peaks) + rng.uniform(-50, 50, peaks)
    apex_y = base - height * rng.uniform(0.45, 1.0, peaks)
    slopes = rng.uniform(0.55, 1.05, peaks)
    jag = 10 * _noise1d(w, rng, [(1.0, 40), (0.5, 110)])
    profiles = apex_y[:, None] + np.abs(xs[None, :] - apex_x[:, None]) * slopes[:, None]
    owner = np.argmin(profiles, axis=0)
    ridge = np.minimum(profiles.min(axis=0) + jag, base)
    ax, ay = apex_x[owner][None, :], apex_y[owner][None, :]
    split = ax - (ys - ay) * 0.25 + 14 * _noise1d(h, rng, [(1.0, 12)])[:, None]
    shadow = np.clip((split - xs[None, :]) / 3.0, 0.0, 1.0)
    depth = np.clip((ys - ridge[None, :]) / (base - apex_y.min()), 0.0, 1.0)
    lit_paint, dark_paint = _rgb(rock), _rgb(shade)
    paint = lit_paint + (dark_paint - lit_paint) * shadow[..., None]
    paint = paint * (1.0 - 0.25 * depth[..., None])
    if snow:
        snow_line = ay + (base - ay) * 0.38 + 16 * _noise1d(w, rng, [(1.0, 25), (0.6, 80)])[None, :]
        cover = np.clip(snow_line - ys, 0.0, 1.0)
        snow_lit = _rgb(snow)
        snow_paint = snow_lit + (_rgb("#9aa3d6") - snow_lit) * (0.7 * shadow[..., None])
        paint = paint + (snow_paint - paint) * cover[..., None]
    _blend(canvas, _below(ridge, h), np.clip(paint, 0, 255).astype(np.float32))
    return ridge


def _draw_snowy_mountains() -> Image.Image:
    w, h = LANDSCAPE
    rng = _rng("snowy-mountains-dawn")
    c = _gradient(
        w,
        h,
        [
            (0.0, "#263463"),
            (0.3, "#6f64a0"),
            (0.52, "#f0a6a1"),
            (0.66, "#ffd7ae"),
            (1.0, "#ffe6c4"),
        ],
    )
    _glow(c, (w * 0.78, h * 0.5), 260, "#fff0d2", 0.6)
    ys = np.arange(h, dtype=np.float32)[:, None]
    _mountain_range(
        c, rng, base=h * 0.62, peaks=5, height=300, rock="#b2a3cc", shade="#7c72a8", snow="#fff0f0"
    )
    _blend(
        c, np.exp(-(((ys - h * 0.62) / 50.0) ** 2)) * np.ones((1, w), np.float32), "#f6cfd0", 0.45
    )
    _mountain_range(
        c, rng, base=h * 0.76, peaks=7, height=220, rock="#6f6c9c", shade="#434470", snow="#f7e6ee"
    )
    _blend(
        c, np.exp(-(((ys - h * 0.76) / 40.0) ** 2)) * np.ones((1, w), np.float32), "#e9c7d3", 0.35
    )
    field_line = h * 0.86 + 6 * _noise1d(w, rng, [(1.0, 4)])
    snowfield = _gradient(w, h, [(0.0, "#eef0fb"), (0.86, "#f1eef8"), (1.0, "#c3c6e4")])
    _blend(c, _below(field_line, h), snowfield)
    trees = _Mask(w, h)
    for x in rng.uniform(0, w, 26):
        th = rng.uniform(30, 70)
        _pine(trees, float(x), float(field_line[int(x) % w]) + 8, th, th * 0.38)
    _blend(c, trees.alpha(), "#1e2442")
    return _to_image(c)


def _draw_desert_dunes() -> Image.Image:
    w, h = LANDSCAPE
    rng = _rng("desert-dunes")
    xs = np.arange(w, dtype=np.float32)
    ys = np.arange(h, dtype=np.float32)[:, None]
    c = _gradient(w, h, [(0.0, "#2f6fb5"), (0.35, "#86b9e0"), (0.52, "#f3dcc0"), (1.0, "#f3dcc0")])
    _glow(c, (w * 0.22, h * 0.2), 160, "#fff6e0", 0.65)
    sun = _Mask(w, h)
    sun.circle(w * 0.22, h * 0.2, 30)
    _blend(c, sun.alpha(), "#fffaf0")
    dunes = (
        (0.5, 40, "#e8bb86", 0.004),
        (0.6, 60, "#dea06a", 0.0055),
        (0.74, 80, "#d08a52", 0.004),
        (0.9, 90, "#c47640", 0.003),
    )
    for base, amp, sand, freq in dunes:
        phase = rng.uniform(0, math.tau)
        angle = xs * freq + phase
        wave = np.abs(np.sin(angle)) ** 0.8
        ridge = h * base - amp * (1 - wave) - 6 * _noise1d(w, rng, [(1.0, 6)])
        body = _below(ridge, h)
        # Crests sit where sin() crosses zero; the slip face just right of each crest is in
        # shadow, and that shadow narrows further down the slope, the way dunes look.
        after_crest = (angle[None, :] % math.pi) / math.pi
        depth = np.clip((ys - ridge[None, :]) / 180.0, 0.0, 1.0)
        reach = 0.42 - 0.3 * depth
        shadow = np.clip((reach - after_crest) / 0.03, 0.0, 1.0)
        tone = (1.06 - 0.2 * depth) * (1 - 0.32 * shadow)
        ripples = 1 + 0.015 * np.sin(ys * 0.5 + 9 * np.sin(xs[None, :] * 0.013)) * (1 - shadow)
        paint = _rgb(sand) * (tone * ripples)[..., None]
        paint = paint + (_rgb("#7a4a6a") - paint) * (0.22 * shadow)[..., None]
        _blend(c, body, np.clip(paint, 0, 255).astype(np.float32))
    camels = _Mask(w, h)
    for cx, s in ((w * 0.64, 1.0), (w * 0.69, 0.92)):
        cy = h * 0.49
        camels.ellipse(cx, cy, 20 * s, 9 * s)
        camels.ellipse(cx - 6 * s, cy - 7 * s, 7 * s, 7 * s)
        camels.line(
            [(cx + 16 * s, cy - 2 * s), (cx + 26 * s, cy - 16 * s), (cx + 31 * s, cy - 15 * s)],
            4 * s,
        )
        for lx in (-14, -8, 9, 15):
            camels.line([(cx + lx * s, cy + 4 * s), (cx + lx * s, cy + 22 * s)], 2.4 * s)
    _blend(c, camels.alpha(), "#5a3524")
    return _to_image(c)


def _draw_bauhaus() -> Image.Image:
    w, h = SQUARE
    c = _gradient(w, h, [(0.0, "#f1e8d6"), (1.0, "#e9dec8")])
    blue = _Mask(w, h)
    blue.rect(560, 110, 910, 530)
    _blend(c, blue.alpha(), "#1f4e96")
    red = _Mask(w, h)
    red.circle(400, 470, 250)
    _blend(c, red.alpha(), "#d63b2f")
    inner = _Mask(w, h)
    inner.ring(400, 470, 150, 26)
    _blend(c, inner.alpha(), "#f1e8d6")
    yellow = _Mask(w, h)
    yellow.pieslice(735, 930, 235, 180, 360)
    _blend(c, yellow.alpha(), "#f2b705")
    black = _Mask(w, h)
    black.rect(90, 770, 610, 812)
    black.rect(90, 840, 420, 858)
    black.circle(820, 300, 62)
    black.ring(190, 170, 88, 14)
    black.line([(640, 620), (960, 620)], 10)
    for i in range(5):
        black.circle(680 + i * 58, 680, 9)
    _blend(c, black.alpha(), "#1b1b1b")
    quarter = _Mask(w, h)
    quarter.pieslice(90, 1000, 170, 270, 360)
    _blend(c, quarter.alpha(), "#1f4e96")
    return _to_image(c)


def _draw_synthwave() -> Image.Image:
    w, h = LANDSCAPE
    rng = _rng("neon-synthwave")
    horizon = int(h * 0.62)
    c = _gradient(
        w,
        h,
        [
            (0.0, "#0b0221"),
            (0.3, "#32094f"),
            (0.55, "#a3246f"),
            (0.62, "#ff5c8a"),
            (1.0, "#ff5c8a"),
        ],
    )
    _stars(c, rng, 70, h * 0.35)
    cx, cy, r = w / 2, horizon - 120.0, 150.0
    _glow(c, (cx, cy), 260, "#ff3d8b", 0.45)
    sun_paint = _gradient(
        w,
        h,
        [
            (0.0, "#ffe45c"),
            (cy / h - 0.12, "#ffd319"),
            (cy / h + 0.18, "#ff2975"),
            (1.0, "#ff2975"),
        ],
    )
    sun = _Mask(w, h)
    sun.circle(cx, cy, r)
    for i in range(7):
        gap_y = cy + 10 + i * 20.0
        sun.rect(cx - r - 2, gap_y, cx + r + 2, gap_y + 2 + i * 1.4, 0)
    _blend(c, sun.alpha(), sun_paint)
    # Mountains mirrored about the centre line: the look of the genre, and a real symmetry.
    half = _noise1d(w // 2, rng, [(1.0, 4), (0.35, 12), (0.1, 30)])
    profile = np.concatenate([half[::-1], half])[:w]
    edge = np.abs(np.linspace(-1, 1, w, dtype=np.float32)) ** 1.4
    ridge = horizon - (40 + 90 * (profile * 0.5 + 0.5)) * edge - 4
    _blend(c, _below(ridge, h), "#1d0838")
    outline = _Mask(w, h)
    outline.line(list(zip(range(w), ridge.tolist(), strict=True)), 2)
    _blend(c, outline.alpha(), "#ff4fd8", 0.8)
    c[horizon:] = _gradient(w, h - horizon, [(0.0, "#2a0845"), (1.0, "#0e0220")])
    grid = _Mask(w, h)
    for k in range(1, 16):
        y = horizon + (h - horizon) * (k / 15) ** 2.2
        grid.line([(0, y), (w, y)], 1.2 + 1.6 * k / 15)
    for i in range(-14, 15):
        grid.line([(cx + i * 22, horizon), (cx + i * 150, h)], 2)
    grid.line([(0, horizon), (w, horizon)], 2.5)
    sharp = grid.alpha()
    _blend(c, grid.alpha(blur=5) * 1.3, "#ff2bd6", 0.6)
    _blend(c, sharp, "#ff6cf0")
    _glow(c, (cx, horizon), 300, "#ff5fa2", 0.25)
    return _to_image(c)


def _draw_underwater() -> Image.Image:
    w, h = PORTRAIT
    rng = _rng("underwater")
    xs, ys = _coords(w, h)
    c = _gradient(w, h, [(0.0, "#5fd6dc"), (0.3, "#1a82b0"), (0.68, "#0b3d6f"), (1.0, "#061836")])
    rays = _Mask(w, h)
    for _ in range(7):
        x0 = rng.uniform(0, w)
        spread = rng.uniform(30, 80)
        lean = rng.uniform(-160, 160)
        rays.polygon(
            [(x0 - 14, 0), (x0 + 14, 0), (x0 + lean + spread, h), (x0 + lean - spread, h)],
            int(rng.uniform(80, 200)),
        )
    fade = np.clip(1.0 - ys / (h * 0.85), 0.0, 1.0) ** 1.5
    _blend(c, rays.alpha(blur=9) * fade, "#c9fbff", 0.35)
    surface = np.clip(1 - ys / 40.0, 0, 1) * (0.6 + 0.4 * np.sin(xs / 23.0 + np.sin(xs / 61.0) * 3))
    _blend(c, surface, "#d8fbff", 0.6)
    floor = h * 0.88 + 14 * _noise1d(w, rng, [(1.0, 5), (0.3, 18)])
    _blend(
        c,
        _below(floor, h),
        _gradient(w, h, [(0.0, "#6f8f86"), (0.88, "#5f7f7a"), (1.0, "#2b4148")]),
    )
    kelp = _Mask(w, h)
    for base_x in (70.0, 130.0, 610.0, 680.0, 720.0):
        height = rng.uniform(0.35, 0.6) * h
        phase = rng.uniform(0, math.tau)
        for k in range(90):
            t = k / 89
            y = h - t * height
            x = base_x + 26 * math.sin(t * 5 + phase) * t
            kelp.circle(x, y, 9 * (1 - t) + 2)
    _blend(c, kelp.alpha(), "#1f6b4f")
    fish = _Mask(w, h)
    for _ in range(14):
        fx, fy, s = rng.uniform(180, 620), rng.uniform(h * 0.35, h * 0.55), rng.uniform(0.5, 0.9)
        fish.ellipse(fx, fy, 20 * s, 8 * s)
        fish.polygon([(fx + 16 * s, fy), (fx + 30 * s, fy - 9 * s), (fx + 30 * s, fy + 9 * s)])
    _blend(c, fish.alpha(), "#0a2b4d", 0.85)
    orange = _Mask(w, h)
    ox, oy = w * 0.36, h * 0.7
    orange.ellipse(ox, oy, 30, 15)
    orange.polygon([(ox + 24, oy), (ox + 46, oy - 15), (ox + 46, oy + 15)])
    _blend(c, orange.alpha(), "#ff8c42")
    stripes = _Mask(w, h)
    stripes.rect(ox - 6, oy - 16, ox + 2, oy + 16)
    _blend(c, stripes.alpha() * orange.alpha(), "#fff3e6")
    bubbles = _Mask(w, h)
    highlights = _Mask(w, h)
    for _ in range(46):
        bx = w * 0.46 + rng.normal(0, 40) + rng.uniform(-1, 1) * 20
        by = rng.uniform(h * 0.05, h * 0.8)
        r = rng.uniform(3, 16) * (1.2 - by / h)
        bubbles.ring(bx, by, r, max(1.2, r * 0.18))
        highlights.circle(bx - r * 0.35, by - r * 0.35, max(1.0, r * 0.22))
    _blend(c, bubbles.alpha(), "#dffcff", 0.85)
    _blend(c, highlights.alpha(), "#ffffff")
    return _to_image(c)


def _draw_autumn_park() -> Image.Image:
    w, h = LANDSCAPE
    rng = _rng("autumn-park-path")
    vanish = (w * 0.5, h * 0.46)
    c = _gradient(w, h, [(0.0, "#f7e4b8"), (0.46, "#f3d9a0"), (0.47, "#8c8a3c"), (1.0, "#6f6a2a")])
    _glow(c, vanish, 230, "#fff3cf", 0.7)
    path = _Mask(w, h)
    path.polygon(
        [(vanish[0] - 10, vanish[1]), (vanish[0] + 10, vanish[1]), (w * 0.78, h), (w * 0.2, h)]
    )
    _blend(
        c, path.alpha(), _gradient(w, h, [(0.0, "#e3cfae"), (0.46, "#d8c09a"), (1.0, "#a98660")])
    )
    foliage = ("#d9572b", "#e8a33d", "#b5372a", "#f2c14e", "#c8642a")
    depths = np.sort(rng.uniform(0.0, 1.0, 26))
    # Trees are painted in three depth bands (far to near), one mask per colour per band:
    # enough overlap order to read as depth, and far fewer full-frame masks than per tree.
    for band in np.array_split(depths, 3):
        trunks = _Mask(w, h)
        crowns = {colour: _Mask(w, h) for colour in foliage}
        for d in band:
            side = -1 if rng.uniform() < 0.5 else 1
            t = float(d) ** 1.7
            base_y = vanish[1] + (h - vanish[1]) * (0.05 + 0.75 * t)
            path_half = 10 + (w * 0.29) * (base_y - vanish[1]) / (h - vanish[1])
            x = vanish[0] + side * (path_half + 20 + 260 * t * rng.uniform(0.2, 1.0))
            trunk_w = 3 + 34 * t
            trunk_h = 60 + 520 * t
            trunks.polygon(
                [
                    (x - trunk_w / 2, base_y),
                    (x + trunk_w / 2, base_y),
                    (x + trunk_w * 0.3, base_y - trunk_h),
                    (x - trunk_w * 0.3, base_y - trunk_h),
                ]
            )
            crown_r = 30 + 200 * t
            for colour in foliage:
                for _ in range(7):
                    bx = x + rng.normal(0, crown_r * 0.55)
                    by = base_y - trunk_h + rng.normal(0, crown_r * 0.4)
                    crowns[colour].circle(bx, by, crown_r * rng.uniform(0.2, 0.45))
        _blend(c, trunks.alpha(), "#3b2a20")
        blur = 1.6 - float(band.mean())
        for colour, mask in crowns.items():
            _blend(c, mask.alpha(blur=blur), colour, 0.9)
    leaf_colours = {colour: _Mask(w, h) for colour in foliage}
    for _ in range(900):
        y = vanish[1] + (h - vanish[1]) * rng.uniform(0.02, 1.0) ** 0.7
        x = rng.uniform(0, w)
        s = 1 + 7 * (y - vanish[1]) / (h - vanish[1])
        leaf_colours[foliage[int(rng.integers(len(foliage)))]].ellipse(x, y, s * 1.4, s * 0.7)
    for colour, mask in leaf_colours.items():
        _blend(c, mask.alpha(), colour, 0.9)
    return _to_image(c)


def _draw_poster() -> Image.Image:
    w, h = PORTRAIT
    c = _gradient(w, h, [(0.0, "#1d3557"), (1.0, "#14243d")])
    sun = _Mask(w, h)
    sun.circle(w * 0.78, h * 0.22, 230)
    _blend(c, sun.alpha(), "#f4a261")
    rings = _Mask(w, h)
    for r in (270, 300, 330):
        rings.ring(w * 0.78, h * 0.22, r, 6)
    _blend(c, rings.alpha(), "#e76f51")
    band = _Mask(w, h)
    band.rect(0, h * 0.62, w, h * 0.63)
    band.rect(0, h * 0.645, w, h * 0.65)
    _blend(c, band.alpha(), "#a8dadc")
    image = _to_image(c)
    draw = ImageDraw.Draw(image)

    def centred(text: str, y: float, size: int, fill: str, max_width: float) -> None:
        # Shrink until it fits: font metrics differ between DejaVu and Pillow's own font.
        while True:
            font = _font(size)
            x0, _, x1, _ = draw.textbbox((0, 0), text, font=font)
            if x1 - x0 <= max_width or size <= 12:
                break
            size -= 4
        draw.text(((w - (x1 - x0)) / 2 - x0, y), text, font=font, fill=fill)

    centred("JSONCRAFT", h * 0.45, 140, "#f1faee", w * 0.86)
    draw.rounded_rectangle((w * 0.2, h * 0.7, w * 0.8, h * 0.79), radius=18, fill="#e63946")
    centred("OPEN DAILY", h * 0.717, 64, "#f1faee", w * 0.54)
    centred("9 AM - 9 PM", h * 0.85, 44, "#a8dadc", w * 0.7)
    return image


def _draw_still_life() -> Image.Image:
    w, h = LANDSCAPE
    rng = _rng("still-life")
    table_y = h * 0.66
    c = _gradient(
        w,
        h,
        [
            (0.0, "#c9bfb2"),
            (0.66, "#e2d8ca"),
            (0.661, "#9a6a45"),
            (0.8, "#875a3a"),
            (1.0, "#5e3b25"),
        ],
    )
    _glow(c, (w * 0.15, h * 0.2), 420, "#f7efe3", 0.55)
    edge = _Mask(w, h)
    edge.rect(0, table_y, w, table_y + 3)
    _blend(c, edge.alpha(), "#b98a5f")
    grain = (
        np.sin(np.arange(w, dtype=np.float32)[None, :] * 0.02 + np.arange(h)[:, None] * 0.3) * 4
    ).astype(np.float32)
    c[int(table_y) + 3 :] += grain[int(table_y) + 3 :, :, None]

    shadows = _Mask(w, h)
    vase_x, vase_base = w * 0.42, table_y + 40
    shadows.ellipse(vase_x + 70, vase_base + 4, 120, 16)
    fruits = ((w * 0.62, "#f28c28", 58), (w * 0.73, "#c0392b", 52), (w * 0.55, "#e9c46a", 44))
    for fx, _, r in fruits:
        shadows.ellipse(fx + r * 0.8, vase_base + 8 + r * 0.1, r * 1.3, r * 0.25)
    _blend(c, shadows.alpha(blur=8), "#3a2417", 0.45)

    xs, _ = _coords(w, h)
    profile = []
    for k in range(61):
        t = k / 60
        radius = (
            34 + 70 * math.sin(math.pi * min(1.0, t * 1.25)) ** 1.2
            if t < 0.8
            else 30 + 12 * (t - 0.8) / 0.2
        )
        profile.append((vase_base - t * 300, radius))
    vase = _Mask(w, h)
    vase.polygon(
        [(vase_x - r, y) for y, r in profile] + [(vase_x + r, y) for y, r in reversed(profile)]
    )
    shade = np.clip(1.15 - np.abs((xs - (vase_x - 40)) / 110.0) ** 1.4 * 0.7, 0.35, 1.2)
    _blend(c, vase.alpha(), np.clip(_rgb("#2f5d8a") * shade[..., None], 0, 255).astype(np.float32))
    stems = _Mask(w, h)
    top = vase_base - 300
    for dx, lean in ((-10, -60), (4, 20), (14, 70)):
        stems.line(
            [
                (vase_x + dx, top + 10),
                (vase_x + dx + lean * 0.5, top - 90),
                (vase_x + dx + lean, top - 150),
            ],
            3,
        )
    _blend(c, stems.alpha(), "#4a6b3a")
    for dx, lean, colour in ((-10, -60, "#f2e8cf"), (4, 20, "#e07a5f"), (14, 70, "#f2e8cf")):
        _sphere(c, vase_x + dx + lean, top - 160, 26, colour)
    for fx, colour, r in sorted(fruits, key=lambda f: f[2]):
        _sphere(c, fx, vase_base - r + 6 + rng.uniform(-2, 2), r, colour)
    return _to_image(c)


def _draw_lighthouse() -> Image.Image:
    w, h = PORTRAIT
    rng = _rng("lighthouse-night")
    horizon = int(h * 0.66)
    c = _gradient(w, h, [(0.0, "#050a1c"), (0.5, "#13244a"), (0.66, "#213862"), (1.0, "#213862")])
    _stars(c, rng, 160, h * 0.55)
    moon = _Mask(w, h)
    moon.circle(w * 0.2, h * 0.12, 36)
    moon.circle(w * 0.2 + 16, h * 0.12 - 8, 32, 0)
    _glow(c, (w * 0.2, h * 0.12), 80, "#bcc8ff", 0.25)
    _blend(c, moon.alpha(), "#f3ecd2")
    c[horizon:] = _gradient(w, h - horizon, [(0.0, "#10254a"), (1.0, "#040a18")])
    lamp = (w * 0.64, h * 0.31)
    beams = _Mask(w, h)
    beams.polygon([lamp, (-40, lamp[1] - 150), (-40, lamp[1] + 40)])
    beams.polygon([lamp, (w + 40, lamp[1] - 60), (w + 40, lamp[1] + 70)], 150)
    xs, _ = _coords(w, h)
    falloff = np.exp(-np.abs(xs - lamp[0]) / 420.0)
    _blend(c, beams.alpha(blur=6) * falloff, "#fff4c4", 0.55)
    _glow(c, lamp, 90, "#ffe9a6", 0.6)
    waves = _Mask(w, h)
    for _ in range(220):
        t = rng.uniform(0, 1) ** 1.4
        y = horizon + 2 + t * (h - horizon)
        x = rng.uniform(0, w)
        waves.rect(x - 20 - 50 * t, y, x + 20 + 50 * t, y + 1 + 1.5 * t, int(rng.uniform(60, 200)))
    _blend(c, waves.alpha(blur=0.4), "#5a78a8", 0.5)
    streak = _Mask(w, h)
    for _ in range(90):
        y = horizon + rng.uniform(2, h - horizon)
        x = lamp[0] + rng.normal(0, 12 + (y - horizon) * 0.12)
        streak.rect(x - 14, y, x + 14, y + 2, int(rng.uniform(80, 230)))
    _blend(c, streak.alpha(blur=0.6), "#ffe6a0", 0.6)
    rock = _Mask(w, h)
    ridge = [
        (w * 0.3, h),
        (w * 0.38, h * 0.74),
        (w * 0.5, h * 0.7),
        (w * 0.58, h * 0.655),
        (w * 0.74, h * 0.66),
        (w * 0.86, h * 0.7),
        (w + 10, h * 0.68),
        (w + 10, h),
    ]
    rock.polygon(ridge)
    _blend(c, rock.alpha(), "#0b0e1c")
    tower = _Mask(w, h)
    base_y, top_y = h * 0.665, lamp[1] + 34
    tower.polygon(
        [
            (lamp[0] - 46, base_y),
            (lamp[0] + 46, base_y),
            (lamp[0] + 28, top_y),
            (lamp[0] - 28, top_y),
        ]
    )
    bands = _gradient(w, h, [(0.0, "#b9b4ab")] * 2)
    for k in range(4):
        y0 = top_y + (base_y - top_y) * (k + 0.5) / 4.5
        band_mask = (np.arange(h) >= y0) & (np.arange(h) < y0 + (base_y - top_y) / 9)
        bands[band_mask] = _rgb("#9d3a36")
    side_light = np.clip(0.55 + (xs - lamp[0]) / 140.0, 0.3, 0.9)
    _blend(c, tower.alpha(), (bands * side_light[..., None]).astype(np.float32))
    cap = _Mask(w, h)
    cap.rect(lamp[0] - 36, top_y - 4, lamp[0] + 36, top_y + 4)
    cap.polygon(
        [(lamp[0] - 26, lamp[1] - 26), (lamp[0] + 26, lamp[1] - 26), (lamp[0], lamp[1] - 58)]
    )
    _blend(c, cap.alpha(), "#1a1c26")
    lantern = _Mask(w, h)
    lantern.rect(lamp[0] - 20, lamp[1] - 26, lamp[0] + 20, top_y - 4)
    _blend(c, lantern.alpha(), "#fff6cf")
    return _to_image(c)


def _draw_flower_field() -> Image.Image:
    w, h = LANDSCAPE
    rng = _rng("flower-field")
    horizon = h * 0.46
    c = _gradient(w, h, [(0.0, "#3d8fd6"), (0.46, "#bfe3f5"), (1.0, "#bfe3f5")])
    clouds = _Mask(w, h)
    for cx, cy, s in ((210, 120, 1.0), (640, 80, 0.8), (880, 190, 0.6)):
        for _ in range(9):
            clouds.circle(
                cx + rng.normal(0, 60 * s), cy + rng.normal(0, 12 * s), rng.uniform(25, 48) * s
            )
    _blend(c, clouds.alpha(blur=2), "#ffffff", 0.92)
    xs_line = np.arange(w, dtype=np.float32)
    far = horizon - 30 * np.sin(xs_line / 260 + 1.2) - 10 * _noise1d(w, rng, [(1.0, 6)])
    _blend(c, _below(far, h), "#86b86e")
    tree = _Mask(w, h)
    tx, ty = 780, float(far[780]) + 4
    tree.rect(tx - 4, ty - 40, tx + 4, ty)
    for _ in range(9):
        tree.circle(tx + rng.normal(0, 16), ty - 52 + rng.normal(0, 10), rng.uniform(14, 22))
    _blend(c, tree.alpha(), "#3c6e33")
    near = horizon + 40 - 25 * np.sin(xs_line / 340) - 8 * _noise1d(w, rng, [(1.0, 5)])
    _blend(
        c, _below(near, h), _gradient(w, h, [(0.0, "#5da24a"), (0.5, "#5da24a"), (1.0, "#2f6b2a")])
    )
    palette = ("#e63946", "#f4d35e", "#f7f7ff", "#9b5de5", "#ff8fab")
    petals = {colour: _Mask(w, h) for colour in palette}
    centres = _Mask(w, h)
    for _ in range(2600):
        t = rng.uniform(0, 1) ** 0.8
        y = horizon + 50 + t * (h - horizon - 40)
        x = rng.uniform(-10, w + 10)
        r = 1.0 + 9.0 * t**1.6
        colour = palette[int(rng.choice(5, p=[0.32, 0.26, 0.16, 0.14, 0.12]))]
        petals[colour].ellipse(x, y, r, r * 0.8)
        if r > 4:
            centres.circle(x, y, r * 0.3)
    for colour, mask in petals.items():
        _blend(c, mask.alpha(), colour)
    _blend(c, centres.alpha(), "#f2a900")
    return _to_image(c)


def _draw_window_portrait() -> Image.Image:
    w, h = PORTRAIT
    c = _gradient(w, h, [(0.0, "#1c1e28"), (0.78, "#23232c"), (0.781, "#15151b"), (1.0, "#0f0f14")])
    win = (150.0, 130.0, 618.0, 760.0)
    _glow(c, ((win[0] + win[2]) / 2, (win[1] + win[3]) / 2), 420, "#ffb37a", 0.35)
    outside = _gradient(
        w,
        h,
        [
            (0.0, "#fbe3b8"),
            (0.35, "#ffc48a"),
            (0.6, "#ff9468"),
            (0.75, "#c9617a"),
            (1.0, "#c9617a"),
        ],
    )
    rng = _rng("window-silhouette")
    window = _Mask(w, h)
    window.rect(*win)
    view = outside.copy()
    bokeh = _Mask(w, h)
    for _ in range(26):
        bokeh.circle(
            rng.uniform(win[0], win[2]),
            rng.uniform(win[1] + 200, win[3]),
            rng.uniform(8, 22),
            int(rng.uniform(60, 160)),
        )
    _blend(view, bokeh.alpha(blur=3), "#fff2d4")
    _blend(c, window.alpha(), view)
    frame = _Mask(w, h)
    frame.rect(win[0] - 14, win[1] - 14, win[2] + 14, win[1])
    frame.rect(win[0] - 14, win[3], win[2] + 14, win[3] + 22)
    frame.rect(win[0] - 14, win[1], win[0], win[3])
    frame.rect(win[2], win[1], win[2] + 14, win[3])
    mid_x, mid_y = (win[0] + win[2]) / 2, win[1] + (win[3] - win[1]) * 0.42
    frame.rect(mid_x - 6, win[1], mid_x + 6, win[3])
    frame.rect(win[0], mid_y - 6, win[2], mid_y + 6)
    _blend(c, frame.alpha(), "#0e0f15")
    floor = _Mask(w, h)
    floor.polygon(
        [(win[0] + 40, h * 0.79), (win[2] + 40, h * 0.79), (win[2] + 220, h), (win[0] + 120, h)]
    )
    _blend(c, floor.alpha(blur=10), "#ffb37a", 0.18)
    person = _Mask(w, h)
    hx, hy = w * 0.42, h * 0.52
    person.ellipse(hx, hy, 68, 86)
    person.ellipse(hx - 12, hy - 12, 70, 82)  # hair, fuller at the back of the head
    person.ellipse(hx - 72, hy - 26, 26, 28)  # a low bun
    person.polygon([(hx + 56, hy - 14), (hx + 80, hy + 16), (hx + 58, hy + 22)])  # nose
    # Neck and shoulders as one smooth outline, mirrored left and right.
    right = [(34, 70), (36, 150), (110, 174), (190, 204), (236, 248), (256, 320), (266, 600)]
    outline = [(hx + dx, hy + dy) for dx, dy in right]
    outline += [(hx - dx - 6, hy + dy) for dx, dy in reversed(right)]
    person.polygon(outline)
    alpha = person.alpha()
    _blend(c, alpha, "#0b0b10")
    blurred = (
        np.asarray(
            Image.fromarray((alpha * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(4)),
            dtype=np.float32,
        )
        / 255.0
    )
    rim = np.clip(alpha - blurred, 0.0, 1.0) * 2.2
    _blend(c, rim, "#ffc48a", 0.75)
    plant = _Mask(w, h)
    plant.polygon(
        [
            (win[2] - 90, win[3] - 2),
            (win[2] - 30, win[3] - 2),
            (win[2] - 38, win[3] - 50),
            (win[2] - 82, win[3] - 50),
        ]
    )
    stem = (win[2] - 60, win[3] - 50)
    for angle in range(-66, 80, 22):
        a = math.radians(angle - 90)
        length = 110 - abs(angle) * 0.5
        tip = (stem[0] + math.cos(a) * length, stem[1] + math.sin(a) * length)
        mid = ((stem[0] + tip[0]) / 2, (stem[1] + tip[1]) / 2)
        nx, ny = -math.sin(a) * 11, math.cos(a) * 11  # leaf half-width, across the leaf
        plant.polygon([stem, (mid[0] + nx, mid[1] + ny), tip, (mid[0] - nx, mid[1] - ny)])
    _blend(c, plant.alpha(), "#101218")
    return _to_image(c)


def _draw_aurora_lake() -> Image.Image:
    w, h = LANDSCAPE
    rng = _rng("aurora-lake")
    shore = int(h * 0.62)
    xs, ys = _coords(w, shore)
    sky = _gradient(w, shore, [(0.0, "#040b1a"), (0.7, "#0b2236"), (1.0, "#14324a")])
    _stars(sky, rng, 180, shore * 0.9)
    for i, (colour, strength) in enumerate((("#3dffa8", 0.75), ("#36d6ff", 0.4), ("#b66dff", 0.3))):
        centre = shore * (0.34 + 0.08 * i) + 60 * _noise1d(w, rng, [(1.0, 3), (0.4, 9)])
        curtain = np.clip((centre[None, :] - ys) / (140 + 40 * i), 0.0, 1.0)
        curtain = np.where(
            ys > centre[None, :], np.exp(-(((ys - centre[None, :]) / 10.0) ** 2)), 1 - curtain
        )
        streaks = 0.55 + 0.45 * np.sin(xs * 0.09 + 6 * _noise1d(w, rng, [(1.0, 12)])[None, :]) ** 2
        _blend(sky, curtain * streaks, colour, strength)
    ridge = shore * 0.93 - 46 * (_noise1d(w, rng, [(1.0, 3), (0.5, 9), (0.15, 40)]) * 0.5 + 0.5)
    _blend(sky, _below(ridge, shore), "#050a12")
    trees = _Mask(w, shore)
    for x in np.arange(0, w, 9.0):
        th = rng.uniform(16, 42)
        _pine(trees, float(x) + rng.uniform(-3, 3), shore + 2.0, th, th * 0.35)
    _blend(sky, trees.alpha(), "#03060c")
    c = np.empty((h, w, 3), dtype=np.float32)
    c[:shore] = sky
    depth = h - shore
    reflection = sky[::-1][:depth].copy()
    for row in range(depth):
        reflection[row] = np.roll(reflection[row], int(3 * math.sin(row * 0.7)), axis=0)
    fade = np.linspace(0.75, 0.35, depth, dtype=np.float32)[:, None, None]
    c[shore:] = reflection * fade + _rgb("#030812") * (1 - fade)
    return _to_image(c)


# --------------------------------------------------------------------------------------------
# The catalogue: authored descriptions beside each drawing.
# --------------------------------------------------------------------------------------------

_ILLUSTRATION = {"medium": "digital illustration", "rendering": "flat shapes with soft gradients"}


@cache
def _catalog() -> tuple[DemoScene, ...]:
    return (
        DemoScene(
            slug="sunset-sea",
            title="Sunset over the sea",
            tags=("sunset", "sea", "landscape", "boat", "golden hour"),
            style={**_ILLUSTRATION, "genre": "seascape"},
            draw=_draw_sunset_sea,
            scene=(
                "The sun sets over a calm sea, its light laid across the water in glittering "
                "streaks"
            ),
            subjects=(
                {
                    "type": "object",
                    "description": "a low sun glowing just above the horizon",
                    "position": "right third, above the horizon",
                },
                {
                    "type": "object",
                    "description": "a small sailing boat in silhouette",
                    "position": "left third, on the horizon",
                    "action": "drifting",
                },
                {
                    "type": "animal",
                    "description": "three seabirds",
                    "position": "upper right",
                    "action": "gliding",
                },
            ),
            mood="serene, warm, quiet end of the day",
            background="a violet-to-orange sky with thin streaks of cloud",
            lighting={
                "conditions": "sunset, golden hour",
                "direction": "back",
                "shadows": "silhouettes against the light",
            },
            composition={
                "framing": "wide view with a low horizon",
                "subject_position": "sun on the right third",
                "rule_of_thirds": True,
            },
            camera={
                "angle": "eye level",
                "lens": "standard",
                "focal_length_mm": 50,
                "depth_of_field": "deep",
                "shot_type": "wide shot",
            },
        ),
        DemoScene(
            slug="night-city",
            title="Night city skyline",
            tags=("city", "night", "skyline", "windows", "reflection"),
            style={**_ILLUSTRATION, "genre": "cityscape"},
            draw=_draw_night_city,
            scene="A city skyline at night with hundreds of lit windows, mirrored in a dark river",
            subjects=(
                {
                    "type": "object",
                    "description": "layers of office towers with warm lit windows",
                    "position": "across the lower half",
                },
                {"type": "object", "description": "a full moon", "position": "upper right"},
            ),
            mood="calm, nocturnal, a little lonely",
            background="a deep navy sky with faint stars and an orange glow over the city",
            lighting={
                "conditions": "night, artificial window light and moonlight",
                "direction": "ambient",
                "shadows": "buildings in near silhouette",
            },
            composition={
                "framing": "wide panorama",
                "subject_position": "skyline along the lower third",
                "rule_of_thirds": True,
            },
            camera={
                "angle": "eye level",
                "lens": "standard",
                "focal_length_mm": 35,
                "depth_of_field": "deep",
                "shot_type": "wide shot",
            },
        ),
        DemoScene(
            slug="misty-forest",
            title="Misty pine forest",
            tags=("forest", "pine", "mist", "fog", "nature"),
            style={
                **_ILLUSTRATION,
                "genre": "landscape",
                "rendering": "layered silhouettes with atmospheric haze",
            },
            draw=_draw_misty_forest,
            scene="Rows of pine trees fade into morning mist, each ridge paler than the one before",
            subjects=(
                {
                    "type": "object",
                    "description": "dark pine trees in the foreground",
                    "position": "bottom of the frame",
                },
            ),
            mood="quiet, mysterious, cool morning",
            background="pale grey-green fog and a hidden sun",
            lighting={
                "conditions": "foggy morning, diffuse light",
                "direction": "top",
                "shadows": "almost no shadows",
            },
            composition={
                "framing": "wide view with layered depth",
                "subject_position": "foreground trees at the bottom",
            },
            camera={
                "angle": "eye level",
                "lens": "telephoto",
                "focal_length_mm": 135,
                "depth_of_field": "deep",
                "shot_type": "wide shot",
            },
        ),
        DemoScene(
            slug="snowy-mountains-dawn",
            title="Snowy mountains at dawn",
            tags=("mountains", "snow", "dawn", "landscape", "winter"),
            style={**_ILLUSTRATION, "genre": "landscape"},
            draw=_draw_snowy_mountains,
            scene=(
                "Snow-capped mountain ranges catch the first pink light of dawn above a snowfield"
            ),
            subjects=(
                {
                    "type": "object",
                    "description": "jagged mountain peaks with snow caps",
                    "position": "middle band",
                },
                {
                    "type": "object",
                    "description": "small pine trees on a snowfield",
                    "position": "foreground",
                },
            ),
            mood="crisp, fresh, hopeful",
            background="a sky fading from deep blue to peach",
            lighting={
                "conditions": "dawn, alpenglow",
                "direction": "right",
                "shadows": "soft blue shadows on the slopes",
            },
            composition={
                "framing": "wide layered ranges",
                "subject_position": "peaks across the middle",
                "rule_of_thirds": True,
            },
            camera={
                "angle": "eye level",
                "lens": "standard",
                "focal_length_mm": 70,
                "depth_of_field": "deep",
                "shot_type": "wide shot",
            },
        ),
        DemoScene(
            slug="desert-dunes",
            title="Desert dunes",
            tags=("desert", "dunes", "sand", "camels", "landscape"),
            style={**_ILLUSTRATION, "genre": "landscape"},
            draw=_draw_desert_dunes,
            scene="Sweeping sand dunes under a clear blue sky, with two camels on a distant crest",
            subjects=(
                {
                    "type": "object",
                    "description": "curved sand dunes with sharp crests",
                    "position": "lower half",
                },
                {
                    "type": "animal",
                    "description": "two camels in silhouette",
                    "position": "center right, on a far dune",
                    "action": "walking",
                },
            ),
            mood="hot, vast, still",
            background="a bright blue sky with a pale sun",
            lighting={
                "conditions": "bright afternoon sun",
                "direction": "left",
                "shadows": "crisp shadows on the lee side of each dune",
            },
            composition={
                "framing": "wide view",
                "subject_position": "camels right of center",
                "rule_of_thirds": True,
            },
            camera={
                "angle": "eye level",
                "lens": "telephoto",
                "focal_length_mm": 100,
                "depth_of_field": "deep",
                "shot_type": "wide shot",
            },
        ),
        DemoScene(
            slug="bauhaus-circles",
            title="Bauhaus circles",
            tags=("abstract", "bauhaus", "geometric", "circles", "primary colors"),
            style={
                "medium": "vector art",
                "genre": "abstract",
                "artists": ["Bauhaus"],
                "rendering": "flat, hard-edged shapes on paper-cream",
            },
            draw=_draw_bauhaus,
            scene=(
                "An abstract composition of a red circle, a blue rectangle, a yellow half circle "
                "and black bars on cream"
            ),
            subjects=(
                {
                    "type": "object",
                    "description": "a large red circle with a cream ring inside",
                    "position": "center left",
                },
                {
                    "type": "object",
                    "description": "a deep blue rectangle",
                    "position": "upper right",
                },
                {
                    "type": "object",
                    "description": "a yellow half circle",
                    "position": "bottom right",
                },
            ),
            mood="bold, playful, orderly",
            background="flat warm cream",
            lighting={"conditions": "flat, even", "direction": "front", "shadows": "no shadows"},
            composition={
                "framing": "balanced asymmetric layout",
                "subject_position": "center left",
            },
            negative="gradients, texture, photographic detail, text",
        ),
        DemoScene(
            slug="neon-synthwave",
            title="Neon synthwave grid",
            tags=("synthwave", "neon", "retro", "grid", "80s"),
            style={
                "medium": "digital illustration",
                "genre": "retro-futurism",
                "references": ["1980s synthwave album covers"],
                "rendering": "glowing neon lines",
            },
            draw=_draw_synthwave,
            scene=(
                "A striped retro sun sets behind neon-edged mountains over an endless glowing "
                "magenta grid"
            ),
            subjects=(
                {
                    "type": "object",
                    "description": "a huge striped sun, yellow to pink",
                    "position": "center, on the horizon",
                },
                {
                    "type": "object",
                    "description": "a perspective grid of neon lines",
                    "position": "lower third",
                },
            ),
            mood="nostalgic, electric, dreamy",
            background="a dark purple sky with a few stars",
            lighting={
                "conditions": "neon glow at dusk",
                "direction": "back",
                "shadows": "no shadows, everything glows",
            },
            composition={
                "framing": "centered, one-point perspective",
                "subject_position": "center",
            },
            camera={
                "angle": "eye level",
                "lens": "wide-angle",
                "focal_length_mm": 24,
                "depth_of_field": "deep",
                "shot_type": "wide shot",
            },
        ),
        DemoScene(
            slug="underwater",
            title="Underwater light",
            tags=("underwater", "ocean", "bubbles", "fish", "kelp"),
            style={**_ILLUSTRATION, "genre": "marine"},
            draw=_draw_underwater,
            scene=(
                "Sunbeams slant down through blue water past kelp, a school of fish and a rising "
                "column of bubbles"
            ),
            subjects=(
                {
                    "type": "object",
                    "description": "a column of rising bubbles",
                    "position": "center",
                },
                {
                    "type": "animal",
                    "description": "a school of small dark fish",
                    "position": "middle",
                    "action": "swimming",
                },
                {
                    "type": "animal",
                    "description": "an orange fish with a white stripe",
                    "position": "lower left",
                    "action": "swimming",
                },
                {
                    "type": "object",
                    "description": "swaying green kelp",
                    "position": "left and right edges",
                },
            ),
            mood="calm, weightless, cool",
            background="deep blue water above a sandy floor",
            lighting={
                "conditions": "sunlight through water, caustic rays",
                "direction": "top",
                "shadows": "soft, swallowed by the depth",
            },
            composition={"framing": "vertical view from mid-water", "subject_position": "center"},
            camera={
                "angle": "eye level",
                "lens": "wide-angle",
                "focal_length_mm": 20,
                "depth_of_field": "deep",
                "shot_type": "wide shot",
            },
        ),
        DemoScene(
            slug="autumn-park-path",
            title="Autumn park path",
            tags=("autumn", "park", "path", "trees", "leaves"),
            style={**_ILLUSTRATION, "genre": "landscape", "rendering": "soft blobs of foliage"},
            draw=_draw_autumn_park,
            scene=(
                "A path leads into a park between trees in full autumn color, fallen leaves on "
                "the grass"
            ),
            subjects=(
                {
                    "type": "object",
                    "description": "a pale gravel path vanishing into the distance",
                    "position": "center",
                },
                {
                    "type": "object",
                    "description": "trees with orange, red and yellow leaves",
                    "position": "both sides",
                },
            ),
            mood="warm, nostalgic, peaceful",
            background="a hazy bright sky where the path disappears",
            lighting={"conditions": "soft afternoon light", "direction": "back", "shadows": "soft"},
            composition={
                "framing": "one-point perspective",
                "subject_position": "vanishing point at center",
            },
            camera={
                "angle": "eye level",
                "lens": "standard",
                "focal_length_mm": 35,
                "depth_of_field": "deep",
                "shot_type": "wide shot",
            },
        ),
        DemoScene(
            slug="open-daily-poster",
            title="Poster: JSONCRAFT open daily",
            tags=("poster", "typography", "text", "graphic design"),
            style={
                "medium": "graphic design",
                "genre": "poster",
                "references": ["Swiss International Style"],
                "rendering": "flat color, bold sans-serif type",
            },
            draw=_draw_poster,
            scene=(
                "A navy poster with a large orange sun, the word JSONCRAFT in big letters and a "
                "red OPEN DAILY label"
            ),
            subjects=(
                {
                    "type": "text",
                    "description": "the headline JSONCRAFT in large bold letters",
                    "position": "center",
                },
                {
                    "type": "object",
                    "description": "a large orange circle with red rings",
                    "position": "upper right",
                },
            ),
            mood="confident, friendly, inviting",
            background="flat deep navy",
            lighting={"conditions": "flat graphic", "direction": "front", "shadows": "no shadows"},
            composition={
                "framing": "poster layout with centered type",
                "subject_position": "center",
            },
            text_render=(
                {
                    "text": "JSONCRAFT",
                    "position": "center",
                    "style": "bold sans-serif, off-white, very large",
                },
                {
                    "text": "OPEN DAILY",
                    "position": "lower center, in a red rounded label",
                    "style": "bold sans-serif, off-white",
                },
                {
                    "text": "9 AM - 9 PM",
                    "position": "bottom center",
                    "style": "bold sans-serif, pale aqua",
                },
            ),
            negative="misspelled text, extra letters, clutter",
        ),
        DemoScene(
            slug="still-life",
            title="Minimal still life",
            tags=("still life", "vase", "fruit", "interior", "minimal"),
            style={
                "medium": "digital painting",
                "genre": "still life",
                "rendering": "smooth shading, soft cast shadows",
            },
            draw=_draw_still_life,
            scene=(
                "A blue vase with three flowers beside an orange, a red apple and a lemon on a "
                "wooden table"
            ),
            subjects=(
                {
                    "type": "object",
                    "description": "a rounded blue ceramic vase with three blossoms",
                    "position": "left of center",
                },
                {
                    "type": "object",
                    "description": "an orange, a red apple and a lemon",
                    "position": "right of center, on the table",
                },
            ),
            mood="calm, homely, balanced",
            background="a plain warm grey wall",
            lighting={
                "conditions": "soft window light",
                "direction": "left",
                "shadows": "soft cast shadows to the right",
            },
            composition={
                "framing": "medium shot of the table top",
                "subject_position": "center",
                "rule_of_thirds": True,
            },
            camera={
                "angle": "eye level",
                "lens": "standard",
                "focal_length_mm": 50,
                "aperture": 5.6,
                "depth_of_field": "medium",
                "shot_type": "medium shot",
            },
        ),
        DemoScene(
            slug="lighthouse-night",
            title="Lighthouse at night",
            tags=("lighthouse", "night", "sea", "moon", "coast"),
            style={**_ILLUSTRATION, "genre": "seascape"},
            draw=_draw_lighthouse,
            scene=(
                "A striped lighthouse on dark rocks sweeps two beams across a starry sky above "
                "the night sea"
            ),
            subjects=(
                {
                    "type": "object",
                    "description": "a red and white striped lighthouse with a glowing lantern",
                    "position": "right of center",
                    "action": "shining its beams",
                },
                {"type": "object", "description": "a crescent moon", "position": "upper left"},
            ),
            mood="watchful, lonely, calm",
            background="a deep blue starry sky over a dark sea",
            lighting={
                "conditions": "night, lamp light and moonlight",
                "direction": "side",
                "shadows": "deep",
            },
            composition={
                "framing": "vertical, lighthouse against the sky",
                "subject_position": "right third",
                "rule_of_thirds": True,
            },
            camera={
                "angle": "low angle",
                "lens": "standard",
                "focal_length_mm": 50,
                "depth_of_field": "deep",
                "shot_type": "full shot",
            },
        ),
        DemoScene(
            slug="flower-field",
            title="Field of flowers",
            tags=("flowers", "meadow", "spring", "summer", "landscape"),
            style={**_ILLUSTRATION, "genre": "landscape"},
            draw=_draw_flower_field,
            scene=(
                "A meadow full of red, yellow, white and purple flowers rolls toward a lone tree "
                "under a blue sky"
            ),
            subjects=(
                {
                    "type": "object",
                    "description": "thousands of small wildflowers",
                    "position": "lower half",
                },
                {
                    "type": "object",
                    "description": "a lone round tree on the far hill",
                    "position": "right third",
                },
            ),
            mood="joyful, fresh, sunny",
            background="blue sky with fluffy white clouds",
            lighting={"conditions": "bright midday sun", "direction": "top", "shadows": "short"},
            composition={
                "framing": "wide view",
                "subject_position": "tree on the right third",
                "rule_of_thirds": True,
            },
            camera={
                "angle": "eye level",
                "lens": "wide-angle",
                "focal_length_mm": 28,
                "depth_of_field": "deep",
                "shot_type": "wide shot",
            },
        ),
        DemoScene(
            slug="window-silhouette",
            title="Portrait silhouette at a window",
            tags=("portrait", "silhouette", "window", "interior", "evening"),
            style={
                "medium": "digital painting",
                "genre": "portrait",
                "rendering": "silhouette with a warm rim light",
            },
            draw=_draw_window_portrait,
            scene="A person in silhouette stands before a tall window glowing with evening light",
            subjects=(
                {
                    "type": "person",
                    "description": "a person seen as a dark silhouette, head and shoulders",
                    "position": "center, lower half",
                    "pose": "standing, head turned in profile",
                    "expression": "unseen, contemplative",
                    "clothing": "a plain dark top",
                },
                {
                    "type": "object",
                    "description": "a potted plant on the window sill",
                    "position": "lower right",
                },
            ),
            mood="contemplative, intimate, quiet",
            background="a dark room around a mullioned window with blurred city lights outside",
            lighting={
                "conditions": "evening window light",
                "direction": "back",
                "shadows": "the figure fully in shadow, with a warm rim light",
            },
            composition={"framing": "frame within a frame", "subject_position": "center"},
            camera={
                "angle": "eye level",
                "lens": "standard",
                "focal_length_mm": 50,
                "aperture": 2.8,
                "depth_of_field": "shallow",
                "shot_type": "medium shot",
            },
            negative="visible facial details, extra limbs",
        ),
        DemoScene(
            slug="aurora-lake",
            title="Aurora over a lake",
            tags=("aurora", "northern lights", "lake", "night", "reflection"),
            style={**_ILLUSTRATION, "genre": "landscape"},
            draw=_draw_aurora_lake,
            scene=(
                "Green and violet northern lights ripple over a forested shore and reflect in a "
                "still lake"
            ),
            subjects=(
                {
                    "type": "object",
                    "description": "curtains of green, cyan and violet aurora",
                    "position": "upper half",
                },
                {
                    "type": "object",
                    "description": "a line of pine trees on the shore",
                    "position": "middle",
                },
            ),
            mood="magical, silent, awe-struck",
            background="a starry night sky",
            lighting={
                "conditions": "night, aurora glow",
                "direction": "top",
                "shadows": "silhouettes",
            },
            composition={
                "framing": "wide view with a mirror reflection",
                "subject_position": "upper half",
            },
            camera={
                "angle": "eye level",
                "lens": "wide-angle",
                "focal_length_mm": 16,
                "aperture": 2.8,
                "depth_of_field": "deep",
                "shot_type": "wide shot",
            },
        ),
    )


def demo_catalog() -> list[DemoScene]:
    """Every demo scene, in display order."""
    return list(_catalog())


def get_demo(slug: str) -> DemoScene:
    for scene in _catalog():
        if scene.slug == slug:
            return scene
    raise NotFoundError(f"There is no demo image called {slug!r}.")


def render_demo_png(scene: DemoScene) -> bytes:
    """The scene as PNG bytes; identical on every call (no timestamps, fixed seeds)."""
    buffer = io.BytesIO()
    scene.draw().save(buffer, format="PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# Measuring pixels.
# --------------------------------------------------------------------------------------------

# How different (CIELAB delta E) two palette colours must be to both be listed.
_DISTINCT_DELTA_E = 14.0

# A small table of plain colour names; the nearest one (in CIELAB) names a palette entry.
_COLOUR_NAMES = {
    "black": "#000000",
    "charcoal": "#36454f",
    "slate gray": "#708090",
    "gray": "#808080",
    "silver": "#c0c0c0",
    "white": "#ffffff",
    "cream": "#f3ead8",
    "beige": "#d9c7a7",
    "sand": "#c2b280",
    "tan": "#d2b48c",
    "brown": "#8b5a2b",
    "dark brown": "#4a2c1a",
    "maroon": "#800000",
    "crimson": "#b5162b",
    "red": "#d62828",
    "coral": "#ff7f50",
    "salmon": "#fa8072",
    "peach": "#ffcba4",
    "orange": "#f28c28",
    "burnt orange": "#cc5500",
    "amber": "#ffbf00",
    "gold": "#e6b422",
    "yellow": "#f6d32d",
    "pale yellow": "#fff3b0",
    "olive": "#708238",
    "lime": "#9acd32",
    "green": "#2e8b57",
    "forest green": "#1f4d2b",
    "sage": "#9caf88",
    "mint": "#98d8b0",
    "teal": "#008080",
    "turquoise": "#40e0d0",
    "cyan": "#00bcd4",
    "sky blue": "#87ceeb",
    "powder blue": "#b0d8e6",
    "steel blue": "#4682b4",
    "blue": "#1f5fbf",
    "navy": "#1b2a4a",
    "midnight blue": "#121a3a",
    "indigo": "#3f2a73",
    "purple": "#6a2c91",
    "violet": "#8f5bd6",
    "lavender": "#b8a9e0",
    "magenta": "#d6249f",
    "hot pink": "#ff3d8b",
    "pink": "#f7a8c4",
    "plum": "#5e2750",
    "mauve": "#b784a7",
    "dusty rose": "#c9818f",
    "rust": "#b7410e",
}


def _srgb_to_lab(rgb: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """sRGB 0..255 (..., 3) to CIELAB (D65): distances there match how different colours look."""
    c = rgb / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


@cache
def _name_table() -> tuple[tuple[str, ...], npt.NDArray[np.float64]]:
    names = tuple(_COLOUR_NAMES)
    rgb = np.array([_rgb(_COLOUR_NAMES[n]) for n in names], dtype=np.float64)
    return names, _srgb_to_lab(rgb)


def nearest_color_name(rgb: tuple[int, int, int]) -> str:
    """The plain name closest to an sRGB colour."""
    names, labs = _name_table()
    lab = _srgb_to_lab(np.array(rgb, dtype=np.float64))
    return names[int(np.argmin(np.sum((labs - lab) ** 2, axis=1)))]


def extract_palette(image: Image.Image, *, count: int = 6) -> list[dict[str, Any]]:
    """The dominant colours, each with the share of the image it stands for (shares sum to 1).

    Median cut first splits the image into 16 clusters; the biggest ones that differ visibly
    (CIELAB distance) are kept, so a dark photo yields "black, navy, amber" rather than five
    near-identical blacks, and every cluster's pixels count toward its nearest kept colour.
    """
    small = image.convert("RGB")
    small.thumbnail((256, 256))
    quantized = small.quantize(colors=16, method=Image.Quantize.MEDIANCUT)
    flat = quantized.getpalette() or []
    clusters = sorted(quantized.getcolors() or [], key=lambda item: (-item[0], item[1]))
    if not clusters:
        return []
    indices = [int(i) for _, i in clusters]  # type: ignore[call-overload]  # P images: ints
    rgbs = np.array([flat[i * 3 : i * 3 + 3] for i in indices], dtype=np.float64)
    counts = np.array([n for n, _ in clusters], dtype=np.float64)
    labs = _srgb_to_lab(rgbs)
    kept: list[int] = []
    for min_distance in (_DISTINCT_DELTA_E, 0.0):  # second pass fills up if too few differ
        for i in range(len(clusters)):
            if len(kept) >= count:
                break
            far = all(np.linalg.norm(labs[i] - labs[k]) >= min_distance for k in kept)
            if i not in kept and far:
                kept.append(i)
    owner = np.argmin(np.linalg.norm(labs[:, None, :] - labs[None, kept, :], axis=2), axis=1)
    shares = np.bincount(owner, weights=counts, minlength=len(kept)) / counts.sum()
    order = np.argsort(-shares, kind="stable")
    palette: list[dict[str, Any]] = []
    for j in order:
        rgb = tuple(int(v) for v in rgbs[kept[j]])
        palette.append(
            {
                "hex": "#{:02x}{:02x}{:02x}".format(*rgb),
                "name": nearest_color_name((rgb[0], rgb[1], rgb[2])),
                "proportion": round(float(shares[j]), 3),
            }
        )
    # Rounding can leave the shares a hair off 1; the biggest colour absorbs the difference.
    palette[0]["proportion"] = round(1 - sum(p["proportion"] for p in palette[1:]), 3)
    return palette


@dataclass(frozen=True)
class PixelStats:
    """Whole-image statistics the lighting and composition guesses are made from."""

    mean_luminance: float  # 0..255
    luminance_std: float  # 0..255, RMS contrast
    color_temperature_k: float
    vertical_symmetry: float  # -1..1; near 1 when the left half mirrors the right
    horizontal_symmetry: float  # -1..1; near 1 when the top mirrors the bottom


def measure_pixels(image: Image.Image) -> PixelStats:
    small = image.convert("RGB")
    small.thumbnail((256, 256))
    rgb = np.asarray(small, dtype=np.float64)
    luma = rgb @ np.array([0.2126, 0.7152, 0.0722])
    return PixelStats(
        mean_luminance=float(luma.mean()),
        luminance_std=float(luma.std()),
        color_temperature_k=_color_temperature(rgb),
        vertical_symmetry=_mirror_correlation(luma),
        horizontal_symmetry=_mirror_correlation(luma.T),
    )


def _mirror_correlation(luma: npt.NDArray[np.float64]) -> float:
    """Correlation between the image and its left-right mirror, after removing each row's mean.

    Removing row means matters: a plain sky gradient is trivially mirror-symmetric and would
    otherwise make every landscape "symmetric". Correlation (not a pixel difference) keeps
    dark, low-contrast images from scoring high just because all their pixels are similar.
    """
    detail = luma - luma.mean(axis=1, keepdims=True)
    mirrored = detail[:, ::-1]
    norm = float(np.sqrt((detail * detail).sum() * (mirrored * mirrored).sum()))
    return float((detail * mirrored).sum()) / norm if norm > 0 else 1.0


def _color_temperature(rgb: npt.NDArray[np.float64]) -> float:
    """McCamy's approximation from the chromaticity of the average colour, clamped to 1000..12000.

    A scene-average CCT is a rough idea of "warm or cool", not a light-meter reading: strongly
    tinted scenes (deep blue water) fall off the formula's range, hence the clamp.
    """
    c = rgb.reshape(-1, 3).mean(axis=0) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    x_, y_, z_ = (
        np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
        @ lin
    )
    total = x_ + y_ + z_
    if total <= 0:
        return 6500.0
    x, y = x_ / total, y_ / total
    if abs(0.1858 - y) < 1e-6:
        return 12000.0
    n = (x - 0.3320) / (0.1858 - y)
    cct = 449 * n**3 + 3525 * n**2 + 6823.3 * n + 5520.33
    return float(np.clip(round(cct / 100) * 100, 1000, 12000))


def _key(mean_luminance: float) -> str:
    if mean_luminance < 85:
        return "low-key"
    return "high-key" if mean_luminance > 170 else "mid-key"


def _contrast(luminance_std: float) -> str:
    if luminance_std < 30:
        return "low"
    return "high" if luminance_std > 62 else "medium"


def _aspect(width: int, height: int) -> tuple[str, str]:
    d = math.gcd(width, height)
    orientation = "square" if width == height else ("landscape" if width > height else "portrait")
    return f"{width // d}:{height // d}", orientation


def _symmetry(stats: PixelStats) -> str:
    if stats.vertical_symmetry >= 0.8:
        return "vertical"
    return "horizontal" if stats.horizontal_symmetry >= 0.8 else "none"


def describe_demo(scene: DemoScene, image: Image.Image) -> dict[str, Any]:
    """A schema-valid prompt for a drawn demo image: measured where pixels allow, else authored."""
    stats = measure_pixels(image)
    aspect_ratio, orientation = _aspect(*image.size)
    kelvin = stats.color_temperature_k
    warmth = "warm tones" if kelvin < 4500 else ("cool tones" if kelvin > 7500 else "neutral tones")
    key = _key(stats.mean_luminance)
    prompt: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "scene": scene.scene or scene.title,
        "subjects": copy.deepcopy([dict(s) for s in scene.subjects]),
        "style": copy.deepcopy(dict(scene.style)),
        "color_palette": extract_palette(image),
        "lighting": {
            **copy.deepcopy(dict(scene.lighting)),
            "contrast": _contrast(stats.luminance_std),
            "color_temperature_k": kelvin,
            "key": key,
        },
        "composition": {
            **copy.deepcopy(dict(scene.composition)),
            "aspect_ratio": aspect_ratio,
            "orientation": orientation,
            "symmetry": _symmetry(stats),
        },
        "tags": list(dict.fromkeys([*scene.tags, warmth, key])),
        "meta": {
            "source": "demo",
            "demo_slug": scene.slug,
            "heuristic_fields": list(HEURISTIC_FIELDS),
            "measurements": {
                "mean_luminance": round(stats.mean_luminance, 1),
                "luminance_std": round(stats.luminance_std, 1),
                "vertical_symmetry": round(stats.vertical_symmetry, 3),
                "horizontal_symmetry": round(stats.horizontal_symmetry, 3),
                "width": image.size[0],
                "height": image.size[1],
            },
        },
    }
    optional = {"mood": scene.mood, "background": scene.background, "negative": scene.negative}
    prompt.update({name: value for name, value in optional.items() if value})
    if scene.camera:
        prompt["camera"] = copy.deepcopy(dict(scene.camera))
    if scene.text_render:
        prompt["text_render"] = copy.deepcopy([dict(t) for t in scene.text_render])
    return assert_valid_prompt(prompt)

"""Made things seen from outside: a night city, flat graphics, synthwave, a poster.

Each scene is drawn from a fixed seed (same bytes on every run) and carries what a person would
say about it; the pixel-measured fields of its prompt come from `demo.prompts`.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from app.services.demo.drawing import (
    LANDSCAPE,
    PORTRAIT,
    SQUARE,
    Mask,
    below,
    blend,
    glow,
    gradient,
    hex_rgb,
    load_font,
    noise1d,
    seeded_rng,
    stars,
    to_image,
)
from app.services.demo.scene import ILLUSTRATION, DemoScene


def _draw_night_city() -> Image.Image:
    w, h = LANDSCAPE
    rng = seeded_rng("night-city")
    water = int(h * 0.82)
    c = gradient(w, h, [(0.0, "#050816"), (0.45, "#0d1838"), (0.75, "#2b2552"), (1.0, "#3a2b55")])
    stars(c, rng, 140, h * 0.5)
    glow(c, (w * 0.8, h * 0.17), 90, "#cfd8ff", 0.35)
    moon = Mask(w, h)
    moon.circle(w * 0.8, h * 0.17, 34)
    blend(c, moon.alpha(), "#f3efdc")
    glow(c, (w * 0.5, water), 420, "#ff8a4c", 0.28)

    layers = (
        ("#1d2246", 0.30, 0.48, 0.18, "#e0b56a"),
        ("#121632", 0.42, 0.6, 0.3, "#ffd98f"),
        ("#080a18", 0.55, 0.72, 0.38, "#ffe3a3"),
    )
    for colour, top_min, top_max, lit, window_colour in layers:
        body = Mask(w, h)
        windows = Mask(w, h)
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
        blend(c, body.alpha(), colour)
        blend(c, windows.alpha(), window_colour)
    # The river mirrors the skyline, darkened and broken up by ripples.
    depth = h - water
    reflection = c[water - depth : water][::-1].copy()
    offsets = (np.sin(np.arange(depth) * 0.9) * 3 + rng.normal(0, 1.5, depth)).astype(int)
    for row in range(depth):
        reflection[row] = np.roll(reflection[row], offsets[row], axis=0)
    fade = np.linspace(0.6, 0.3, depth, dtype=np.float32)[:, None, None]
    c[water:] = reflection * fade + hex_rgb("#0a0d22") * (1 - fade)
    return to_image(c)


def _draw_bauhaus() -> Image.Image:
    w, h = SQUARE
    c = gradient(w, h, [(0.0, "#f1e8d6"), (1.0, "#e9dec8")])
    blue = Mask(w, h)
    blue.rect(560, 110, 910, 530)
    blend(c, blue.alpha(), "#1f4e96")
    red = Mask(w, h)
    red.circle(400, 470, 250)
    blend(c, red.alpha(), "#d63b2f")
    inner = Mask(w, h)
    inner.ring(400, 470, 150, 26)
    blend(c, inner.alpha(), "#f1e8d6")
    yellow = Mask(w, h)
    yellow.pieslice(735, 930, 235, 180, 360)
    blend(c, yellow.alpha(), "#f2b705")
    black = Mask(w, h)
    black.rect(90, 770, 610, 812)
    black.rect(90, 840, 420, 858)
    black.circle(820, 300, 62)
    black.ring(190, 170, 88, 14)
    black.line([(640, 620), (960, 620)], 10)
    for i in range(5):
        black.circle(680 + i * 58, 680, 9)
    blend(c, black.alpha(), "#1b1b1b")
    quarter = Mask(w, h)
    quarter.pieslice(90, 1000, 170, 270, 360)
    blend(c, quarter.alpha(), "#1f4e96")
    return to_image(c)


def _draw_synthwave() -> Image.Image:
    w, h = LANDSCAPE
    rng = seeded_rng("neon-synthwave")
    horizon = int(h * 0.62)
    c = gradient(
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
    stars(c, rng, 70, h * 0.35)
    cx, cy, r = w / 2, horizon - 120.0, 150.0
    glow(c, (cx, cy), 260, "#ff3d8b", 0.45)
    sun_paint = gradient(
        w,
        h,
        [
            (0.0, "#ffe45c"),
            (cy / h - 0.12, "#ffd319"),
            (cy / h + 0.18, "#ff2975"),
            (1.0, "#ff2975"),
        ],
    )
    sun = Mask(w, h)
    sun.circle(cx, cy, r)
    for i in range(7):
        gap_y = cy + 10 + i * 20.0
        sun.rect(cx - r - 2, gap_y, cx + r + 2, gap_y + 2 + i * 1.4, 0)
    blend(c, sun.alpha(), sun_paint)
    # Mountains mirrored about the centre line: the look of the genre, and a real symmetry.
    half = noise1d(w // 2, rng, [(1.0, 4), (0.35, 12), (0.1, 30)])
    profile = np.concatenate([half[::-1], half])[:w]
    edge = np.abs(np.linspace(-1, 1, w, dtype=np.float32)) ** 1.4
    ridge = horizon - (40 + 90 * (profile * 0.5 + 0.5)) * edge - 4
    blend(c, below(ridge, h), "#1d0838")
    outline = Mask(w, h)
    outline.line(list(zip(range(w), ridge.tolist(), strict=True)), 2)
    blend(c, outline.alpha(), "#ff4fd8", 0.8)
    c[horizon:] = gradient(w, h - horizon, [(0.0, "#2a0845"), (1.0, "#0e0220")])
    grid = Mask(w, h)
    for k in range(1, 16):
        y = horizon + (h - horizon) * (k / 15) ** 2.2
        grid.line([(0, y), (w, y)], 1.2 + 1.6 * k / 15)
    for i in range(-14, 15):
        grid.line([(cx + i * 22, horizon), (cx + i * 150, h)], 2)
    grid.line([(0, horizon), (w, horizon)], 2.5)
    sharp = grid.alpha()
    blend(c, grid.alpha(blur=5) * 1.3, "#ff2bd6", 0.6)
    blend(c, sharp, "#ff6cf0")
    glow(c, (cx, horizon), 300, "#ff5fa2", 0.25)
    return to_image(c)


def _draw_poster() -> Image.Image:
    w, h = PORTRAIT
    c = gradient(w, h, [(0.0, "#1d3557"), (1.0, "#14243d")])
    sun = Mask(w, h)
    sun.circle(w * 0.78, h * 0.22, 230)
    blend(c, sun.alpha(), "#f4a261")
    rings = Mask(w, h)
    for r in (270, 300, 330):
        rings.ring(w * 0.78, h * 0.22, r, 6)
    blend(c, rings.alpha(), "#e76f51")
    band = Mask(w, h)
    band.rect(0, h * 0.62, w, h * 0.63)
    band.rect(0, h * 0.645, w, h * 0.65)
    blend(c, band.alpha(), "#a8dadc")
    image = to_image(c)
    draw = ImageDraw.Draw(image)

    def centred(text: str, y: float, size: int, fill: str, max_width: float) -> None:
        # Shrink until it fits: font metrics differ between DejaVu and Pillow's own font.
        while True:
            font = load_font(size)
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


NIGHT_CITY = DemoScene(
    slug="night-city",
    title="Night city skyline",
    tags=("city", "night", "skyline", "windows", "reflection"),
    style={**ILLUSTRATION, "genre": "cityscape"},
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
)


BAUHAUS_CIRCLES = DemoScene(
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
)


NEON_SYNTHWAVE = DemoScene(
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
        "A striped retro sun sets behind neon-edged mountains over an endless glowing magenta grid"
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
)


OPEN_DAILY_POSTER = DemoScene(
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
)

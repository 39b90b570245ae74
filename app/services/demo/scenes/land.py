"""Scenes on land: forest, mountains, dunes, a park path, a flower field.

Each scene is drawn from a fixed seed (same bytes on every run) and carries what a person would
say about it; the pixel-measured fields of its prompt come from `demo.prompts`.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from app.services.demo.drawing import (
    LANDSCAPE,
    Array,
    Mask,
    below,
    blend,
    coords,
    glow,
    gradient,
    hex_rgb,
    noise1d,
    pine,
    seeded_rng,
    to_image,
)
from app.services.demo.scene import ILLUSTRATION, DemoScene


def _draw_misty_forest() -> Image.Image:
    w, h = LANDSCAPE
    rng = seeded_rng("misty-forest")
    xs, ys = coords(w, h)
    c = gradient(w, h, [(0.0, "#8ea7ad"), (0.5, "#cdd8d4"), (1.0, "#e2e8e2")])
    glow(c, (w * 0.28, h * 0.22), 260, "#f6f1dc", 0.6)
    haze, dark = hex_rgb("#b4c5c1"), hex_rgb("#1a3129")
    for i in range(5):
        t = i / 4
        colour = haze + (dark - haze) * (0.2 + 0.8 * t**1.3)
        base_y = h * (0.5 + 0.115 * i)
        ground = base_y + 10 * noise1d(w, rng, [(1.0, 5), (0.3, 20)])
        trees = Mask(w, h)
        x = rng.uniform(-20, 10)
        while x < w + 20:
            col = int(np.clip(x, 0, w - 1))
            tree_h = rng.uniform(60, 130) * (1 + i * 0.45)
            pine(trees, x, float(ground[col]) + 6, tree_h, tree_h * rng.uniform(0.3, 0.4))
            x += rng.uniform(10, 40) * (1 + i * 0.5)
        alpha = np.maximum(trees.alpha(), below(ground, h))
        blend(c, alpha, colour)
        fog = np.exp(-(((ys - base_y) / 38.0) ** 2)) * (0.6 - 0.09 * i)
        fog *= 0.8 + 0.2 * np.sin(xs / 157.0 + i * 1.7)
        blend(c, fog, "#d3ddd9")
    return to_image(c)


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
    jag = 10 * noise1d(w, rng, [(1.0, 40), (0.5, 110)])
    profiles = apex_y[:, None] + np.abs(xs[None, :] - apex_x[:, None]) * slopes[:, None]
    owner = np.argmin(profiles, axis=0)
    ridge = np.minimum(profiles.min(axis=0) + jag, base)
    ax, ay = apex_x[owner][None, :], apex_y[owner][None, :]
    split = ax - (ys - ay) * 0.25 + 14 * noise1d(h, rng, [(1.0, 12)])[:, None]
    shadow = np.clip((split - xs[None, :]) / 3.0, 0.0, 1.0)
    depth = np.clip((ys - ridge[None, :]) / (base - apex_y.min()), 0.0, 1.0)
    lit_paint, dark_paint = hex_rgb(rock), hex_rgb(shade)
    paint = lit_paint + (dark_paint - lit_paint) * shadow[..., None]
    paint = paint * (1.0 - 0.25 * depth[..., None])
    if snow:
        snow_line = ay + (base - ay) * 0.38 + 16 * noise1d(w, rng, [(1.0, 25), (0.6, 80)])[None, :]
        cover = np.clip(snow_line - ys, 0.0, 1.0)
        snow_lit = hex_rgb(snow)
        snow_paint = snow_lit + (hex_rgb("#9aa3d6") - snow_lit) * (0.7 * shadow[..., None])
        paint = paint + (snow_paint - paint) * cover[..., None]
    blend(canvas, below(ridge, h), np.clip(paint, 0, 255).astype(np.float32))
    return ridge


def _draw_snowy_mountains() -> Image.Image:
    w, h = LANDSCAPE
    rng = seeded_rng("snowy-mountains-dawn")
    c = gradient(
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
    glow(c, (w * 0.78, h * 0.5), 260, "#fff0d2", 0.6)
    ys = np.arange(h, dtype=np.float32)[:, None]
    _mountain_range(
        c, rng, base=h * 0.62, peaks=5, height=300, rock="#b2a3cc", shade="#7c72a8", snow="#fff0f0"
    )
    blend(
        c, np.exp(-(((ys - h * 0.62) / 50.0) ** 2)) * np.ones((1, w), np.float32), "#f6cfd0", 0.45
    )
    _mountain_range(
        c, rng, base=h * 0.76, peaks=7, height=220, rock="#6f6c9c", shade="#434470", snow="#f7e6ee"
    )
    blend(
        c, np.exp(-(((ys - h * 0.76) / 40.0) ** 2)) * np.ones((1, w), np.float32), "#e9c7d3", 0.35
    )
    field_line = h * 0.86 + 6 * noise1d(w, rng, [(1.0, 4)])
    snowfield = gradient(w, h, [(0.0, "#eef0fb"), (0.86, "#f1eef8"), (1.0, "#c3c6e4")])
    blend(c, below(field_line, h), snowfield)
    trees = Mask(w, h)
    for x in rng.uniform(0, w, 26):
        th = rng.uniform(30, 70)
        pine(trees, float(x), float(field_line[int(x) % w]) + 8, th, th * 0.38)
    blend(c, trees.alpha(), "#1e2442")
    return to_image(c)


def _draw_desert_dunes() -> Image.Image:
    w, h = LANDSCAPE
    rng = seeded_rng("desert-dunes")
    xs = np.arange(w, dtype=np.float32)
    ys = np.arange(h, dtype=np.float32)[:, None]
    c = gradient(w, h, [(0.0, "#2f6fb5"), (0.35, "#86b9e0"), (0.52, "#f3dcc0"), (1.0, "#f3dcc0")])
    glow(c, (w * 0.22, h * 0.2), 160, "#fff6e0", 0.65)
    sun = Mask(w, h)
    sun.circle(w * 0.22, h * 0.2, 30)
    blend(c, sun.alpha(), "#fffaf0")
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
        ridge = h * base - amp * (1 - wave) - 6 * noise1d(w, rng, [(1.0, 6)])
        body = below(ridge, h)
        # Crests sit where sin() crosses zero; the slip face just right of each crest is in
        # shadow, and that shadow narrows further down the slope, the way dunes look.
        after_crest = (angle[None, :] % math.pi) / math.pi
        depth = np.clip((ys - ridge[None, :]) / 180.0, 0.0, 1.0)
        reach = 0.42 - 0.3 * depth
        shadow = np.clip((reach - after_crest) / 0.03, 0.0, 1.0)
        tone = (1.06 - 0.2 * depth) * (1 - 0.32 * shadow)
        ripples = 1 + 0.015 * np.sin(ys * 0.5 + 9 * np.sin(xs[None, :] * 0.013)) * (1 - shadow)
        paint = hex_rgb(sand) * (tone * ripples)[..., None]
        paint = paint + (hex_rgb("#7a4a6a") - paint) * (0.22 * shadow)[..., None]
        blend(c, body, np.clip(paint, 0, 255).astype(np.float32))
    camels = Mask(w, h)
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
    blend(c, camels.alpha(), "#5a3524")
    return to_image(c)


def _draw_autumn_park() -> Image.Image:
    w, h = LANDSCAPE
    rng = seeded_rng("autumn-park-path")
    vanish = (w * 0.5, h * 0.46)
    c = gradient(w, h, [(0.0, "#f7e4b8"), (0.46, "#f3d9a0"), (0.47, "#8c8a3c"), (1.0, "#6f6a2a")])
    glow(c, vanish, 230, "#fff3cf", 0.7)
    path = Mask(w, h)
    path.polygon(
        [(vanish[0] - 10, vanish[1]), (vanish[0] + 10, vanish[1]), (w * 0.78, h), (w * 0.2, h)]
    )
    blend(c, path.alpha(), gradient(w, h, [(0.0, "#e3cfae"), (0.46, "#d8c09a"), (1.0, "#a98660")]))
    foliage = ("#d9572b", "#e8a33d", "#b5372a", "#f2c14e", "#c8642a")
    depths = np.sort(rng.uniform(0.0, 1.0, 26))
    # Trees are painted in three depth bands (far to near), one mask per colour per band:
    # enough overlap order to read as depth, and far fewer full-frame masks than per tree.
    for band in np.array_split(depths, 3):
        trunks = Mask(w, h)
        crowns = {colour: Mask(w, h) for colour in foliage}
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
        blend(c, trunks.alpha(), "#3b2a20")
        blur = 1.6 - float(band.mean())
        for colour, mask in crowns.items():
            blend(c, mask.alpha(blur=blur), colour, 0.9)
    leaf_colours = {colour: Mask(w, h) for colour in foliage}
    for _ in range(900):
        y = vanish[1] + (h - vanish[1]) * rng.uniform(0.02, 1.0) ** 0.7
        x = rng.uniform(0, w)
        s = 1 + 7 * (y - vanish[1]) / (h - vanish[1])
        leaf_colours[foliage[int(rng.integers(len(foliage)))]].ellipse(x, y, s * 1.4, s * 0.7)
    for colour, mask in leaf_colours.items():
        blend(c, mask.alpha(), colour, 0.9)
    return to_image(c)


def _draw_flower_field() -> Image.Image:
    w, h = LANDSCAPE
    rng = seeded_rng("flower-field")
    horizon = h * 0.46
    c = gradient(w, h, [(0.0, "#3d8fd6"), (0.46, "#bfe3f5"), (1.0, "#bfe3f5")])
    clouds = Mask(w, h)
    for cx, cy, s in ((210, 120, 1.0), (640, 80, 0.8), (880, 190, 0.6)):
        for _ in range(9):
            clouds.circle(
                cx + rng.normal(0, 60 * s), cy + rng.normal(0, 12 * s), rng.uniform(25, 48) * s
            )
    blend(c, clouds.alpha(blur=2), "#ffffff", 0.92)
    xs_line = np.arange(w, dtype=np.float32)
    far = horizon - 30 * np.sin(xs_line / 260 + 1.2) - 10 * noise1d(w, rng, [(1.0, 6)])
    blend(c, below(far, h), "#86b86e")
    tree = Mask(w, h)
    tx, ty = 780, float(far[780]) + 4
    tree.rect(tx - 4, ty - 40, tx + 4, ty)
    for _ in range(9):
        tree.circle(tx + rng.normal(0, 16), ty - 52 + rng.normal(0, 10), rng.uniform(14, 22))
    blend(c, tree.alpha(), "#3c6e33")
    near = horizon + 40 - 25 * np.sin(xs_line / 340) - 8 * noise1d(w, rng, [(1.0, 5)])
    blend(c, below(near, h), gradient(w, h, [(0.0, "#5da24a"), (0.5, "#5da24a"), (1.0, "#2f6b2a")]))
    palette = ("#e63946", "#f4d35e", "#f7f7ff", "#9b5de5", "#ff8fab")
    petals = {colour: Mask(w, h) for colour in palette}
    centres = Mask(w, h)
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
        blend(c, mask.alpha(), colour)
    blend(c, centres.alpha(), "#f2a900")
    return to_image(c)


MISTY_FOREST = DemoScene(
    slug="misty-forest",
    title="Misty pine forest",
    tags=("forest", "pine", "mist", "fog", "nature"),
    style={
        **ILLUSTRATION,
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
)


SNOWY_MOUNTAINS_DAWN = DemoScene(
    slug="snowy-mountains-dawn",
    title="Snowy mountains at dawn",
    tags=("mountains", "snow", "dawn", "landscape", "winter"),
    style={**ILLUSTRATION, "genre": "landscape"},
    draw=_draw_snowy_mountains,
    scene=("Snow-capped mountain ranges catch the first pink light of dawn above a snowfield"),
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
)


DESERT_DUNES = DemoScene(
    slug="desert-dunes",
    title="Desert dunes",
    tags=("desert", "dunes", "sand", "camels", "landscape"),
    style={**ILLUSTRATION, "genre": "landscape"},
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
)


AUTUMN_PARK_PATH = DemoScene(
    slug="autumn-park-path",
    title="Autumn park path",
    tags=("autumn", "park", "path", "trees", "leaves"),
    style={**ILLUSTRATION, "genre": "landscape", "rendering": "soft blobs of foliage"},
    draw=_draw_autumn_park,
    scene=(
        "A path leads into a park between trees in full autumn color, fallen leaves on the grass"
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
)


FLOWER_FIELD = DemoScene(
    slug="flower-field",
    title="Field of flowers",
    tags=("flowers", "meadow", "spring", "summer", "landscape"),
    style={**ILLUSTRATION, "genre": "landscape"},
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
)

"""Indoor scenes: a still life and a portrait against a window.

Each scene is drawn from a fixed seed (same bytes on every run) and carries what a person would
say about it; the pixel-measured fields of its prompt come from `demo.prompts`.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageFilter

from app.services.demo.drawing import (
    LANDSCAPE,
    PORTRAIT,
    Mask,
    blend,
    coords,
    glow,
    gradient,
    hex_rgb,
    seeded_rng,
    sphere,
    to_image,
)
from app.services.demo.scene import DemoScene


def _draw_still_life() -> Image.Image:
    w, h = LANDSCAPE
    rng = seeded_rng("still-life")
    table_y = h * 0.66
    c = gradient(
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
    glow(c, (w * 0.15, h * 0.2), 420, "#f7efe3", 0.55)
    edge = Mask(w, h)
    edge.rect(0, table_y, w, table_y + 3)
    blend(c, edge.alpha(), "#b98a5f")
    grain = (
        np.sin(np.arange(w, dtype=np.float32)[None, :] * 0.02 + np.arange(h)[:, None] * 0.3) * 4
    ).astype(np.float32)
    c[int(table_y) + 3 :] += grain[int(table_y) + 3 :, :, None]

    shadows = Mask(w, h)
    vase_x, vase_base = w * 0.42, table_y + 40
    shadows.ellipse(vase_x + 70, vase_base + 4, 120, 16)
    fruits = ((w * 0.62, "#f28c28", 58), (w * 0.73, "#c0392b", 52), (w * 0.55, "#e9c46a", 44))
    for fx, _, r in fruits:
        shadows.ellipse(fx + r * 0.8, vase_base + 8 + r * 0.1, r * 1.3, r * 0.25)
    blend(c, shadows.alpha(blur=8), "#3a2417", 0.45)

    xs, _ = coords(w, h)
    profile = []
    for k in range(61):
        t = k / 60
        radius = (
            34 + 70 * math.sin(math.pi * min(1.0, t * 1.25)) ** 1.2
            if t < 0.8
            else 30 + 12 * (t - 0.8) / 0.2
        )
        profile.append((vase_base - t * 300, radius))
    vase = Mask(w, h)
    vase.polygon(
        [(vase_x - r, y) for y, r in profile] + [(vase_x + r, y) for y, r in reversed(profile)]
    )
    shade = np.clip(1.15 - np.abs((xs - (vase_x - 40)) / 110.0) ** 1.4 * 0.7, 0.35, 1.2)
    blend(
        c, vase.alpha(), np.clip(hex_rgb("#2f5d8a") * shade[..., None], 0, 255).astype(np.float32)
    )
    stems = Mask(w, h)
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
    blend(c, stems.alpha(), "#4a6b3a")
    for dx, lean, colour in ((-10, -60, "#f2e8cf"), (4, 20, "#e07a5f"), (14, 70, "#f2e8cf")):
        sphere(c, vase_x + dx + lean, top - 160, 26, colour)
    for fx, colour, r in sorted(fruits, key=lambda f: f[2]):
        sphere(c, fx, vase_base - r + 6 + rng.uniform(-2, 2), r, colour)
    return to_image(c)


def _draw_window_portrait() -> Image.Image:
    w, h = PORTRAIT
    c = gradient(w, h, [(0.0, "#1c1e28"), (0.78, "#23232c"), (0.781, "#15151b"), (1.0, "#0f0f14")])
    win = (150.0, 130.0, 618.0, 760.0)
    glow(c, ((win[0] + win[2]) / 2, (win[1] + win[3]) / 2), 420, "#ffb37a", 0.35)
    outside = gradient(
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
    rng = seeded_rng("window-silhouette")
    window = Mask(w, h)
    window.rect(*win)
    view = outside.copy()
    bokeh = Mask(w, h)
    for _ in range(26):
        bokeh.circle(
            rng.uniform(win[0], win[2]),
            rng.uniform(win[1] + 200, win[3]),
            rng.uniform(8, 22),
            int(rng.uniform(60, 160)),
        )
    blend(view, bokeh.alpha(blur=3), "#fff2d4")
    blend(c, window.alpha(), view)
    frame = Mask(w, h)
    frame.rect(win[0] - 14, win[1] - 14, win[2] + 14, win[1])
    frame.rect(win[0] - 14, win[3], win[2] + 14, win[3] + 22)
    frame.rect(win[0] - 14, win[1], win[0], win[3])
    frame.rect(win[2], win[1], win[2] + 14, win[3])
    mid_x, mid_y = (win[0] + win[2]) / 2, win[1] + (win[3] - win[1]) * 0.42
    frame.rect(mid_x - 6, win[1], mid_x + 6, win[3])
    frame.rect(win[0], mid_y - 6, win[2], mid_y + 6)
    blend(c, frame.alpha(), "#0e0f15")
    floor = Mask(w, h)
    floor.polygon(
        [(win[0] + 40, h * 0.79), (win[2] + 40, h * 0.79), (win[2] + 220, h), (win[0] + 120, h)]
    )
    blend(c, floor.alpha(blur=10), "#ffb37a", 0.18)
    person = Mask(w, h)
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
    blend(c, alpha, "#0b0b10")
    blurred = (
        np.asarray(
            Image.fromarray((alpha * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(4)),
            dtype=np.float32,
        )
        / 255.0
    )
    rim = np.clip(alpha - blurred, 0.0, 1.0) * 2.2
    blend(c, rim, "#ffc48a", 0.75)
    plant = Mask(w, h)
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
    blend(c, plant.alpha(), "#101218")
    return to_image(c)


STILL_LIFE = DemoScene(
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
        "A blue vase with three flowers beside an orange, a red apple and a lemon on a wooden table"
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
)


WINDOW_SILHOUETTE = DemoScene(
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
)

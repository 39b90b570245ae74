"""Scenes of water and sky: a sunset sea, a reef, a lighthouse at night, an aurora.

Each scene is drawn from a fixed seed (same bytes on every run) and carries what a person would
say about it; the pixel-measured fields of its prompt come from `demo.prompts`.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from app.services.demo.drawing import (
    LANDSCAPE,
    PORTRAIT,
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
    stars,
    to_image,
)
from app.services.demo.scene import ILLUSTRATION, DemoScene


def _draw_sunset_sea() -> Image.Image:
    w, h = LANDSCAPE
    rng = seeded_rng("sunset-sea")
    horizon = int(h * 0.6)
    c = gradient(
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
    clouds = Mask(w, h)
    for _ in range(9):
        cy = rng.uniform(h * 0.12, h * 0.45)
        cloud_x = rng.uniform(0, w)
        clouds.ellipse(cloud_x, cy, rng.uniform(90, 220), rng.uniform(5, 11), 200)
    blend(c, clouds.alpha(blur=3), "#f59a73", 0.55)
    sun = (w * 0.62, horizon - 58.0)
    glow(c, sun, 300, "#ffae57", 0.55)
    glow(c, sun, 110, "#ffe3a0", 0.7)
    disc = Mask(w, h)
    disc.circle(*sun, 56)
    blend(c, disc.alpha(), "#fff4cf")

    sea = gradient(w, h - horizon, [(0.0, "#e0784a"), (0.18, "#a0435a"), (1.0, "#1a1231")])
    c[horizon:] = sea
    streaks = Mask(w, h)
    for _ in range(240):
        t = rng.uniform(0, 1) ** 1.6
        y = horizon + 2 + t * (h - horizon - 4)
        spread = 30 + 220 * t
        x = sun[0] + rng.normal(0, spread * 0.45)
        half = rng.uniform(6, 26) * (0.4 + 1.6 * t)
        streaks.rect(x - half, y, x + half, y + 1 + 3 * t, int(rng.uniform(120, 255)))
    blend(c, streaks.alpha(blur=0.6), "#ffd592", 0.85)
    ripples = Mask(w, h)
    for _ in range(160):
        t = rng.uniform(0, 1) ** 1.3
        y = horizon + 3 + t * (h - horizon - 4)
        x = rng.uniform(0, w)
        ripples.rect(x - 40 - 90 * t, y, x + 40 + 90 * t, y + 1 + 2 * t, 140)
    blend(c, ripples.alpha(blur=0.5), "#150d27", 0.35)

    boat = Mask(w, h)
    bx, by = w * 0.27, horizon + 8.0
    boat.polygon([(bx - 34, by - 8), (bx + 34, by - 8), (bx + 24, by + 2), (bx - 26, by + 2)])
    boat.polygon([(bx - 2, by - 96), (bx - 2, by - 12), (bx - 42, by - 12)])
    boat.polygon([(bx + 3, by - 84), (bx + 3, by - 12), (bx + 30, by - 12)])
    blend(c, boat.alpha(), "#1c1026")
    birds = Mask(w, h)
    for bxx, byy, s in ((700, 180, 1.0), (735, 200, 0.8), (668, 208, 0.7)):
        birds.line([(bxx - 12 * s, byy - 4 * s), (bxx, byy), (bxx + 12 * s, byy - 5 * s)], 2.2)
    blend(c, birds.alpha(), "#2a1634")
    return to_image(c)


def _draw_underwater() -> Image.Image:
    w, h = PORTRAIT
    rng = seeded_rng("underwater")
    xs, ys = coords(w, h)
    c = gradient(w, h, [(0.0, "#5fd6dc"), (0.3, "#1a82b0"), (0.68, "#0b3d6f"), (1.0, "#061836")])
    rays = Mask(w, h)
    for _ in range(7):
        x0 = rng.uniform(0, w)
        spread = rng.uniform(30, 80)
        lean = rng.uniform(-160, 160)
        rays.polygon(
            [(x0 - 14, 0), (x0 + 14, 0), (x0 + lean + spread, h), (x0 + lean - spread, h)],
            int(rng.uniform(80, 200)),
        )
    fade = np.clip(1.0 - ys / (h * 0.85), 0.0, 1.0) ** 1.5
    blend(c, rays.alpha(blur=9) * fade, "#c9fbff", 0.35)
    surface = np.clip(1 - ys / 40.0, 0, 1) * (0.6 + 0.4 * np.sin(xs / 23.0 + np.sin(xs / 61.0) * 3))
    blend(c, surface, "#d8fbff", 0.6)
    floor = h * 0.88 + 14 * noise1d(w, rng, [(1.0, 5), (0.3, 18)])
    blend(
        c,
        below(floor, h),
        gradient(w, h, [(0.0, "#6f8f86"), (0.88, "#5f7f7a"), (1.0, "#2b4148")]),
    )
    kelp = Mask(w, h)
    for base_x in (70.0, 130.0, 610.0, 680.0, 720.0):
        height = rng.uniform(0.35, 0.6) * h
        phase = rng.uniform(0, math.tau)
        for k in range(90):
            t = k / 89
            y = h - t * height
            x = base_x + 26 * math.sin(t * 5 + phase) * t
            kelp.circle(x, y, 9 * (1 - t) + 2)
    blend(c, kelp.alpha(), "#1f6b4f")
    fish = Mask(w, h)
    for _ in range(14):
        fx, fy, s = rng.uniform(180, 620), rng.uniform(h * 0.35, h * 0.55), rng.uniform(0.5, 0.9)
        fish.ellipse(fx, fy, 20 * s, 8 * s)
        fish.polygon([(fx + 16 * s, fy), (fx + 30 * s, fy - 9 * s), (fx + 30 * s, fy + 9 * s)])
    blend(c, fish.alpha(), "#0a2b4d", 0.85)
    orange = Mask(w, h)
    ox, oy = w * 0.36, h * 0.7
    orange.ellipse(ox, oy, 30, 15)
    orange.polygon([(ox + 24, oy), (ox + 46, oy - 15), (ox + 46, oy + 15)])
    blend(c, orange.alpha(), "#ff8c42")
    stripes = Mask(w, h)
    stripes.rect(ox - 6, oy - 16, ox + 2, oy + 16)
    blend(c, stripes.alpha() * orange.alpha(), "#fff3e6")
    bubbles = Mask(w, h)
    highlights = Mask(w, h)
    for _ in range(46):
        bx = w * 0.46 + rng.normal(0, 40) + rng.uniform(-1, 1) * 20
        by = rng.uniform(h * 0.05, h * 0.8)
        r = rng.uniform(3, 16) * (1.2 - by / h)
        bubbles.ring(bx, by, r, max(1.2, r * 0.18))
        highlights.circle(bx - r * 0.35, by - r * 0.35, max(1.0, r * 0.22))
    blend(c, bubbles.alpha(), "#dffcff", 0.85)
    blend(c, highlights.alpha(), "#ffffff")
    return to_image(c)


def _draw_lighthouse() -> Image.Image:
    w, h = PORTRAIT
    rng = seeded_rng("lighthouse-night")
    horizon = int(h * 0.66)
    c = gradient(w, h, [(0.0, "#050a1c"), (0.5, "#13244a"), (0.66, "#213862"), (1.0, "#213862")])
    stars(c, rng, 160, h * 0.55)
    moon = Mask(w, h)
    moon.circle(w * 0.2, h * 0.12, 36)
    moon.circle(w * 0.2 + 16, h * 0.12 - 8, 32, 0)
    glow(c, (w * 0.2, h * 0.12), 80, "#bcc8ff", 0.25)
    blend(c, moon.alpha(), "#f3ecd2")
    c[horizon:] = gradient(w, h - horizon, [(0.0, "#10254a"), (1.0, "#040a18")])
    lamp = (w * 0.64, h * 0.31)
    beams = Mask(w, h)
    beams.polygon([lamp, (-40, lamp[1] - 150), (-40, lamp[1] + 40)])
    beams.polygon([lamp, (w + 40, lamp[1] - 60), (w + 40, lamp[1] + 70)], 150)
    xs, _ = coords(w, h)
    falloff = np.exp(-np.abs(xs - lamp[0]) / 420.0)
    blend(c, beams.alpha(blur=6) * falloff, "#fff4c4", 0.55)
    glow(c, lamp, 90, "#ffe9a6", 0.6)
    waves = Mask(w, h)
    for _ in range(220):
        t = rng.uniform(0, 1) ** 1.4
        y = horizon + 2 + t * (h - horizon)
        x = rng.uniform(0, w)
        waves.rect(x - 20 - 50 * t, y, x + 20 + 50 * t, y + 1 + 1.5 * t, int(rng.uniform(60, 200)))
    blend(c, waves.alpha(blur=0.4), "#5a78a8", 0.5)
    streak = Mask(w, h)
    for _ in range(90):
        y = horizon + rng.uniform(2, h - horizon)
        x = lamp[0] + rng.normal(0, 12 + (y - horizon) * 0.12)
        streak.rect(x - 14, y, x + 14, y + 2, int(rng.uniform(80, 230)))
    blend(c, streak.alpha(blur=0.6), "#ffe6a0", 0.6)
    rock = Mask(w, h)
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
    blend(c, rock.alpha(), "#0b0e1c")
    tower = Mask(w, h)
    base_y, top_y = h * 0.665, lamp[1] + 34
    tower.polygon(
        [
            (lamp[0] - 46, base_y),
            (lamp[0] + 46, base_y),
            (lamp[0] + 28, top_y),
            (lamp[0] - 28, top_y),
        ]
    )
    bands = gradient(w, h, [(0.0, "#b9b4ab")] * 2)
    for k in range(4):
        y0 = top_y + (base_y - top_y) * (k + 0.5) / 4.5
        band_mask = (np.arange(h) >= y0) & (np.arange(h) < y0 + (base_y - top_y) / 9)
        bands[band_mask] = hex_rgb("#9d3a36")
    side_light = np.clip(0.55 + (xs - lamp[0]) / 140.0, 0.3, 0.9)
    blend(c, tower.alpha(), (bands * side_light[..., None]).astype(np.float32))
    cap = Mask(w, h)
    cap.rect(lamp[0] - 36, top_y - 4, lamp[0] + 36, top_y + 4)
    cap.polygon(
        [(lamp[0] - 26, lamp[1] - 26), (lamp[0] + 26, lamp[1] - 26), (lamp[0], lamp[1] - 58)]
    )
    blend(c, cap.alpha(), "#1a1c26")
    lantern = Mask(w, h)
    lantern.rect(lamp[0] - 20, lamp[1] - 26, lamp[0] + 20, top_y - 4)
    blend(c, lantern.alpha(), "#fff6cf")
    return to_image(c)


def _draw_aurora_lake() -> Image.Image:
    w, h = LANDSCAPE
    rng = seeded_rng("aurora-lake")
    shore = int(h * 0.62)
    xs, ys = coords(w, shore)
    sky = gradient(w, shore, [(0.0, "#040b1a"), (0.7, "#0b2236"), (1.0, "#14324a")])
    stars(sky, rng, 180, shore * 0.9)
    for i, (colour, strength) in enumerate((("#3dffa8", 0.75), ("#36d6ff", 0.4), ("#b66dff", 0.3))):
        centre = shore * (0.34 + 0.08 * i) + 60 * noise1d(w, rng, [(1.0, 3), (0.4, 9)])
        curtain = np.clip((centre[None, :] - ys) / (140 + 40 * i), 0.0, 1.0)
        curtain = np.where(
            ys > centre[None, :], np.exp(-(((ys - centre[None, :]) / 10.0) ** 2)), 1 - curtain
        )
        streaks = 0.55 + 0.45 * np.sin(xs * 0.09 + 6 * noise1d(w, rng, [(1.0, 12)])[None, :]) ** 2
        blend(sky, curtain * streaks, colour, strength)
    ridge = shore * 0.93 - 46 * (noise1d(w, rng, [(1.0, 3), (0.5, 9), (0.15, 40)]) * 0.5 + 0.5)
    blend(sky, below(ridge, shore), "#050a12")
    trees = Mask(w, shore)
    for x in np.arange(0, w, 9.0):
        th = rng.uniform(16, 42)
        pine(trees, float(x) + rng.uniform(-3, 3), shore + 2.0, th, th * 0.35)
    blend(sky, trees.alpha(), "#03060c")
    c = np.empty((h, w, 3), dtype=np.float32)
    c[:shore] = sky
    depth = h - shore
    reflection = sky[::-1][:depth].copy()
    for row in range(depth):
        reflection[row] = np.roll(reflection[row], int(3 * math.sin(row * 0.7)), axis=0)
    fade = np.linspace(0.75, 0.35, depth, dtype=np.float32)[:, None, None]
    c[shore:] = reflection * fade + hex_rgb("#030812") * (1 - fade)
    return to_image(c)


SUNSET_SEA = DemoScene(
    slug="sunset-sea",
    title="Sunset over the sea",
    tags=("sunset", "sea", "landscape", "boat", "golden hour"),
    style={**ILLUSTRATION, "genre": "seascape"},
    draw=_draw_sunset_sea,
    scene=("The sun sets over a calm sea, its light laid across the water in glittering streaks"),
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
)


UNDERWATER = DemoScene(
    slug="underwater",
    title="Underwater light",
    tags=("underwater", "ocean", "bubbles", "fish", "kelp"),
    style={**ILLUSTRATION, "genre": "marine"},
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
)


LIGHTHOUSE_NIGHT = DemoScene(
    slug="lighthouse-night",
    title="Lighthouse at night",
    tags=("lighthouse", "night", "sea", "moon", "coast"),
    style={**ILLUSTRATION, "genre": "seascape"},
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
)


AURORA_LAKE = DemoScene(
    slug="aurora-lake",
    title="Aurora over a lake",
    tags=("aurora", "northern lights", "lake", "night", "reflection"),
    style={**ILLUSTRATION, "genre": "landscape"},
    draw=_draw_aurora_lake,
    scene=(
        "Green and violet northern lights ripple over a forested shore and reflect in a still lake"
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
)

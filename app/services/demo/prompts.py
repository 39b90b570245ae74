"""Schema-valid prompts for the demo images, measured from their own pixels.

`describe_demo` does not just echo authored text: the palette, lighting key, contrast, colour
temperature, symmetry, aspect ratio and orientation are measured from the drawn pixels with the
offline analyzer's own measurements (`analyzer.vision`), so demo prompts and analysed uploads
agree. Only what pixels cannot tell cheaply (what the subjects are, the mood, the style) is
authored per scene.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from PIL import Image

from app.services.analyzer.vision.palette import extract_palette
from app.services.analyzer.vision.pixel_stats import (
    contrast_level,
    light_key,
    measure_pixels,
    symmetry_name,
)
from app.services.demo.scene import DemoScene
from app.services.library.prompts.schema import SCHEMA_VERSION, assert_valid_prompt

# Fields `describe_demo` fills by rule from pixel statistics: worth a second look by a person.
HEURISTIC_FIELDS = (
    "color_palette",
    "lighting.key",
    "lighting.contrast",
    "lighting.color_temperature_k",
    "composition.symmetry",
)


def _aspect(width: int, height: int) -> tuple[str, str]:
    d = math.gcd(width, height)
    orientation = "square" if width == height else ("landscape" if width > height else "portrait")
    return f"{width // d}:{height // d}", orientation


def describe_demo(scene: DemoScene, image: Image.Image) -> dict[str, Any]:
    """A schema-valid prompt for a drawn demo image: measured where pixels allow, else authored."""
    stats = measure_pixels(image)
    aspect_ratio, orientation = _aspect(*image.size)
    kelvin = stats.color_temperature_k
    warmth = "warm tones" if kelvin < 4500 else ("cool tones" if kelvin > 7500 else "neutral tones")
    key = light_key(stats.mean_luminance)
    prompt: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "scene": scene.scene or scene.title,
        "subjects": copy.deepcopy([dict(s) for s in scene.subjects]),
        "style": copy.deepcopy(dict(scene.style)),
        "color_palette": extract_palette(image),
        "lighting": {
            **copy.deepcopy(dict(scene.lighting)),
            "contrast": contrast_level(stats.luminance_std),
            "color_temperature_k": kelvin,
            "key": key,
        },
        "composition": {
            **copy.deepcopy(dict(scene.composition)),
            "aspect_ratio": aspect_ratio,
            "orientation": orientation,
            "symmetry": symmetry_name(stats),
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

"""A one-line caption from fast measurements, used to look up similar saved prompts.

Style memory has to pick its examples before the model runs, so it cannot use the model's
answer; palette names, brightness and orientation are cheap (~50 ms) and say a lot about style.
"""

from __future__ import annotations

from app.services.analyzer.vision.loading import load_image
from app.services.analyzer.vision.palette import extract_palette
from app.services.analyzer.vision.pixel_stats import HIGH_KEY, LOW_KEY, measure_pixels


def quick_caption(data: bytes, *, filename: str = "") -> str:
    image = load_image(data)
    names = [str(c.get("name", "")) for c in extract_palette(image, count=5) if c.get("name")]
    stats = measure_pixels(image)
    light = (
        "dark"
        if stats.mean_luminance < LOW_KEY
        else "bright"
        if stats.mean_luminance > HIGH_KEY
        else "balanced"
    )
    tone = (
        "warm"
        if stats.color_temperature_k < 4500
        else "cool"
        if stats.color_temperature_k > 6500
        else "neutral"
    )
    width, height = image.size
    shape = (
        "portrait" if height > width * 1.1 else "landscape" if width > height * 1.1 else "square"
    )
    stem = filename.rsplit(".", 1)[0].replace("_", " ").replace("-", " ") if filename else ""
    colours = ", ".join(dict.fromkeys(names))
    return f"{stem} {light} {tone} {shape} image in {colours}".strip()

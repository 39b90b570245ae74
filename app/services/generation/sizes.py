"""Aspect ratios to pixel sizes: presets or a custom W:H, in multiples of 16, within each model's
megapixel budget.

FLUX endpoints (Together, Fal) want sides that are multiples of 16, and price or cap by
megapixels, so the size is the largest one that keeps the ratio (within 2%) and stays inside the
model's budget. Ratios beyond 4:1 either way are refused: no listed model draws them well, and
at one megapixel the short side would fall under 512 px.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from app.services.core.errors import InvalidInputError
from app.services.generation.render import OFFLINE_MODEL_ID, clean_model_id

ASPECT_PRESETS = ("1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "21:9")
SIDE_STEP = 16
MAX_RATIO = 4.0
MAX_ASPECT_TEXT = 20
_ASPECT_PATTERN = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*[:x×]\s*([0-9]+(?:\.[0-9]+)?)\s*$")
# A side may drift from the exact ratio by this much to land on a multiple of 16.
_RATIO_TOLERANCE = 0.02


@dataclass(frozen=True)
class SizeBudget:
    """What a model accepts: at most `megapixels` (of MEGAPIXEL each), sides up to `max_side`."""

    megapixels: float
    max_side: int


# One "megapixel" is 1024 x 1024, the unit FLUX endpoints price and cap by.
MEGAPIXEL = 1024 * 1024
DEFAULT_BUDGET = SizeBudget(1.0, 2048)
_BUDGETS: dict[str, SizeBudget] = {
    "fal-ai/flux-pro/v1.1-ultra": SizeBudget(4.0, 2752),
    "black-forest-labs/flux.1.1-pro": SizeBudget(1.0, 1440),
    "fal-ai/flux-pro/v1.1": SizeBudget(1.0, 1440),
    # The offline preview is drawn here: half a megapixel keeps it instant and still legible.
    OFFLINE_MODEL_ID: SizeBudget(0.5, 1536),
}


@dataclass(frozen=True)
class ImageSize:
    width: int
    height: int

    @property
    def aspect(self) -> str:
        """The preset this size was made for (1360x768 is "16:9"), else the exact ratio."""
        ratio = self.width / self.height
        for preset in ASPECT_PRESETS:
            w, h = (int(side) for side in preset.split(":"))
            if abs(ratio - w / h) / (w / h) <= _RATIO_TOLERANCE:
                return preset
        divisor = math.gcd(self.width, self.height)
        return f"{self.width // divisor}:{self.height // divisor}"


def budget_for(model_id: str) -> SizeBudget:
    return _BUDGETS.get(clean_model_id(model_id).lower(), DEFAULT_BUDGET)


def parse_aspect(aspect: object) -> tuple[float, float]:
    """ "16:9" (or "16x9", "2.39:1", "1920:1080") -> (16.0, 9.0); InvalidInputError otherwise."""
    if not isinstance(aspect, str) or not aspect.strip():
        raise InvalidInputError(
            f"Choose an aspect ratio: one of {', '.join(ASPECT_PRESETS)}, or W:H like 5:4."
        )
    if len(aspect) > MAX_ASPECT_TEXT:
        raise InvalidInputError("That aspect ratio is too long: write it as W:H, like 5:4.")
    match = _ASPECT_PATTERN.match(aspect)
    if not match:
        raise InvalidInputError(
            f'"{aspect.strip()}" is not an aspect ratio: write two positive numbers with a colon, '
            "like 16:9."
        )
    width, height = float(match.group(1)), float(match.group(2))
    if width <= 0 or height <= 0:
        raise InvalidInputError("Both sides of an aspect ratio must be more than zero, like 16:9.")
    ratio = width / height
    if ratio > MAX_RATIO or ratio < 1 / MAX_RATIO:
        raise InvalidInputError(
            f"{aspect.strip()} is too stretched: aspect ratios from 1:4 to 4:1 work."
        )
    return width, height


def size_for(aspect: object, *, model_id: str) -> ImageSize:
    """Width and height for `aspect` on `model_id`: multiples of 16, inside its budget."""
    width, height = parse_aspect(aspect)
    return fit(width / height, budget_for(model_id))


def fit(ratio: float, budget: SizeBudget) -> ImageSize:
    """The largest multiple-of-16 size with this ratio (within 2%) inside the budget."""
    if ratio < 1:
        # Portrait is landscape turned, so 3:4 and 4:3 get the very same pixels.
        turned = fit(1 / ratio, budget)
        return ImageSize(turned.height, turned.width)
    max_pixels = budget.megapixels * MEGAPIXEL
    ideal_height = math.sqrt(max_pixels / ratio)
    ideal_height = min(ideal_height, budget.max_side, budget.max_side / ratio)
    best: tuple[float, int, int] | None = None
    top = int(ideal_height // SIDE_STEP) + 1
    # Walk down from just above the ideal height; a few steps always find a close fit.
    for steps in range(top, max(top - 16, 0), -1):
        height = steps * SIDE_STEP
        for width in _neighbours(height * ratio):
            if width * height > max_pixels or max(width, height) > budget.max_side:
                continue
            error = abs(width / height - ratio) / ratio
            if error > _RATIO_TOLERANCE:
                continue
            candidate = (width * height, width, height)
            if best is None or candidate > best:
                best = candidate
    if best is None:  # pragma: no cover - parse_aspect's ratio limits make this unreachable
        raise InvalidInputError("No image size fits that aspect ratio for this model.")
    return ImageSize(best[1], best[2])


def _neighbours(side: float) -> tuple[int, ...]:
    low = max(SIDE_STEP, int(side // SIDE_STEP) * SIDE_STEP)
    return (low, low + SIDE_STEP)


def orientation(width: float, height: float) -> str:
    """The schema's `composition.orientation` for a width and height (or a ratio's two sides)."""
    if width == height:
        return "square"
    return "landscape" if width > height else "portrait"


def aspect_label(aspect: object) -> str:
    """The ratio as the prompt schema writes it: "1920:1080" -> "16:9", "2.39:1" stays."""
    width, height = parse_aspect(aspect)
    if width.is_integer() and height.is_integer():
        divisor = math.gcd(int(width), int(height))
        w, h = int(width) // divisor, int(height) // divisor
        if w < 1000 and h < 1000:
            return f"{w}:{h}"
    # The schema takes at most three digits and two decimals a side.
    if width >= height:
        return f"{round(width / height, 2):g}:1"
    return f"1:{round(height / width, 2):g}"

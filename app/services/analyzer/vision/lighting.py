"""Lighting: overall key, contrast, the colour of the light and where it comes from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from app.services.analyzer.vision.colour import mccamy_kelvin
from app.services.analyzer.vision.loading import Frame
from app.services.analyzer.vision.pixel_stats import (
    LOW_CONTRAST,
    PixelStats,
    contrast_level,
    light_key,
    measure_pixels,
)
from app.services.analyzer.vision.result import FieldResult

# The brightest pixels carry the colour of the light best (a white-patch estimate); the
# scene average would mostly measure the colour of the objects.
_HIGHLIGHT_SHARE = 0.1
# How far (as a share of the frame) the centre of the bright area must sit off-centre
# before we call the light directional rather than frontal/ambient.
_DIRECTIONAL_OFFSET = 0.08


@dataclass(frozen=True)
class LightReading:
    stats: PixelStats
    key: str
    contrast: str
    kelvin: float
    offset_x: float  # -0.5..0.5, where the bright area sits relative to the centre
    offset_y: float
    direction: str


def read_lighting(frame: Frame) -> LightReading:
    stats = measure_pixels(frame.image)
    small = cv2.resize(frame.rgb, _small_size(frame), interpolation=cv2.INTER_AREA)
    luma = small.astype(np.float64) @ np.array([0.2126, 0.7152, 0.0722])
    threshold = np.quantile(luma, 1 - _HIGHLIGHT_SHARE)
    bright = luma >= threshold
    kelvin = mccamy_kelvin(small.reshape(-1, 3)[bright.reshape(-1)].mean(axis=0))
    offset_x, offset_y = _bright_offset(luma, bright)
    return LightReading(
        stats=stats,
        key=light_key(stats.mean_luminance),
        contrast=contrast_level(stats.luminance_std),
        kelvin=kelvin,
        offset_x=offset_x,
        offset_y=offset_y,
        direction=_direction(offset_x, offset_y, stats.luminance_std),
    )


def _small_size(frame: Frame) -> tuple[int, int]:
    h, w = frame.grey.shape
    scale = min(1.0, 128 / max(h, w))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _bright_offset(luma: np.ndarray, bright: np.ndarray) -> tuple[float, float]:
    """Centre of the brightest area relative to the frame centre, in frame units."""
    h, w = luma.shape
    ys, xs = np.nonzero(bright)
    weights = luma[ys, xs] + 1e-6
    cx = float(np.average(xs + 0.5, weights=weights)) / w
    cy = float(np.average(ys + 0.5, weights=weights)) / h
    return cx - 0.5, cy - 0.5


def _direction(dx: float, dy: float, spread: float) -> str:
    if spread < LOW_CONTRAST / 2:
        return "ambient"  # evenly lit: no side stands out
    horizontal = (
        "left" if dx < -_DIRECTIONAL_OFFSET else "right" if dx > _DIRECTIONAL_OFFSET else ""
    )
    vertical = "top" if dy < -_DIRECTIONAL_OFFSET else "bottom" if dy > _DIRECTIONAL_OFFSET else ""
    if horizontal and vertical:
        return f"{vertical} {horizontal}"
    return horizontal or vertical or "front"


def _conditions(reading: LightReading) -> str:
    warm, cool = reading.kelvin < 4000, reading.kelvin > 7000
    if reading.key == "low-key":
        return "warm artificial light in the dark" if warm else "dim, low light"
    if reading.key == "high-key":
        return "bright, soft light" if not warm else "bright warm sunlight"
    if warm:
        return "warm golden light"
    return "cool daylight" if cool else "neutral daylight"


def _shadows(reading: LightReading) -> str:
    if reading.contrast == "high":
        return "hard, deep shadows"
    return "soft shadows" if reading.contrast == "medium" else "almost no shadows"


def lighting_field(reading: LightReading) -> tuple[FieldResult, list[str]]:
    value: dict[str, Any] = {
        "conditions": _conditions(reading),
        "direction": reading.direction,
        "shadows": _shadows(reading),
        "contrast": reading.contrast,
        "color_temperature_k": reading.kelvin,
        "key": reading.key,
    }
    note = (
        f"Mean brightness {round(reading.stats.mean_luminance)}/255 ({reading.key}), "
        f"{reading.contrast} contrast, highlights near {round(reading.kelvin)} K; "
        f"the brightest area lies {reading.direction}."
    )
    guessed = ["lighting.conditions", "lighting.direction", "lighting.shadows"]
    return FieldResult("lighting", value, note, heuristic=False), guessed

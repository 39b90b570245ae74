"""Dominant colours and how colourful the image is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.services.analyzer.vision.loading import Frame
from app.services.analyzer.vision.result import FieldResult
from app.services.demo.images import extract_palette

_WARM_HUES = ((0.0, 70.0), (330.0, 360.0))  # reds, oranges, yellows (degrees)
_COOL_HUES = ((170.0, 290.0),)  # cyans, blues, violets


@dataclass(frozen=True)
class PaletteReading:
    colors: list[dict[str, Any]]
    saturation: float  # mean HSV saturation, 0..1
    warm_share: float  # share of clearly coloured pixels with warm hues, 0..1
    cool_share: float
    distinct_colors: int  # distinct colours at 4 bits per channel: few for flat graphics


def read_palette(frame: Frame) -> PaletteReading:
    rgb = frame.rgb[:: _step(frame), :: _step(frame)].reshape(-1, 3).astype(np.float64) / 255
    top, bottom = rgb.max(axis=1), rgb.min(axis=1)
    chroma = top - bottom
    saturation = np.divide(chroma, top, out=np.zeros_like(top), where=top > 0)
    hue = _hue_degrees(rgb, top, chroma)
    # Near-grey pixels have no meaningful hue; only clearly coloured ones vote on warmth.
    coloured = (saturation > 0.2) & (top > 0.15)
    n = max(1, int(coloured.sum()))
    warm = sum(((hue >= a) & (hue < b) & coloured).sum() for a, b in _WARM_HUES) / n
    cool = sum(((hue >= a) & (hue < b) & coloured).sum() for a, b in _COOL_HUES) / n
    return PaletteReading(
        colors=extract_palette(frame.image),
        saturation=float(saturation.mean()) if saturation.size else 0.0,
        warm_share=float(warm),
        cool_share=float(cool),
        distinct_colors=_distinct_colors(rgb),
    )


def _distinct_colors(rgb: np.ndarray) -> int:
    levels = np.clip(rgb * 15 + 0.5, 0, 15).astype(np.int64)
    return int(np.unique(levels[:, 0] * 256 + levels[:, 1] * 16 + levels[:, 2]).size)


def _step(frame: Frame) -> int:
    # Colour statistics need a few thousand pixels, not a million.
    return max(1, max(frame.rgb.shape[:2]) // 256)


def _hue_degrees(rgb: np.ndarray, top: np.ndarray, chroma: np.ndarray) -> np.ndarray:
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    safe = np.where(chroma > 0, chroma, 1.0)
    hue = np.where(
        top == r,
        ((g - b) / safe) % 6,
        np.where(top == g, (b - r) / safe + 2, (r - g) / safe + 4),
    )
    return np.where(chroma > 0, hue * 60.0, 0.0)


def palette_field(reading: PaletteReading) -> FieldResult:
    colors = reading.colors
    lead = colors[0] if colors else None
    tone = "warm" if reading.warm_share > reading.cool_share else "cool"
    if reading.saturation < 0.08:
        tone = "neutral, almost colourless"
    note = f"Measured {len(colors)} dominant colours"
    if lead:
        note += f"; {lead['name']} covers {round(lead['proportion'] * 100)}%"
    note += f"; overall {tone} with {round(reading.saturation * 100)}% mean saturation."
    return FieldResult("color_palette", colors, note, heuristic=False)

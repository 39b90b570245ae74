"""Whole-image statistics (brightness, contrast, colour temperature, symmetry), and their words.

The thresholds live here once: the analyzer's lighting and composition fields, the quick caption
and the demo catalogue's prompts all name the same measurement the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from app.services.analyzer.vision.colour import mccamy_kelvin

# Mean luminance (0..255) below which an image is low-key, above which it is high-key.
LOW_KEY, HIGH_KEY = 85.0, 170.0
# Luminance standard deviation (RMS contrast, 0..255) bounds of "medium" contrast.
LOW_CONTRAST, HIGH_CONTRAST = 30.0, 62.0
# Mirror correlation above which a layout reads as symmetric.
SYMMETRIC = 0.8


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
        color_temperature_k=mccamy_kelvin(rgb.reshape(-1, 3).mean(axis=0)),
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


def light_key(mean_luminance: float) -> str:
    if mean_luminance < LOW_KEY:
        return "low-key"
    return "high-key" if mean_luminance > HIGH_KEY else "mid-key"


def contrast_level(luminance_std: float) -> str:
    if luminance_std < LOW_CONTRAST:
        return "low"
    return "high" if luminance_std > HIGH_CONTRAST else "medium"


def symmetry_name(stats: PixelStats) -> str:
    if stats.vertical_symmetry >= SYMMETRIC:
        return "vertical"
    return "horizontal" if stats.horizontal_symmetry >= SYMMETRIC else "none"

"""Dominant colours and how colourful the image is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from app.services.analyzer.vision.colour import nearest_color_name, srgb_to_lab
from app.services.analyzer.vision.loading import Frame
from app.services.analyzer.vision.result import FieldResult

_WARM_HUES = ((0.0, 70.0), (330.0, 360.0))  # reds, oranges, yellows (degrees)
_COOL_HUES = ((170.0, 290.0),)  # cyans, blues, violets
# How different (CIELAB delta E) two palette colours must be to both be listed.
_DISTINCT_DELTA_E = 14.0


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


def extract_palette(image: Image.Image, *, count: int = 6) -> list[dict[str, Any]]:
    """The dominant colours, each with the share of the image it stands for (shares sum to 1).

    Median cut first splits the image into 16 clusters; the biggest ones that differ visibly
    (CIELAB distance) are kept, so a dark photo yields "black, navy, amber" rather than five
    near-identical blacks, and every cluster's pixels count toward its nearest kept colour.
    """
    small = image.convert("RGB")
    small.thumbnail((256, 256))
    quantized = small.quantize(colors=16, method=Image.Quantize.MEDIANCUT)
    flat = quantized.getpalette() or []
    clusters = sorted(quantized.getcolors() or [], key=lambda item: (-item[0], item[1]))
    if not clusters:
        return []
    indices = [int(i) for _, i in clusters]  # type: ignore[call-overload]  # P images: ints
    rgbs = np.array([flat[i * 3 : i * 3 + 3] for i in indices], dtype=np.float64)
    counts = np.array([n for n, _ in clusters], dtype=np.float64)
    labs = srgb_to_lab(rgbs)
    kept: list[int] = []
    for min_distance in (_DISTINCT_DELTA_E, 0.0):  # second pass fills up if too few differ
        for i in range(len(clusters)):
            if len(kept) >= count:
                break
            far = all(np.linalg.norm(labs[i] - labs[k]) >= min_distance for k in kept)
            if i not in kept and far:
                kept.append(i)
    owner = np.argmin(np.linalg.norm(labs[:, None, :] - labs[None, kept, :], axis=2), axis=1)
    shares = np.bincount(owner, weights=counts, minlength=len(kept)) / counts.sum()
    order = np.argsort(-shares, kind="stable")
    palette: list[dict[str, Any]] = []
    for j in order:
        rgb = tuple(int(v) for v in rgbs[kept[j]])
        palette.append(
            {
                "hex": "#{:02x}{:02x}{:02x}".format(*rgb),
                "name": nearest_color_name((rgb[0], rgb[1], rgb[2])),
                "proportion": round(float(shares[j]), 3),
            }
        )
    # Rounding can leave the shares a hair off 1; the biggest colour absorbs the difference.
    palette[0]["proportion"] = round(1 - sum(p["proportion"] for p in palette[1:]), 3)
    return palette


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

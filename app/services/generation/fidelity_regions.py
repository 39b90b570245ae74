"""Separate things in a picture, found by colour: areas of one colour that the frame does not cut.

Spectral-residual saliency (the analyzer's measure) fires on every strong edge, so on flat,
banded pictures, which generated posters and layout previews often are, the border between two
bands outshines the subject. The boundary prior (Zhu et al., "Saliency Optimization from Robust
Background Detection", CVPR 2014) is steadier: background runs off the edges of the frame, a
subject sits inside it. Each pixel takes its nearest palette colour; every connected area of
one colour that does not touch the frame's edge, and is big enough to be more than a detail,
is a thing in the picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from app.services.analyzer.vision.colour import FloatArray, srgb_to_lab

_WORK_EDGE = 160  # enough for shapes of 1% of the frame, cheap to label
_MIN_SHARE = 0.01  # smaller areas are details (glints, anti-aliasing), not subjects

Box = tuple[float, float, float, float]  # x, y, w, h in 0..1 frame coordinates


@dataclass(frozen=True)
class Region:
    centre: tuple[float, float]  # 0..1 frame coordinates
    share: float  # of the frame


def enclosed_regions(
    rgb: npt.NDArray[np.uint8], palette_labs: FloatArray, *, ignore: list[Box]
) -> list[Region]:
    """Areas enclosed by the frame, biggest first; `ignore` blanks boxes (text, faces) out."""
    h, w = rgb.shape[:2]
    scale = min(1.0, _WORK_EDGE / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float64)
    lab = srgb_to_lab(small)
    distance = np.linalg.norm(lab[:, :, None, :] - palette_labs[None, None, :, :], axis=3)
    labels = np.argmin(distance, axis=2)
    sh, sw = labels.shape
    for x, y, bw, bh in ignore:
        labels[
            int(y * sh) : int(np.ceil((y + bh) * sh)), int(x * sw) : int(np.ceil((x + bw) * sw))
        ] = -1
    regions = []
    for colour in range(len(palette_labs)):
        count, _, stats, centres = cv2.connectedComponentsWithStats(
            (labels == colour).astype(np.uint8), connectivity=4
        )
        for (x, y, bw, bh, area), (cx, cy) in zip(stats[1:count], centres[1:count], strict=True):
            touches = x == 0 or y == 0 or x + bw >= sw or y + bh >= sh
            share = area / float(sh * sw)
            if not touches and share >= _MIN_SHARE:
                regions.append(Region((float((cx + 0.5) / sw), float((cy + 0.5) / sh)), share))
    regions.sort(key=lambda r: (-r.share, r.centre))
    return regions

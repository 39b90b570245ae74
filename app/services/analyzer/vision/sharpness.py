"""Focus: how sharp the image is, and whether the subject is sharper than its surroundings."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from app.services.analyzer.vision.saliency import Saliency

# Below this variance of the Laplacian (on the <=1024 px analysis copy) a photo looks soft.
_SOFT = 60.0
# Subject-to-background sharpness ratios that separate the depth-of-field classes.
_SHALLOW_RATIO, _MEDIUM_RATIO = 3.0, 1.6
# |Laplacian| below this is "no detail": flat fills in graphics, not sensor noise in photos.
_FLAT_LEVEL = 2.0


@dataclass(frozen=True)
class FocusReading:
    laplacian_variance: float
    subject_sharpness: float  # mean |Laplacian| inside the salient region
    background_sharpness: float  # ... and outside it
    depth_of_field: str
    flat_share: float  # share of pixels with almost no local detail (flat fills, clear sky)


def read_focus(grey: npt.NDArray[np.uint8], saliency: Saliency) -> FocusReading:
    laplacian = cv2.Laplacian(grey, cv2.CV_64F, ksize=3)
    variance = float(laplacian.var())
    detail = np.abs(laplacian)
    inside, outside = saliency.mask, ~saliency.mask
    subject = float(detail[inside].mean()) if inside.any() else float(detail.mean())
    background = float(detail[outside].mean()) if outside.any() else float(detail.mean())
    flat_share = float((detail < _FLAT_LEVEL).mean()) if detail.size else 1.0
    depth = _depth(subject, background, variance)
    return FocusReading(variance, subject, background, depth, flat_share)


def _depth(subject: float, background: float, variance: float) -> str:
    if variance < 1.0 or subject <= 0:
        return "deep"  # a flat graphic: nothing is out of focus
    ratio = subject / max(background, 1e-6)
    if ratio >= _SHALLOW_RATIO:
        return "shallow"
    return "medium" if ratio >= _MEDIUM_RATIO else "deep"


def describe_focus(reading: FocusReading) -> str:
    crisp = "soft" if reading.laplacian_variance < _SOFT else "crisp"
    return f"{crisp} focus (Laplacian variance {round(reading.laplacian_variance)})"

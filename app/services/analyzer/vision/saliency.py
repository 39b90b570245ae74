"""Where the eye goes first: spectral-residual saliency (Hou & Zhang, CVPR 2007).

`cv2.saliency` lives in opencv-contrib, which collides with the headless build we ship, and
the method is a few lines of FFT: the log-amplitude spectrum minus its local average keeps
what is unexpected in the image, and transforming back shows where that is.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

_WORK_EDGE = 64  # the method is defined at this scale: it finds objects, not texture
_MASK_FACTOR = 3.0  # pixels this many times the mean saliency count as the salient region


@dataclass(frozen=True)
class Saliency:
    map: npt.NDArray[np.float32]  # 0..1, same size as the input
    mask: npt.NDArray[np.bool_]  # the salient region
    centroid: tuple[float, float]  # 0..1 frame coordinates
    coverage: float  # share of the frame the salient region covers


def spectral_residual(grey: npt.NDArray[np.uint8]) -> Saliency:
    h, w = grey.shape
    scale = _WORK_EDGE / max(h, w)
    small_size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(grey, small_size, interpolation=cv2.INTER_AREA).astype(np.float64)
    spectrum = np.fft.fft2(small)
    log_amplitude = np.log(np.abs(spectrum) + 1e-9)
    residual = log_amplitude - cv2.blur(log_amplitude, (3, 3))
    energy = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    energy = cv2.GaussianBlur(energy, (0, 0), 2.5)
    top = float(energy.max())
    small_map = (energy / top if top > 0 else np.zeros_like(energy)).astype(np.float32)
    full = cv2.resize(small_map, (w, h), interpolation=cv2.INTER_LINEAR)
    return _summarise(np.clip(full, 0.0, 1.0))


def _summarise(saliency: npt.NDArray[np.float32]) -> Saliency:
    h, w = saliency.shape
    mean = float(saliency.mean())
    mask = saliency >= min(1.0, _MASK_FACTOR * mean) if mean > 0 else np.zeros_like(saliency, bool)
    if not mask.any():
        return Saliency(saliency, mask, (0.5, 0.5), 0.0)
    ys, xs = np.nonzero(mask)
    weights = saliency[ys, xs].astype(np.float64)
    cx = float(np.average(xs + 0.5, weights=weights)) / w
    cy = float(np.average(ys + 0.5, weights=weights)) / h
    return Saliency(saliency, mask, (cx, cy), float(mask.mean()))

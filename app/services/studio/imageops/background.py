"""Background removal: offline with OpenCV GrabCut seeded by saliency, or remotely with Fal.ai.

The offline method has no model: it guesses the subject from where the image is unexpected
(spectral-residual saliency), assumes the frame's border is background, and lets GrabCut split
the colours in between. It does well on one clear subject against a plain or blurred background
(product shots, portraits on a studio wall) and badly on hair, fur, glass, busy scenes and
subjects touching the edge of the frame. The remote provider is a trained model.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFilter

from app.services.analyzer.vision.saliency import spectral_residual
from app.services.core.errors import InvalidInputError
from app.settings import Settings

# GrabCut's cost grows with the pixel count and its mask is smooth: segment a small copy.
_WORK_EDGE = 480
_ITERATIONS = 5
_BORDER_SHARE = 0.02  # this much of each edge is taken as sure background
_MIN_SUBJECT = 0.01  # a "subject" smaller than this share of the frame is noise
_MAX_SUBJECT = 0.97  # nearly everything kept means nothing was separated
_SPECK_SHARE = 0.05  # pieces under this share of the biggest piece are dropped


def remove_background(image: Image.Image, *, provider: str, settings: Settings) -> Image.Image:
    """An RGBA image whose background is transparent."""
    if provider == "fal":
        # The HTTP client is loaded only for the remote provider.
        from app.services.studio.imageops.fal import remove_background_fal

        return remove_background_fal(image, settings=settings)
    return remove_background_local(image)


def remove_background_local(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    small = rgba.convert("RGB")
    small.thumbnail((_WORK_EDGE, _WORK_EDGE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    rgb = np.asarray(small)
    if min(rgb.shape[:2]) < 16:
        raise InvalidInputError("The image is too small to separate a subject from its background.")
    subject = _subject_mask(rgb)
    share = float(subject.mean())
    if not _MIN_SUBJECT <= share <= _MAX_SUBJECT:
        raise InvalidInputError(
            "The offline background removal found no clear subject in this image (it needs one "
            "subject against a plain background). Try the Fal.ai provider."
        )
    mask = Image.fromarray(subject.astype(np.uint8) * 255, "L")
    # Upscale smoothly and soften the edge by about a pixel of the small mask, so the cut-out
    # does not show the staircase of the low-resolution mask.
    mask = mask.resize(rgba.size, Image.Resampling.BILINEAR)
    mask = mask.filter(ImageFilter.GaussianBlur(max(1.0, max(rgba.size) / _WORK_EDGE)))
    alpha = np.minimum(np.asarray(rgba.getchannel("A")), np.asarray(mask))
    rgba.putalpha(Image.fromarray(alpha, "L"))
    return rgba


def _subject_mask(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    h, w = rgb.shape[:2]
    grey: npt.NDArray[np.uint8] = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), np.uint8)
    salient = spectral_residual(grey).mask
    mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    ys, xs = np.nonzero(salient)
    if len(ys):
        # The salient pixels mark the subject's edges and details; the box around them is
        # where the subject probably is, like the rectangle a person would draw for GrabCut.
        top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    else:
        top, bottom, left, right = h // 4, h - h // 4, w // 4, w - w // 4
    mask[top:bottom, left:right] = cv2.GC_PR_FGD
    # The frame's border is background, except where the subject runs off the edge (a
    # portrait cut at the shoulders): there it stays "probably".
    band = max(2, round(min(h, w) * _BORDER_SHARE))
    sure = np.zeros((h, w), bool)
    sure[:band, :] = sure[-band:, :] = True
    sure[:, :band] = sure[:, -band:] = True
    sure[top:bottom, left:right] = False
    mask[sure] = cv2.GC_BGD
    background_model = np.zeros((1, 65), np.float64)
    foreground_model = np.zeros((1, 65), np.float64)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    try:
        cv2.grabCut(
            bgr,
            mask,
            (0, 0, 0, 0),  # no rectangle: the mask is the seed
            background_model,
            foreground_model,
            _ITERATIONS,
            cv2.GC_INIT_WITH_MASK,
        )
    except cv2.error:
        # GrabCut refuses a mask with no possible foreground or background samples (flat images)
        return np.zeros((h, w), bool)
    subject = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    return _drop_specks(subject)


def _drop_specks(subject: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Keep the main piece(s), fill small holes, drop crumbs of background GrabCut let through."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    opened = cv2.morphologyEx(subject.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    closed = np.asarray(cv2.morphologyEx(opened, cv2.MORPH_CLOSE, kernel), np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    if count <= 1:
        return closed.astype(bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= areas.max() * _SPECK_SHARE) + 1
    return np.isin(labels, keep)

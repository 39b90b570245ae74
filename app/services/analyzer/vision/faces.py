"""Frontal faces with OpenCV's Haar cascade (ships inside opencv-python-headless 4.x)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from app.services.analyzer.vision.lazy import Lazy

_CASCADE = "haarcascade_frontalface_default.xml"
# Haar cost grows with the pixel count; faces smaller than ~4% of a 640-px frame are too
# small to matter for a prompt, so detect on a copy of at most this long edge.
_DETECT_EDGE = 640
_MIN_FACE_PX = 24
# 6 neighbours (OpenCV's examples use 3-5) trades a few missed faces for far fewer faces
# found in foliage and fabric, which would otherwise turn landscapes into "portraits".
_MIN_NEIGHBOURS = 6
_MAX_FACES = 10


@dataclass(frozen=True)
class Face:
    x: float  # box in 0..1 frame coordinates
    y: float
    w: float
    h: float

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2


def _load_cascade() -> tuple[cv2.CascadeClassifier, threading.Lock]:
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + _CASCADE)  # type: ignore[attr-defined]
    if cascade.empty():
        raise RuntimeError(
            f"OpenCV could not load {_CASCADE}; is opencv-python-headless 4.x installed?"
        )
    # One classifier holds scratch buffers; OpenCV does not promise it is safe to share.
    return cascade, threading.Lock()


_cascade = Lazy(_load_cascade)


def detect_faces(grey: npt.NDArray[np.uint8]) -> list[Face]:
    """Faces, biggest first, as boxes normalised to the frame."""
    h, w = grey.shape
    if min(h, w) < _MIN_FACE_PX:
        return []
    scale = min(1.0, _DETECT_EDGE / max(h, w))
    small = (
        grey
        if scale == 1.0
        else cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    )
    # Equalising first makes the cascade far less sensitive to exposure (dark or washed-out faces).
    small = cv2.equalizeHist(small)
    cascade, lock = _cascade.get()
    with lock:
        boxes = cascade.detectMultiScale(
            small,
            scaleFactor=1.1,
            minNeighbors=_MIN_NEIGHBOURS,
            minSize=(_MIN_FACE_PX, _MIN_FACE_PX),
        )
    sh, sw = small.shape
    faces = [
        Face(float(x / sw), float(y / sh), float(bw / sw), float(bh / sh))
        for x, y, bw, bh in np.asarray(boxes).reshape(-1, 4)
    ]
    faces.sort(key=lambda f: f.w * f.h, reverse=True)
    return faces[:_MAX_FACES]


def shot_type(faces: list[Face]) -> str | None:
    """How close the camera is, judged from the biggest face's height in the frame."""
    if not faces:
        return None
    height = faces[0].h
    if height >= 0.45:
        return "extreme close-up"
    if height >= 0.22:
        return "close-up"
    if height >= 0.1:
        return "medium shot"
    return "full shot" if height >= 0.04 else "wide shot"

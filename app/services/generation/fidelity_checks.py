"""One comparison per part of the fidelity score: the prompt's words against the image's pixels.

Each check returns a `Check` (a 0..1 score and a sentence saying why) or None when the prompt
says nothing that part could compare, so a prompt without text is not punished for it.
How the numbers map to scores is written up in docs/fidelity.md.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from app.services.analyzer.vision.colour import delta_e_2000, nearest_color_name, srgb_to_lab
from app.services.analyzer.vision.geometry import aspect_ratio, position_name
from app.services.generation.fidelity_positions import region_for
from app.services.generation.fidelity_reading import ImageReading

# CIEDE2000: about 2 is the smallest difference people notice; by 30 it is another colour.
_DELTA_E_FULL, _DELTA_E_ZERO = 2.0, 30.0
# Aspect ratios compared as |ln(image / prompt)|: 0.03 absorbs the rounding of sizes to
# multiples of 16 (16:9 is rendered 1344x768 = 1.75); ln(1.5) is 1:1 against 3:2.
_ASPECT_FULL, _ASPECT_ZERO = 0.03, float(np.log(1.5))
# Subject placement: distance (frame units) outside the third the prompt names.
_PLACE_ZERO = 0.4
# The analyzer's rule: within 0.09 of a thirds crossing counts as "on the thirds".
_THIRDS_POINTS = tuple((x, y) for x in (1 / 3, 2 / 3) for y in (1 / 3, 2 / 3))
_THIRDS_FULL, _THIRDS_ZERO = 0.09, 0.25


@dataclass(frozen=True)
class Check:
    score: float  # 0..1
    explanation: str


def ramp(value: float, full: float, zero: float) -> float:
    """1 up to `full`, 0 from `zero`, a straight line between."""
    return float(np.clip((zero - value) / (zero - full), 0.0, 1.0))


def check_palette(prompt: dict[str, Any], reading: ImageReading) -> Check | None:
    colours = [c for c in prompt.get("color_palette") or [] if isinstance(c, dict)]
    if not colours:
        return None
    hexes = [str(c["hex"]).lower() for c in colours]
    rgb = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in hexes], np.float64)
    image = reading.palette
    cost = delta_e_2000(srgb_to_lab(rgb)[:, None, :], image.labs[None, :, :])
    shares = [c.get("proportion") for c in colours]
    proportions = [float(s) for s in shares if isinstance(s, int | float)]
    if len(proportions) == len(shares) and sum(proportions) > 0:
        mean, per_colour = _transport(np.array(proportions, np.float64), image.shares, cost)
        how, where = "colours and their shares match", "from the image colours its share lands on"
    else:
        per_colour = cost.min(axis=1)
        mean = float(per_colour.mean())
        how = "the listed colours are found"
        nearest = image.hexes[int(np.argmin(cost[int(np.argmax(per_colour))]))]
        where = f"from the nearest image colour, {nearest}"
    worst = int(np.argmax(per_colour))
    explanation = (
        f"Palette: {how} at a mean CIEDE2000 difference of {mean:.1f} "
        f"({_delta_e_words(mean)}). Furthest off: {hexes[worst]} "
        f"({nearest_color_name(_rgb(hexes[worst]))}), {per_colour[worst]:.1f} {where}."
    )
    return Check(ramp(mean, _DELTA_E_FULL, _DELTA_E_ZERO), explanation)


def _transport(wanted: np.ndarray, found: np.ndarray, cost: np.ndarray) -> tuple[float, np.ndarray]:
    """Earth mover's distance: the cheapest way to turn the prompt's shares into the image's.

    Shares summing to less than 1 (a prompt listing only its main colours) move only that much
    mass, onto whichever image colours suit them best. Returns the mean difference per unit
    moved, and the mean difference each prompt colour moved at.
    """
    wanted = wanted / max(1.0, float(wanted.sum()))
    _, _, flow = cv2.EMD(
        wanted.astype(np.float32).reshape(-1, 1),
        found.astype(np.float32).reshape(-1, 1),
        cv2.DIST_USER,
        cost=cost.astype(np.float32),
    )
    flow = np.asarray(flow, np.float64)
    mean = float((flow * cost).sum() / max(flow.sum(), 1e-9))
    per_colour = (flow * cost).sum(axis=1) / np.maximum(flow.sum(axis=1), 1e-9)
    return mean, per_colour


def check_aspect(prompt: dict[str, Any], reading: ImageReading) -> Check | None:
    composition = prompt.get("composition") or {}
    width, height = reading.frame.width, reading.frame.height
    measured = f"{aspect_ratio(width, height)} ({width}x{height})"
    wanted = str(composition.get("aspect_ratio") or "")
    if wanted:
        w, h = (float(part) for part in wanted.split(":"))
        if w > 0 and h > 0:
            gap = abs(float(np.log(reading.aspect / (w / h))))
            score = ramp(gap, _ASPECT_FULL, _ASPECT_ZERO)
            return Check(score, f"Aspect ratio: asked for {wanted}, the image is {measured}.")
    orientation = composition.get("orientation")
    if orientation:
        found = _orientation(reading.aspect)
        return Check(
            1.0 if found == orientation else 0.0,
            f"Orientation: asked for {orientation}, the image is {found} {measured}.",
        )
    return None


def _orientation(aspect: float) -> str:
    # Generated sizes round to multiples of 16, so "square" allows the same 3% as ratios.
    if abs(np.log(aspect)) <= _ASPECT_FULL:
        return "square"
    return "landscape" if aspect > 1 else "portrait"


def check_composition(prompt: dict[str, Any], reading: ImageReading) -> Check | None:
    composition = prompt.get("composition") or {}
    subjects = [s for s in prompt.get("subjects") or [] if isinstance(s, dict)]
    # The composition's own words first, else where the main (first) subject is said to be.
    said = [composition.get("subject_position"), subjects[0].get("position") if subjects else None]
    placed = [(str(words), region_for(str(words))) for words in said if words]
    wanted, region = next(((w, r) for w, r in placed if r is not None), ("", None))
    thirds = composition.get("rule_of_thirds") is True
    if region is None and not thirds:
        return None
    point = reading.subject_point
    if point is None:
        return Check(0.0, "Composition: no subject stands out in the image to place.")
    where = position_name(*point)
    scores, sentences = [], []
    if region is not None:
        scores.append(ramp(region.distance(point), 0.0, _PLACE_ZERO))
        sentences.append(f'the subject should be "{wanted}" and sits {where}')
    if thirds:
        distance = min(max(abs(point[0] - x), abs(point[1] - y)) for x, y in _THIRDS_POINTS)
        scores.append(ramp(distance, _THIRDS_FULL, _THIRDS_ZERO))
        on = "on" if distance <= _THIRDS_FULL else "off"
        sentences.append(f"the rule of thirds is asked for and the subject is {on} a thirds point")
    return Check(float(np.mean(scores)), "Composition: " + "; ".join(sentences) + ".")


def wanted_text(prompt: dict[str, Any]) -> list[tuple[str, str]]:
    """The prompt's `text_render` entries that have letters or digits to look for, each with
    the form they are compared in."""
    entries = [str(t["text"]) for t in prompt.get("text_render") or [] if isinstance(t, dict)]
    return [(entry, _letters(entry)) for entry in entries if _letters(entry)]


def check_text(prompt: dict[str, Any], reading: ImageReading) -> Check | None:
    wanted = wanted_text(prompt)
    lines = reading.text
    if not wanted or lines is None:
        return None
    read = [_letters(line.text) for line in lines]
    candidates = [*read, "".join(read)] if read else [""]
    total = sum(len(letters) for _, letters in wanted)
    score, sentences = 0.0, []
    for entry, letters in wanted:
        alike = max(_similarity(letters, candidate) for candidate in candidates)
        score += alike * len(letters) / total
        sentences.append(f'"{_short(entry)}" {round(alike * 100)}% alike')
    seen = "; ".join(f'"{_short(line.text)}"' for line in lines[:5]) or "no text"
    explanation = f"Text: OCR read {seen}. Expected " + ", ".join(sentences) + "."
    return Check(score, explanation)


def _letters(text: str) -> str:
    """Letters and digits only, case folded: OCR drops spaces and confuses o/O, s/S."""
    return re.sub(r"[\W_]+", "", text.casefold())


def _similarity(wanted: str, found: str) -> float:
    # autojunk off: it would ignore common letters in texts over 200 characters.
    return difflib.SequenceMatcher(None, wanted, found, autojunk=False).ratio()


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def check_subjects(prompt: dict[str, Any], reading: ImageReading) -> Check | None:
    """People are counted as faces. Other things are counted only in flat images, as separate
    areas of colour; in a photograph shading splits one thing into many areas, so there the
    count covers people alone. Text subjects are the text check's."""
    subjects = [s for s in prompt.get("subjects") or [] if isinstance(s, dict)]
    people = sum(s.get("type") == "person" for s in subjects)
    things = sum(s.get("type") not in {"person", "text"} for s in subjects)
    faces = len(reading.faces)
    if things and reading.is_flat:
        areas = len(reading.regions)
        wanted, found = people + things, faces + areas
        how = f"found {_plural(faces, 'face')} and {_plural(areas, 'separate area')} of colour"
    elif people:
        wanted, found = people, faces
        how = f"found {_plural(faces, 'face')}" + (
            " (other things are not counted in a photograph offline)" if things else ""
        )
    else:
        return None
    score = 1.0 - abs(wanted - found) / max(wanted, found)
    return Check(score, f"Subjects: the prompt lists {wanted}; {how}.")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _delta_e_words(delta: float) -> str:
    if delta <= _DELTA_E_FULL:
        return "hard to tell apart"
    if delta <= 10:
        return "close"
    return "clearly different" if delta <= _DELTA_E_ZERO else "other colours"


def _rgb(hex_code: str) -> tuple[int, int, int]:
    return int(hex_code[1:3], 16), int(hex_code[3:5], 16), int(hex_code[5:7], 16)

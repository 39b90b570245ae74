"""The round trip's fidelity score: how faithfully an image follows the JSON prompt it came from.

    from app.services.generation.fidelity import score_fidelity, average_fidelity

    result = score_fidelity(png_bytes, prompt)     # result.score: 0..100, result.parts
    version = average_fidelity([result, ...])      # the mean over a prompt version's images

The image is analysed offline (no network, no keys) and compared part by part: palette
(CIEDE2000), aspect ratio, composition (subject placement, thirds), text (OCR against
`text_render`) and subject count. Parts the prompt says nothing about are left out and the
weights of the rest renormalised. docs/fidelity.md explains every number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from app.services.generation.fidelity_checks import (
    Check,
    check_aspect,
    check_composition,
    check_palette,
    check_subjects,
    check_text,
    wanted_text,
)
from app.services.generation.fidelity_reading import ImageReading
from app.services.library.prompts.schema import assert_valid_prompt

FIDELITY_VERSION = "fidelity-1"  # stored with scores: a later formula must not mix with this one


@dataclass(frozen=True)
class PartSpec:
    name: str
    label: str
    weight: float  # before renormalising over the parts that apply
    check: Callable[[dict[str, Any], ImageReading], Check | None]


# Colour and text are what people notice first when an image "isn't what I asked for";
# composition and subject count are measured more roughly offline, so they weigh less.
PARTS = (
    PartSpec("palette", "Colours", 0.30, check_palette),
    PartSpec("aspect", "Aspect ratio", 0.20, check_aspect),
    PartSpec("text", "Text", 0.20, check_text),
    PartSpec("composition", "Composition", 0.15, check_composition),
    PartSpec("subjects", "Subjects", 0.15, check_subjects),
)


@dataclass(frozen=True)
class FidelityPart:
    name: str
    label: str
    score: int  # 0..100
    weight: float  # share of the total, after renormalising: the parts' weights sum to 1
    explanation: str


@dataclass(frozen=True)
class FidelityScore:
    score: int | None  # 0..100; None when the prompt names nothing the image could be checked on
    parts: tuple[FidelityPart, ...]
    notes: tuple[str, ...] = ()  # what could not be checked, and why
    version: str = FIDELITY_VERSION

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy, for storing beside the image and sending to the page or the API."""
        return {
            "version": self.version,
            "score": self.score,
            "parts": [vars(part).copy() for part in self.parts],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class FidelityAverage:
    score: float | None  # mean over the scored images, one decimal
    images: int  # how many images had a score
    parts: dict[str, float] = field(default_factory=dict)  # mean per part, where it applied


def score_fidelity(image: bytes, prompt: object) -> FidelityScore:
    """Compare one image with its prompt. Raises PromptValidationError for a prompt that breaks
    the schema, InvalidImageError / ImageTooLargeError for bytes that are not a usable image."""
    checked = assert_valid_prompt(prompt)
    wants_text = bool(wanted_text(checked))
    reading = ImageReading(image, with_text=wants_text)
    found = [(spec, spec.check(checked, reading)) for spec in PARTS]
    applied = [(spec, check) for spec, check in found if check is not None]
    notes = []
    if wants_text and reading.text is None:
        notes.append("Text was not checked: text recognition is unavailable on this server.")
    total = sum(spec.weight for spec, _ in applied)
    if not applied:
        notes.append(
            "The prompt names no colours, aspect ratio, placement, text or subjects to check."
        )
        return FidelityScore(score=None, parts=(), notes=tuple(notes))
    parts = tuple(
        FidelityPart(
            name=spec.name,
            label=spec.label,
            score=round(check.score * 100),
            weight=round(spec.weight / total, 4),
            explanation=check.explanation,
        )
        for spec, check in applied
    )
    overall = sum(spec.weight / total * check.score for spec, check in applied) * 100
    return FidelityScore(score=round(overall), parts=parts, notes=tuple(notes))


def average_fidelity(scores: Iterable[FidelityScore]) -> FidelityAverage:
    """The mean score of a prompt version's images; images without a score are not counted.

    Each part is averaged over the images where it applied, so the page can say which part
    a version renders worst.
    """
    scored = [s for s in scores if s.score is not None]
    if not scored:
        return FidelityAverage(score=None, images=0)
    per_part: dict[str, list[int]] = {}
    for result in scored:
        for part in result.parts:
            per_part.setdefault(part.name, []).append(part.score)
    mean = sum(s.score or 0 for s in scored) / len(scored)
    return FidelityAverage(
        score=round(mean, 1),
        images=len(scored),
        parts={name: round(sum(v) / len(v), 1) for name, v in per_part.items()},
    )

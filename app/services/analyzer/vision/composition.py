"""Composition: shape of the frame, where the subject sits, thirds and symmetry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.services.analyzer.vision.faces import Face, shot_type
from app.services.analyzer.vision.geometry import aspect_ratio, orientation, position_name
from app.services.analyzer.vision.loading import Frame
from app.services.analyzer.vision.pixel_stats import PixelStats, symmetry_name
from app.services.analyzer.vision.result import FieldResult
from app.services.analyzer.vision.saliency import Saliency

# A subject counts as "on the thirds" when it sits this close (in frame units, on each axis)
# to one of the four points where the third lines cross.
_THIRDS_TOLERANCE = 0.09
_THIRDS_POINTS = tuple((x, y) for x in (1 / 3, 2 / 3) for y in (1 / 3, 2 / 3))


@dataclass(frozen=True)
class CompositionReading:
    aspect_ratio: str
    orientation: str
    subject_position: str
    thirds_distance: float
    rule_of_thirds: bool
    symmetry: str
    framing: str
    from_face: bool  # the subject position is the biggest face's, not the salient region's


_FACE_FRAMING = {
    "extreme close-up": "tight framing on the face",
    "close-up": "close framing, head and shoulders",
    "medium shot": "medium framing, waist up",
    "full shot": "full-figure framing",
    "wide shot": "wide view with small figures",
}


def read_composition(
    frame: Frame, saliency: Saliency, stats: PixelStats, faces: list[Face]
) -> CompositionReading:
    """Faces, when found, are the subject: people look at faces before anything salient."""
    cx, cy = faces[0].centre if faces else saliency.centroid
    shot = shot_type(faces)
    distance = min(max(abs(cx - x), abs(cy - y)) for x, y in _THIRDS_POINTS)
    return CompositionReading(
        aspect_ratio=aspect_ratio(frame.width, frame.height),
        orientation=orientation(frame.width, frame.height),
        subject_position=position_name(cx, cy) if faces or saliency.coverage > 0 else "center",
        thirds_distance=distance,
        rule_of_thirds=bool(distance <= _THIRDS_TOLERANCE),
        symmetry=symmetry_name(stats),
        framing=_FACE_FRAMING[shot] if shot else _framing(saliency.coverage),
        from_face=bool(faces),
    )


def _framing(coverage: float) -> str:
    if coverage <= 0:
        return "even, all-over framing"
    if coverage < 0.08:
        return "wide view with a small subject"
    return "tight framing, the subject fills the frame" if coverage > 0.35 else "medium framing"


def composition_field(
    reading: CompositionReading, saliency: Saliency
) -> tuple[FieldResult, list[str]]:
    value: dict[str, Any] = {
        "aspect_ratio": reading.aspect_ratio,
        "orientation": reading.orientation,
        "framing": reading.framing,
        "subject_position": reading.subject_position,
        "rule_of_thirds": reading.rule_of_thirds,
        "symmetry": reading.symmetry,
    }
    thirds = "on a thirds point" if reading.rule_of_thirds else "off the thirds points"
    subject = (
        "the main face"
        if reading.from_face
        else f"the most salient region ({round(saliency.coverage * 100)}% of the frame)"
    )
    note = (
        f"{reading.aspect_ratio} {reading.orientation} frame; {subject} sits "
        f"{reading.subject_position}, {thirds}; symmetry: {reading.symmetry}."
    )
    return FieldResult("composition", value, note, heuristic=False), ["composition.framing"]

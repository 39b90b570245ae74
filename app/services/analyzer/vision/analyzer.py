"""The offline ("local") analyzer: image bytes in, a schema-valid JSON prompt out, field by field.

Stages run in order of cost and each yields its field as soon as it is done, so the UI fills
in colours and light within milliseconds while OCR (the slow part) is still reading:

    palette -> lighting -> composition -> faces (subjects) -> focus + EXIF (camera)
    -> OCR (text_render) -> NSFW score -> rule-based scene/style/mood/background/tags -> meta

Each top-level field is yielded exactly once; `meta` is always last.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import PurePath
from typing import Any, TypeVar

from app.services.analyzer.vision import describe
from app.services.analyzer.vision.composition import composition_field, read_composition
from app.services.analyzer.vision.describe import Evidence
from app.services.analyzer.vision.exif import (
    CameraData,
    equivalent_focal_length,
    lens_kind,
    read_camera,
)
from app.services.analyzer.vision.faces import Face, detect_faces, shot_type
from app.services.analyzer.vision.geometry import position_name
from app.services.analyzer.vision.lighting import lighting_field, read_lighting
from app.services.analyzer.vision.loading import decode_frame
from app.services.analyzer.vision.nsfw import NsfwReading, score_nsfw, warm_up_nsfw
from app.services.analyzer.vision.ocr import TextLine, read_text, text_coverage, warm_up_ocr
from app.services.analyzer.vision.palette import palette_field, read_palette
from app.services.analyzer.vision.result import FieldResult
from app.services.analyzer.vision.saliency import spectral_residual
from app.services.analyzer.vision.sharpness import FocusReading, describe_focus, read_focus
from app.services.library.prompts.schema import SCHEMA_VERSION, assert_valid_prompt

log = logging.getLogger(__name__)

ANALYZER_ID = "jsoncraft-local-1"
NOTICE = (
    "Measured offline: palette, light, composition, faces, text and camera data. Subjects, "
    "style and mood are rule-based guesses; a vision model gives richer descriptions."
)
T = TypeVar("T")


def warm_up() -> None:
    """Load the OCR and NSFW models ahead of the first upload (a worker calls this at start)."""
    warm_up_ocr()
    warm_up_nsfw()


def analyze_image(data: bytes, *, filename: str = "") -> dict[str, Any]:
    """The full prompt for an image; raises InvalidImageError / ImageTooLargeError on bad input."""
    prompt: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    for result in iter_analysis(data, filename=filename):
        prompt[result.field] = result.value
    return assert_valid_prompt(prompt)


def iter_analysis(data: bytes, *, filename: str = "") -> Iterator[FieldResult]:
    """Yield each prompt field as soon as the stage that measures it finishes."""
    timings: dict[str, float] = {}

    def timed(stage: str, work: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return work()
        finally:
            timings[stage] = round((time.perf_counter() - started) * 1000, 1)

    frame = timed("decode", lambda: decode_frame(data))
    guessed: list[str] = []

    palette = timed("palette", lambda: read_palette(frame))
    yield palette_field(palette)

    light = timed("lighting", lambda: read_lighting(frame))
    result, paths = lighting_field(light)
    guessed += paths
    yield result

    saliency = timed("saliency", lambda: spectral_residual(frame.grey))
    faces = timed("faces", lambda: detect_faces(frame.grey))
    composition = read_composition(frame, saliency, light.stats, faces)
    result, paths = composition_field(composition, saliency)
    guessed += paths
    yield result

    focus = timed("focus", lambda: read_focus(frame.grey, saliency))
    camera_data = read_camera(frame.exif)
    result, paths = _camera_field(camera_data, focus, faces)
    guessed += paths
    yield result

    # With faces, the subjects are known now; without, wait for OCR: a poster's subject is
    # its words, not "a dark shape".
    subjects = _face_subjects(faces)
    guessed.append("subjects")
    if subjects:
        yield FieldResult("subjects", subjects, _subjects_note(faces, subjects), heuristic=True)

    text_lines = timed("ocr", lambda: _optional("text recognition", read_text, frame.rgb))
    lines = text_lines or []
    yield FieldResult("text_render", _text_render(lines), _text_note(text_lines), heuristic=False)
    evidence = Evidence(
        frame=frame,
        palette=palette,
        light=light,
        composition=composition,
        saliency=saliency,
        focus=focus,
        faces=faces,
        text=lines,
        text_coverage=text_coverage(lines),
        camera=camera_data,
    )
    if not subjects:
        subjects = _other_subjects(evidence)
        yield FieldResult("subjects", subjects, _subjects_note(faces, subjects), heuristic=True)

    nsfw = timed("nsfw", lambda: _optional("NSFW scoring", score_nsfw, frame.image))

    style = describe.style(evidence)
    mood = describe.mood(evidence)
    rules = "Written by rules from the measurements (no captioning model runs offline)."
    yield FieldResult("scene", describe.scene(evidence, style, mood), rules, heuristic=True)
    yield FieldResult("style", style, _style_note(evidence, style), heuristic=True)
    mood_note = (
        f"Guessed from {light.key} light, {evidence.warmth} tones and "
        f"{round(palette.saturation * 100)}% mean saturation."
    )
    yield FieldResult("mood", mood, mood_note, heuristic=True)
    background_note = "Named from the colour and detail outside the most salient region."
    yield FieldResult("background", describe.background(evidence), background_note, heuristic=True)
    tags_note = "Keywords collected from the measurements and the guesses above."
    yield FieldResult("tags", describe.tags(evidence, style), tags_note, heuristic=True)
    guessed += ["scene", "style", "mood", "background", "tags"]

    meta = _meta(evidence, nsfw, guessed, timings, filename)
    note = "How this prompt was made, with the raw measurements behind every field."
    yield FieldResult("meta", meta, note, heuristic=False)


def _optional(what: str, work: Callable[[Any], T], argument: Any) -> T | None:
    """Run a model-backed stage; if its engine is broken, analyse without it.

    OCR and NSFW scoring load ONNX models: a missing wheel or a corrupt model file must cost
    the user that one field, not the whole analysis. The traceback goes to the log.
    """
    try:
        return work(argument)
    except Exception:
        log.exception("local analyzer: %s failed; continuing without it", what)
        return None


def _camera_field(
    data: CameraData, focus: FocusReading, faces: list[Face]
) -> tuple[FieldResult, list[str]]:
    camera: dict[str, Any] = {"depth_of_field": focus.depth_of_field}
    guessed = ["camera.depth_of_field"]
    shot = shot_type(faces)
    if shot:
        camera["shot_type"] = shot
        guessed.append("camera.shot_type")
    focal = equivalent_focal_length(data)
    if focal is not None:
        camera["focal_length_mm"] = focal
        camera["lens"] = lens_kind(focal)
    if data.aperture is not None and 0.7 <= data.aperture <= 64:
        camera["aperture"] = data.aperture
    note = f"{describe_focus(focus).capitalize()}, {focus.depth_of_field} depth of field"
    if data.found:
        device = " ".join(p for p in (data.make, data.model) if p) or "the camera"
        note += f"; EXIF from {device}"
        if focal is not None:
            note += f", {focal:g} mm"
        if data.aperture:
            note += f", f/{data.aperture:g}"
    else:
        note += "; no EXIF camera data"
    return FieldResult("camera", camera, note + ".", heuristic=not data.found), guessed


def _face_subjects(faces: list[Face]) -> list[dict[str, Any]]:
    many = len(faces) > 1
    return [
        {
            "description": "a person facing the camera"
            if not many
            else f"person {i + 1} of {len(faces)}, facing the camera",
            "type": "person",
            "position": position_name(*face.centre),
        }
        for i, face in enumerate(faces)
    ]


def _other_subjects(ev: Evidence) -> list[dict[str, Any]]:
    if ev.is_text_heavy:
        cx = sum(line.centre[0] for line in ev.text) / len(ev.text)
        cy = sum(line.centre[1] for line in ev.text) / len(ev.text)
        words = " ".join(line.text for line in ev.text)[:200]
        return [
            {
                "description": f'the lettering "{words}"',
                "type": "text",
                "position": position_name(cx, cy),
            }
        ]
    salient = describe.salient_subject(ev)
    return [salient] if salient else []


def _subjects_note(faces: list[Face], subjects: list[dict[str, Any]]) -> str:
    if faces:
        word = "face" if len(faces) == 1 else "faces"
        return (
            f"Found {len(faces)} frontal {word}; what the people do and wear needs a vision model."
        )
    if subjects and subjects[0].get("type") == "text":
        return "No faces found; the lettering is the main subject."
    if subjects:
        return "No faces found; the subject is the region that stands out most (a guess)."
    return "No faces and no single standout region found."


def _text_render(lines: list[TextLine]) -> list[dict[str, Any]]:
    entries = []
    for line in lines:
        size = "large" if line.h >= 0.08 else "medium" if line.h >= 0.03 else "small"
        entries.append(
            {
                "text": line.text,
                "position": position_name(*line.centre),
                "style": f"{size} lettering",
            }
        )
    return entries


def _text_note(lines: list[TextLine] | None) -> str:
    if lines is None:
        return "Text recognition is unavailable on this server, so text was not read."
    if not lines:
        return "No readable text found."
    best = min(line.score for line in lines)
    return f"Read {len(lines)} line(s) of text with OCR (lowest confidence {best:.0%})."


def _style_note(ev: Evidence, style: dict[str, Any]) -> str:
    return (
        f"Guessed {style['medium']} from {round(ev.focus.flat_share * 100)}% flat area, "
        f"{ev.palette.distinct_colors} distinct colours"
        + (", EXIF camera data" if ev.camera.found else "")
        + (f", {len(ev.faces)} face(s)" if ev.faces else "")
        + "."
    )


def _meta(
    ev: Evidence,
    nsfw: NsfwReading | None,
    guessed: list[str],
    timings: dict[str, float],
    filename: str,
) -> dict[str, Any]:
    frame = ev.frame
    h, w = frame.grey.shape
    meta: dict[str, Any] = {
        "source": "local",
        "analyzer": ANALYZER_ID,
        "heuristic_fields": list(dict.fromkeys(guessed)),
        "notice": NOTICE,
        "measurements": {
            "width": frame.width,
            "height": frame.height,
            "analysed_width": w,
            "analysed_height": h,
            "format": frame.format,
            "animated": frame.is_animated,
            "mean_luminance": round(ev.light.stats.mean_luminance, 1),
            "luminance_std": round(ev.light.stats.luminance_std, 1),
            "highlight_color_temperature_k": ev.light.kelvin,
            "bright_area_offset": [round(ev.light.offset_x, 3), round(ev.light.offset_y, 3)],
            "mean_saturation": round(ev.palette.saturation, 3),
            "warm_share": round(ev.palette.warm_share, 3),
            "cool_share": round(ev.palette.cool_share, 3),
            "distinct_colors": ev.palette.distinct_colors,
            "vertical_symmetry": round(ev.light.stats.vertical_symmetry, 3),
            "horizontal_symmetry": round(ev.light.stats.horizontal_symmetry, 3),
            "salient_centroid": [round(v, 3) for v in ev.saliency.centroid],
            "salient_coverage": round(ev.saliency.coverage, 3),
            "thirds_distance": round(ev.composition.thirds_distance, 3),
            "laplacian_variance": round(ev.focus.laplacian_variance, 1),
            "subject_sharpness": round(ev.focus.subject_sharpness, 2),
            "background_sharpness": round(ev.focus.background_sharpness, 2),
            "flat_share": round(ev.focus.flat_share, 3),
            "text_coverage": round(ev.text_coverage, 4),
            "timings_ms": timings,
        },
        "faces": [
            {"box": [round(f.x, 4), round(f.y, 4), round(f.w, 4), round(f.h, 4)]} for f in ev.faces
        ],
        "text_boxes": [
            {
                "text": t.text,
                "score": round(t.score, 3),
                "box": [round(t.x, 4), round(t.y, 4), round(t.w, 4), round(t.h, 4)],
            }
            for t in ev.text
        ],
    }
    if ev.camera.found:
        meta["exif"] = ev.camera.raw
    if nsfw is not None:
        meta["nsfw"] = {"score": nsfw.score, "flagged": nsfw.flagged}
    if filename:
        meta["filename"] = PurePath(filename.replace("\\", "/")).name[:200]
    return meta

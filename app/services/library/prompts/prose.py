"""Render a JSON prompt as one readable paragraph, for models that only take plain text.

The renderer is forgiving on purpose: it is also used to preview half-edited prompts, so a
missing or wrongly typed field is skipped rather than raising. Validation is the schema's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def render_prose(prompt: Mapping[str, Any]) -> str:
    """`{"scene": ..., "negative": ...}` -> "A calm sea at sunset. Lighting: ... Avoid: ..."."""
    sentences = [
        _sentence(_text(prompt.get("scene"))),
        _subjects(prompt.get("subjects")),
        _labelled("Background", _text(prompt.get("background"))),
        _labelled("Style", _style(prompt.get("style"))),
        _labelled("Lighting", _lighting(prompt.get("lighting"))),
        _labelled("Color palette", _palette(prompt.get("color_palette"))),
        _labelled("Mood", _text(prompt.get("mood"))),
        _labelled("Composition", _composition(prompt.get("composition"))),
        _labelled("Camera", _camera(prompt.get("camera"))),
        _labelled("Text in the image", _text_render(prompt.get("text_render"))),
        _labelled("Avoid", _text(prompt.get("negative"))),
    ]
    return " ".join(s for s in sentences if s)


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return f"{value:g}"


def _sentence(text: str) -> str:
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _labelled(label: str, text: str) -> str:
    return _sentence(f"{label}: {text}") if text else ""


def _join(parts: list[str]) -> str:
    return ", ".join(p for p in parts if p)


def _section(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: object) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _subjects(value: object) -> str:
    described = []
    for subject in _items(value):
        description = _text(subject.get("description"))
        if not description:
            continue
        clothing = _text(subject.get("clothing"))
        expression = _text(subject.get("expression"))
        described.append(
            _join(
                [
                    description,
                    _text(subject.get("position")),
                    _text(subject.get("action")),
                    _text(subject.get("pose")),
                    f"{expression} expression" if expression else "",
                    f"wearing {clothing}" if clothing else "",
                ]
            )
        )
    if not described:
        return ""
    return _sentence("Subjects: " + "; ".join(described))


def _style(value: object) -> str:
    style = _section(value)
    artists = [_text(a) for a in style.get("artists", []) if isinstance(a, str)]
    references = [_text(r) for r in style.get("references", []) if isinstance(r, str)]
    return _join(
        [
            _text(style.get("medium")),
            _text(style.get("genre")),
            _text(style.get("rendering")),
            f"in the manner of {', '.join(artists)}" if artists else "",
            f"referencing {', '.join(references)}" if references else "",
        ]
    )


def _lighting(value: object) -> str:
    lighting = _section(value)
    direction = _text(lighting.get("direction"))
    contrast = _text(lighting.get("contrast"))
    kelvin = _number(lighting.get("color_temperature_k"))
    return _join(
        [
            _text(lighting.get("conditions")),
            f"from the {direction}" if direction else "",
            _text(lighting.get("shadows")),
            f"{contrast} contrast" if contrast else "",
            f"around {kelvin} K" if kelvin else "",
            _text(lighting.get("key")),
        ]
    )


def _palette(value: object) -> str:
    colors = []
    for color in _items(value):
        hex_code = _text(color.get("hex"))
        name = _text(color.get("name"))
        proportion = color.get("proportion")
        share = ""
        if isinstance(proportion, int | float) and not isinstance(proportion, bool):
            share = f"{round(proportion * 100)}%"
        details = _join([hex_code if name else "", share])
        label = name or hex_code
        if label:
            colors.append(f"{label} ({details})" if details else label)
    return ", ".join(colors)


def _composition(value: object) -> str:
    composition = _section(value)
    symmetry = _text(composition.get("symmetry"))
    position = _text(composition.get("subject_position"))
    return _join(
        [
            " ".join(
                p
                for p in (
                    _text(composition.get("aspect_ratio")),
                    _text(composition.get("orientation")),
                )
                if p
            ),
            _text(composition.get("framing")),
            f"subject at {position}" if position else "",
            "rule of thirds" if composition.get("rule_of_thirds") is True else "",
            f"{symmetry} symmetry" if symmetry and symmetry != "none" else "",
        ]
    )


def _camera(value: object) -> str:
    camera = _section(value)
    focal = _number(camera.get("focal_length_mm"))
    aperture = _number(camera.get("aperture"))
    depth = _text(camera.get("depth_of_field"))
    return _join(
        [
            _text(camera.get("angle")),
            _text(camera.get("shot_type")),
            _text(camera.get("lens")),
            f"{focal} mm" if focal else "",
            f"f/{aperture}" if aperture else "",
            f"{depth} depth of field" if depth else "",
        ]
    )


def _text_render(value: object) -> str:
    pieces = []
    for item in _items(value):
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        details = _join([_text(item.get("position")), _text(item.get("style"))])
        pieces.append(f'"{text.strip()}"' + (f" ({details})" if details else ""))
    return "; ".join(pieces)

"""Presets: partial prompts merged into the one being edited (a style, a light, a camera, a frame).

Built-in presets are data in this module, so they ship with the code and need no migration; a
user's own presets are `Preset` rows. Both are listed as `PresetInfo` with a string id
(`builtin:style/watercolor`, `user:12`) so the editor handles them alike.

Merging is a deep merge: objects merge key by key, while arrays and plain values replace what was
there (merging two palettes or two subject lists item by item would make a mixture nobody chose).
`preview_preset` returns the merged prompt and the list of changes, so the editor can show the
diff before the user accepts.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app.services.core.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from app.services.core.models import Preset
from app.services.library.diff import Change, diff
from app.services.library.prompts import (
    SCHEMA_VERSION,
    FieldError,
    PromptValidationError,
    load_schema,
    summarize,
    validate_prompt,
)
from app.services.library.tools.format import canonical

CATEGORIES = ("style", "lighting", "camera", "aspect_ratio", "composition", "mood", "other")
MAX_NAME_LENGTH = 120
BUILTIN_PREFIX = "builtin:"
USER_PREFIX = "user:"
# A preset never sets these: the version is the format's, and meta describes one prompt's origin.
_NOT_PRESETTABLE = ("schema_version", "meta")


@dataclass(frozen=True)
class PresetInfo:
    id: str
    name: str
    category: str
    data: dict[str, Any]
    builtin: bool


def _builtin(category: str, slug: str, name: str, data: dict[str, Any]) -> PresetInfo:
    return PresetInfo(f"{BUILTIN_PREFIX}{category}/{slug}", name, category, data, True)


def _aspect(ratio: str, orientation: str) -> dict[str, Any]:
    return {"composition": {"aspect_ratio": ratio, "orientation": orientation}}


BUILTIN_PRESETS: tuple[PresetInfo, ...] = (
    # -- style
    _builtin(
        "style",
        "watercolor",
        "Watercolor",
        {
            "style": {
                "medium": "watercolor painting",
                "rendering": "soft wet-in-wet washes, visible paper texture, gentle bleeding edges",
            }
        },
    ),
    _builtin(
        "style",
        "cinematic",
        "Cinematic",
        {
            "style": {
                "medium": "cinematic film still",
                "rendering": "anamorphic look, subtle film grain, teal and orange grade",
            },
            "composition": {"aspect_ratio": "21:9", "orientation": "landscape"},
        },
    ),
    _builtin(
        "style",
        "anime",
        "Anime",
        {
            "style": {
                "medium": "anime illustration",
                "genre": "anime",
                "rendering": "clean line art, cel shading, vibrant flat colors",
            }
        },
    ),
    _builtin(
        "style",
        "film-noir",
        "Film noir",
        {
            "style": {
                "medium": "black-and-white photograph",
                "genre": "film noir",
                "references": ["1940s film noir"],
                "rendering": "deep blacks, hard shadows, fine grain",
            },
            "lighting": {
                "conditions": "hard single key light",
                "contrast": "high",
                "key": "low-key",
            },
            "mood": "tense and mysterious",
        },
    ),
    _builtin(
        "style",
        "product-shot",
        "Product shot",
        {
            "style": {
                "medium": "photograph",
                "genre": "product photography",
                "rendering": "crisp detail, clean reflections, commercial finish",
            },
            "background": "seamless light grey studio backdrop",
            "lighting": {
                "conditions": "soft studio light",
                "shadows": "soft contact shadow",
                "key": "high-key",
            },
            "camera": {"angle": "slightly above eye level", "depth_of_field": "medium"},
        },
    ),
    _builtin(
        "style",
        "oil-painting",
        "Oil painting",
        {"style": {"medium": "oil painting", "rendering": "thick impasto brush strokes"}},
    ),
    _builtin(
        "style",
        "3d-render",
        "3D render",
        {
            "style": {
                "medium": "3D render",
                "rendering": "soft global illumination, smooth materials",
            }
        },
    ),
    # -- lighting
    _builtin(
        "lighting",
        "golden-hour",
        "Golden hour",
        {
            "lighting": {
                "conditions": "golden hour sunlight",
                "direction": "side",
                "shadows": "long soft shadows",
                "color_temperature_k": 3200,
                "key": "mid-key",
            }
        },
    ),
    _builtin(
        "lighting",
        "studio-softbox",
        "Studio softbox",
        {
            "lighting": {
                "conditions": "large softbox studio light",
                "direction": "front",
                "shadows": "almost no shadows",
                "contrast": "low",
                "color_temperature_k": 5500,
            }
        },
    ),
    _builtin(
        "lighting",
        "neon-night",
        "Neon night",
        {
            "lighting": {
                "conditions": "neon signs at night",
                "direction": "side",
                "shadows": "colored hard shadows",
                "contrast": "high",
                "key": "low-key",
            },
            "mood": "electric and moody",
        },
    ),
    _builtin(
        "lighting",
        "overcast",
        "Overcast daylight",
        {
            "lighting": {
                "conditions": "overcast daylight",
                "direction": "ambient",
                "shadows": "almost no shadows",
                "contrast": "low",
                "color_temperature_k": 6500,
            }
        },
    ),
    # -- camera
    _builtin(
        "camera",
        "35mm-film",
        "35mm film",
        {
            "camera": {"lens": "standard", "focal_length_mm": 35, "aperture": 5.6},
            "style": {"rendering": "35mm film look, natural grain"},
        },
    ),
    _builtin(
        "camera",
        "85mm-portrait",
        "85mm portrait",
        {
            "camera": {
                "angle": "eye level",
                "lens": "telephoto",
                "focal_length_mm": 85,
                "aperture": 1.8,
                "depth_of_field": "shallow",
                "shot_type": "close-up",
            }
        },
    ),
    _builtin(
        "camera",
        "drone-wide",
        "Drone wide",
        {
            "camera": {
                "angle": "bird's-eye view",
                "lens": "wide-angle",
                "focal_length_mm": 24,
                "depth_of_field": "deep",
                "shot_type": "aerial shot",
            }
        },
    ),
    _builtin(
        "camera",
        "macro",
        "Macro",
        {
            "camera": {
                "lens": "macro",
                "focal_length_mm": 100,
                "aperture": 2.8,
                "depth_of_field": "shallow",
                "shot_type": "extreme close-up",
            }
        },
    ),
    # -- aspect ratio
    _builtin("aspect_ratio", "1-1", "Square 1:1", _aspect("1:1", "square")),
    _builtin("aspect_ratio", "16-9", "Widescreen 16:9", _aspect("16:9", "landscape")),
    _builtin("aspect_ratio", "9-16", "Vertical 9:16", _aspect("9:16", "portrait")),
    _builtin("aspect_ratio", "4-5", "Portrait 4:5", _aspect("4:5", "portrait")),
    _builtin("aspect_ratio", "3-2", "Photo 3:2", _aspect("3:2", "landscape")),
)


def list_presets(session: Session, *, user_id: int | None) -> list[PresetInfo]:
    """Built-ins first (in the order above), then the user's own presets, oldest first."""
    own: list[PresetInfo] = []
    if user_id is not None:
        rows = session.exec(
            select(Preset)
            .where(Preset.owner_id == user_id)
            .order_by(col(Preset.created_at), col(Preset.id))
        ).all()
        own = [_info(row) for row in rows]
    return [*BUILTIN_PRESETS, *own]


def get_preset(session: Session, *, user_id: int | None, preset_id: str) -> PresetInfo:
    """A built-in by its id, or one of the user's own presets (never someone else's)."""
    for preset in BUILTIN_PRESETS:
        if preset.id == preset_id:
            return preset
    row = _own_row(session, user_id=user_id, preset_id=preset_id)
    return _info(row)


def save_preset(
    session: Session, *, user_id: int, name: str, category: str, data: dict[str, Any]
) -> PresetInfo:
    """Validate and store a user preset. The row is flushed; the caller commits."""
    clean_name = " ".join(str(name).split())
    if not clean_name:
        raise InvalidInputError("Give the preset a name.")
    if len(clean_name) > MAX_NAME_LENGTH:
        raise InvalidInputError(f"A preset name can be at most {MAX_NAME_LENGTH} characters.")
    if category not in CATEGORIES:
        raise InvalidInputError(f"Choose a preset category: {', '.join(CATEGORIES)}.")
    errors = validate_partial(data)
    if errors:
        raise PromptValidationError(summarize(errors), field_errors=errors)
    row = Preset(owner_id=user_id, name=clean_name, category=category, data=canonical(data))
    session.add(row)
    session.flush()
    return _info(row)


def delete_preset(session: Session, *, user_id: int, preset_id: str) -> None:
    """Delete one of the user's own presets. Built-ins cannot be deleted."""
    if preset_id.startswith(BUILTIN_PREFIX):
        raise PermissionDeniedError("Built-in presets cannot be deleted.")
    row = _own_row(session, user_id=user_id, preset_id=preset_id)
    session.delete(row)
    session.flush()


def validate_partial(data: object) -> list[FieldError]:
    """Why `data` is not a valid partial prompt; [] if it is.

    Each key must be a top-level field of the schema, and each value valid for that field. The
    values are checked by merging them into a minimal valid prompt and running the real schema,
    so the messages are the same plain-language ones the editor shows everywhere else.
    """
    if not isinstance(data, dict) or not data:
        return [FieldError("", "A preset must set at least one field of the prompt.", "type")]
    known = load_schema()["properties"]
    errors = [
        FieldError(
            str(key),
            f'"{key}" is not a field a preset can set. '
            f"Use one of: {', '.join(k for k in known if k not in _NOT_PRESETTABLE)}.",
            "additionalProperties",
        )
        for key in data
        if key not in known or key in _NOT_PRESETTABLE
    ]
    if errors:
        return errors
    merged = merge(_minimal_prompt(), data)
    return validate_prompt(merged)


def merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge into a new dict: objects merge, arrays and plain values replace."""
    out = copy.deepcopy(dict(base))
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def preview_preset(
    data: Mapping[str, Any], preset: PresetInfo | Mapping[str, Any]
) -> tuple[dict[str, Any], list[Change]]:
    """The prompt with the preset applied, and what that changes, without saving anything.

    Raises PromptValidationError if the result does not validate, so a preset can never be the
    thing that breaks a prompt.
    """
    patch = preset.data if isinstance(preset, PresetInfo) else preset
    merged = canonical(merge(data, patch))
    errors = validate_prompt(merged)
    if errors:
        raise PromptValidationError(summarize(errors), field_errors=errors)
    return merged, diff(dict(data), merged)


def _minimal_prompt() -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "scene": "preset check",
        "subjects": [],
        "style": {},
        "color_palette": [],
        "lighting": {},
        "composition": {},
    }


def _info(row: Preset) -> PresetInfo:
    return PresetInfo(f"{USER_PREFIX}{row.id}", row.name, row.category, dict(row.data), False)


def _own_row(session: Session, *, user_id: int | None, preset_id: str) -> Preset:
    raw = preset_id.removeprefix(USER_PREFIX)
    row = session.get(Preset, int(raw)) if raw.isdigit() else None
    # Someone else's preset looks exactly like a missing one: ids are not secrets, but
    # confirming they exist tells a stranger nothing useful and costs nothing to hide.
    if row is None or row.owner_id is None or row.owner_id != user_id:
        raise NotFoundError("That preset does not exist.")
    return row

"""Style presets for generation: the editor's presets (style, lighting, camera, mood), applied
to the JSON prompt and shown as a diff before they apply, with the chosen aspect ratio.

The presets and the merge/diff machinery are the editor's (library/tools/presets.py), so a
preset reads and behaves the same on both pages. Two differences, both because the aspect
ratio is its own choice on the generate page: the "aspect_ratio" presets are not offered here,
and a style preset's aspect ratio (Cinematic sets 21:9) is left out, so a preset never quietly
overrides the ratio the person picked.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.services.core.errors import InvalidInputError
from app.services.generation.sizes import aspect_label, orientation, parse_aspect
from app.services.library.diff import Change
from app.services.library.tools.presets import BUILTIN_PRESETS, PresetInfo, preview_preset

STYLE_CATEGORIES = ("style", "lighting", "camera", "mood")
_ASPECT_KEYS = ("aspect_ratio", "orientation")
MAX_PRESET_NAME = 120


@dataclass(frozen=True)
class StylePreview:
    """The prompt that will be sent, and every change from the one the person wrote."""

    prompt: dict[str, Any]
    changes: list[Change]
    preset_id: str | None


def _without_aspect(preset: PresetInfo) -> PresetInfo:
    composition = preset.data.get("composition")
    if not isinstance(composition, Mapping) or not any(k in composition for k in _ASPECT_KEYS):
        return preset
    data = copy.deepcopy(preset.data)
    kept = {k: v for k, v in composition.items() if k not in _ASPECT_KEYS}
    if kept:
        data["composition"] = kept
    else:
        del data["composition"]
    return PresetInfo(preset.id, preset.name, preset.category, data, preset.builtin)


STYLE_PRESETS: tuple[PresetInfo, ...] = tuple(
    _without_aspect(p) for p in BUILTIN_PRESETS if p.category in STYLE_CATEGORIES
)


def slug(preset: PresetInfo) -> str:
    """`builtin:style/film-noir` -> "film-noir" (the name the CLI's --preset takes)."""
    return preset.id.rsplit("/", 1)[-1]


def find_style_preset(name: object) -> PresetInfo:
    """A built-in style preset by id, slug or name, ignoring case: "cinematic", "Film noir"."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError("Choose a style preset, or none.")
    wanted = " ".join(name.split()).lower()
    if len(wanted) <= MAX_PRESET_NAME:
        for preset in STYLE_PRESETS:
            if wanted in (preset.id.lower(), slug(preset), preset.name.lower()):
                return preset
    choices = ", ".join(slug(p) for p in STYLE_PRESETS)
    shown = wanted if len(wanted) <= 40 else wanted[:39] + "…"
    raise InvalidInputError(f'There is no style preset "{shown}". Choose one of: {choices}.')


def preview_style(
    prompt: Mapping[str, Any],
    preset: PresetInfo | str | None,
    *,
    aspect: str | None = None,
) -> StylePreview:
    """The prompt with the preset and the aspect ratio applied, and the diff, without saving.

    `preset` is a built-in's name or a `PresetInfo` (a user's own preset, read with the
    library's `get_preset`). Raises PromptValidationError if the result breaks the schema,
    and InvalidInputError for an unknown preset or a nonsense aspect ratio.
    """
    if not isinstance(prompt, Mapping):
        raise InvalidInputError("The prompt must be a JSON object, like the editor shows.")
    chosen = (
        preset if preset is None or isinstance(preset, PresetInfo) else find_style_preset(preset)
    )
    patch: dict[str, Any] = {}
    if chosen is not None:
        patch = copy.deepcopy(_without_aspect(chosen).data)
    if aspect is not None:
        width, height = parse_aspect(aspect)
        composition = patch.setdefault("composition", {})
        composition.update(
            {"aspect_ratio": aspect_label(aspect), "orientation": orientation(width, height)}
        )
    # Even with nothing to apply, the prompt goes through the same validation, so the
    # generate page never sends a prompt the editor would refuse.
    merged, changes = preview_preset(prompt, patch)
    return StylePreview(
        prompt=merged, changes=changes, preset_id=chosen.id if chosen is not None else None
    )

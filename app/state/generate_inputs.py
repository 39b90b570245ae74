"""The /generate form's choices as typed values, with one message per control that is wrong.

Plain Python (no Reflex), so the checks are unit-tested on their own. `plan` turns the form
into what the run will send: the styled prompt, the pixel size for the chosen model, and
"What the model receives", or the services' own messages keyed by the control they concern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from app.services.core.errors import UserFacingError
from app.services.generation.lora_training import MAX_LORAS, MAX_SCALE
from app.services.generation.planning import SEED_LIMIT
from app.services.generation.presets import preview_style
from app.services.generation.render import render_for_model
from app.services.generation.sizes import ASPECT_PRESETS, parse_aspect, size_for
from app.services.generation.types import MAX_IMAGES
from app.services.library.diff import Change, diff

CUSTOM = "custom"
MAX_FIELD = 40  # characters a number field keeps; longer is never a valid number


@dataclass(frozen=True)
class Choices:
    """The form as typed: strings, exactly as the controls hold them."""

    model_id: str
    aspect: str = "1:1"  # a preset, or CUSTOM
    custom_aspect: str = ""
    preset: str = ""  # applied style preset ("" for none)
    n: str = "1"
    seed_mode: str = "random"  # or "fixed"
    seed: str = ""
    steps: str = ""
    guidance: str = ""
    takes_steps: bool = False
    takes_guidance: bool = False


@dataclass
class Plan:
    """What a run with these choices sends, or why it can't start yet."""

    errors: dict[str, str] = field(default_factory=dict)
    aspect: str = ""
    n: int = 1
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    width: int = 0
    height: int = 0
    prompt_format: str = ""
    sent: str = ""
    negative: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


def aspect_text(choices: Choices) -> str:
    """The ratio the form asks for: a preset, or the custom W:H as typed."""
    return choices.custom_aspect.strip() if choices.aspect == CUSTOM else choices.aspect


def parse_count(text: str) -> int:
    value = _whole(text)
    if value is None or not 1 <= value <= MAX_IMAGES:
        raise ValueError(f"Ask for 1 to {MAX_IMAGES} images at a time.")
    return value


def parse_seed(mode: str, text: str) -> int | None:
    """None for a random seed; a fixed one must be a whole number from 0 to 4294967295."""
    if mode != "fixed":
        return None
    if not text.strip():
        raise ValueError("Type a seed, or choose a random one.")
    value = _whole(text)
    if value is None or not 0 <= value < SEED_LIMIT:
        raise ValueError(f"The seed must be a whole number from 0 to {SEED_LIMIT - 1}.")
    return value


def parse_steps(text: str) -> int | None:
    """Blank means the model's default."""
    if not text.strip():
        return None
    value = _whole(text)
    if value is None or not 1 <= value <= 100:
        raise ValueError("Steps must be a whole number from 1 to 100, or blank for the default.")
    return value


def parse_guidance(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text.strip()[:MAX_FIELD])
    except ValueError:
        value = float("nan")
    if not 0 <= value <= 50:  # NaN and infinities fail here too
        raise ValueError("Guidance must be a number from 0 to 50, or blank for the default.")
    return value


def _whole(text: str) -> int | None:
    clean = text.strip()
    if not clean or len(clean) > MAX_FIELD or not clean.isdigit() or not clean.isascii():
        return None
    return int(clean)


def preset_changes(prompt: dict[str, Any], preset: str, *, aspect: str | None) -> list[Change]:
    """What applying `preset` would change in the prompt as it is sent (aspect included)."""
    before = preview_style(prompt, None, aspect=aspect).prompt
    return diff(before, preview_style(prompt, preset, aspect=aspect).prompt)


def change_line(change: Change) -> str:
    return f"{change.op} {change.path}: {change.old or '∅'} → {change.new or '∅'}"


def plan(prompt: dict[str, Any] | None, choices: Choices) -> Plan:
    """Check every control and, if the source and the ratio allow, render what is sent."""
    result = Plan()
    numbers: list[tuple[str, Any]] = [("n", lambda: parse_count(choices.n))]
    numbers.append(("seed", lambda: parse_seed(choices.seed_mode, choices.seed)))
    if choices.takes_steps:
        numbers.append(("steps", lambda: parse_steps(choices.steps)))
    if choices.takes_guidance:
        numbers.append(("guidance", lambda: parse_guidance(choices.guidance)))
    for name, read in numbers:
        try:
            setattr(result, name, read())
        except ValueError as e:
            result.errors[name] = str(e)
    ratio = aspect_text(choices)
    try:
        if choices.aspect != CUSTOM and choices.aspect not in ASPECT_PRESETS:
            raise ValueError("Choose one of the aspect ratios, or Custom.")
        parse_aspect(ratio)
        size = size_for(ratio, model_id=choices.model_id)
        result.aspect, result.width, result.height = ratio, size.width, size.height
    except (UserFacingError, ValueError) as e:
        result.errors["aspect"] = _message(e)
        return result
    if prompt is None:
        result.errors["source"] = "Pick a saved prompt to generate from."
        return result
    try:
        styled = preview_style(prompt, None, aspect=ratio)
    except UserFacingError as e:  # the prompt itself breaks the schema
        result.errors["source"] = e.message
        return result
    if choices.preset:
        try:
            styled = preview_style(prompt, choices.preset, aspect=ratio)
        except UserFacingError as e:
            result.errors["preset"] = e.message
            return result
    try:
        rendered = render_for_model(styled.prompt, choices.model_id)
    except UserFacingError as e:
        result.errors["source"] = e.message
        return result
    result.prompt_format, result.sent = rendered.prompt_format, rendered.text
    result.negative = rendered.negative or ""
    return result


def _message(error: Exception) -> str:
    return error.message if isinstance(error, UserFacingError) else str(error)


def parse_scale(text: str) -> float:
    """A LoRA's strength as typed: a number from 0 to MAX_SCALE (blank is not one)."""
    clean = text.strip()[:MAX_FIELD]
    try:
        value = float(clean) if clean else float("nan")
    except ValueError:
        value = float("nan")
    if not 0 <= value <= MAX_SCALE:  # NaN and infinities fail here too
        raise ValueError(f"A LoRA's scale is a number from 0 to {MAX_SCALE:g}.")
    return value


def lora_request(picked: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The picked LoRAs as runs.start_generation takes them ([{"id", "scale"}]); a ValueError
    names the LoRA whose scale is wrong, or says how many can be used at once."""
    if len(picked) > MAX_LORAS:
        raise ValueError(f"Use at most {MAX_LORAS} LoRAs at a time.")
    chosen = []
    for row in picked:
        try:
            scale = parse_scale(row.get("scale", ""))
        except ValueError as e:
            raise ValueError(f"{row.get('name', 'This LoRA')}: {e}") from None
        chosen.append({"id": int(row["id"]), "scale": scale})
    return chosen


def missing_triggers(text: str, words: list[str]) -> list[str]:
    """The trigger words that don't appear in `text` as words of their own (any case)."""
    return [
        w
        for w in dict.fromkeys(words)
        if w and not re.search(rf"(?<![A-Za-z0-9_-]){re.escape(w)}(?![A-Za-z0-9_-])", text, re.I)
    ]

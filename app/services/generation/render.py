"""What each image model receives: one canonical JSON prompt, rendered per model family.

This is the one place that decides it, so the "What the model receives" preview, the provider
call and the metadata written into the file always agree.

    family        prompt sent                        negative
    flux2         FLUX.2 JSON (BFL's JSON prompting)  never: FLUX.2 has no negative prompts
    flux1         prose                              never: FLUX.1 is guidance-distilled and
                                                     its endpoints take no negative prompt
    diffusion     prose                              as its own `negative_prompt` field
                                                     (Stable Diffusion family)
    chat          prose, negative as "Avoid: ..."    inline: chat image models read instructions
    offline       the canonical JSON                 never: the layout preview draws no negatives
    prose         prose                              never (unknown models: the safe default)

A model's family comes from a table of the ids the providers list (Together, Fal, OpenRouter,
the offline preview), then from its name (`flux.2`, `flux`, `stable-diffusion`...), so a newly
listed model of a known family renders correctly without a code change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from app.services.core.errors import InvalidInputError
from app.services.library.prompts import render_prose
from app.services.library.tools.exports import to_flux2_json
from app.services.library.tools.format import canonical

Family = Literal["flux2", "flux1", "diffusion", "chat", "offline", "prose"]
NegativeMode = Literal["none", "field", "inline"]

OFFLINE_MODEL_ID = "jsoncraft/layout-preview"
MAX_MODEL_ID_LENGTH = 200


@dataclass(frozen=True)
class FamilyRules:
    family: Family
    prompt_format: Literal["text", "json"]
    negative: NegativeMode


FAMILIES: dict[Family, FamilyRules] = {
    "flux2": FamilyRules("flux2", "json", "none"),
    "flux1": FamilyRules("flux1", "text", "none"),
    "diffusion": FamilyRules("diffusion", "text", "field"),
    "chat": FamilyRules("chat", "text", "inline"),
    "offline": FamilyRules("offline", "json", "none"),
    "prose": FamilyRules("prose", "text", "none"),
}

# The ids as the providers list them (issue 12). Lower-cased for lookup.
_KNOWN_MODELS: dict[str, Family] = {
    OFFLINE_MODEL_ID: "offline",
    # Together AI
    "black-forest-labs/flux.1-schnell": "flux1",
    "black-forest-labs/flux.1-schnell-free": "flux1",
    "black-forest-labs/flux.1.1-pro": "flux1",
    "black-forest-labs/flux.1-kontext-pro": "flux1",
    "black-forest-labs/flux.2-pro": "flux2",
    "black-forest-labs/flux.2-dev": "flux2",
    "black-forest-labs/flux.2-flex": "flux2",
    # Fal.ai
    "fal-ai/flux/schnell": "flux1",
    "fal-ai/flux/dev": "flux1",
    "fal-ai/flux-pro/v1.1": "flux1",
    "fal-ai/flux-pro/v1.1-ultra": "flux1",
    "fal-ai/flux-lora": "flux1",
}

# OpenRouter's image-output models are chat models; their ids start with these vendors.
_CHAT_VENDORS = ("google/", "openai/", "x-ai/", "anthropic/", "meta-llama/", "qwen/")


@dataclass(frozen=True)
class RenderedPrompt:
    """What one model receives for one prompt.

    `text` is the exact prompt string sent (for JSON families, the JSON as text); `structured`
    is that JSON as a dict (None for prose); `negative` is the separate negative prompt, set
    only for families that take one as a field.
    """

    model_id: str
    family: Family
    prompt_format: Literal["text", "json"]
    text: str
    structured: dict[str, Any] | None
    negative: str | None
    negative_sent: bool


def family_of(model_id: str) -> FamilyRules:
    """The rendering rules for a model id (unknown ids get prose with no negative)."""
    key = clean_model_id(model_id).lower()
    known = _KNOWN_MODELS.get(key)
    if known:
        return FAMILIES[known]
    name = key.rsplit("/", 1)[-1] if "/" in key else key
    if any(tag in key for tag in ("flux.2", "flux-2", "flux2")):
        return FAMILIES["flux2"]
    if "flux" in key:
        return FAMILIES["flux1"]
    if any(tag in name for tag in ("stable-diffusion", "sdxl", "sd3", "sd-")):
        return FAMILIES["diffusion"]
    if key.startswith(_CHAT_VENDORS):
        return FAMILIES["chat"]
    return FAMILIES["prose"]


def render_for_model(prompt: Mapping[str, Any], model_id: str) -> RenderedPrompt:
    """The prompt as `model_id` receives it.

    Raises InvalidInputError when the prompt is not a JSON object, the model id is blank, or
    nothing is left to send (a prompt with no scene, subjects or style at all).
    """
    if not isinstance(prompt, Mapping):
        raise InvalidInputError("The prompt must be a JSON object, like the editor shows.")
    rules = family_of(model_id)
    clean_id = clean_model_id(model_id)
    negative = _text(prompt.get("negative"))
    without_negative = {k: v for k, v in prompt.items() if k != "negative"}

    structured: dict[str, Any] | None = None
    if rules.family == "flux2":
        structured = to_flux2_json(without_negative)
    elif rules.family == "offline":
        # `meta` is the analyzer's bookkeeping (measurements, timings), not something to draw.
        structured = canonical({k: v for k, v in without_negative.items() if k != "meta"})
    if structured is not None:
        # Compact and in key order, so the same prompt always sends the same bytes.
        text = json.dumps(structured, ensure_ascii=False, separators=(",", ":"))
        # The layout preview draws something sensible even from an empty prompt.
        empty = rules.family != "offline" and not structured
    else:
        source = prompt if rules.negative == "inline" else without_negative
        text = render_prose(source)
        empty = not render_prose(without_negative)
    if empty:
        raise InvalidInputError(
            "The prompt has nothing to draw yet: describe the scene (or a subject) first."
        )
    sent = bool(negative) and rules.negative != "none"
    return RenderedPrompt(
        model_id=clean_id,
        family=rules.family,
        prompt_format=rules.prompt_format,
        text=text,
        structured=structured,
        negative=negative if sent and rules.negative == "field" else None,
        negative_sent=sent,
    )


def clean_model_id(model_id: object) -> str:
    if not isinstance(model_id, str) or not model_id.strip():
        raise InvalidInputError("Choose a model to generate with.")
    clean = model_id.strip()
    if len(clean) > MAX_MODEL_ID_LENGTH or any(ch.isspace() or ord(ch) < 32 for ch in clean):
        raise InvalidInputError("That model id is not valid: use an id like vendor/model.")
    return clean


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""

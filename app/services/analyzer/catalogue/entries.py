"""What a provider's `GET /models` answer says about each model, read defensively.

OpenRouter answers `{"data": [{"id", "name", "context_length", "pricing": {"prompt",
"completion", "image", "request", ...}, "architecture": {"input_modalities",
"output_modalities"}, "supported_parameters": [...]}]}` with prices as strings of USD per
token (per image, per request). OpenAI-style servers answer `{"object": "list", "data":
[{"id", "object": "model", "owned_by"}]}` and say nothing else. Either may send entries with
fields missing, of the wrong type, or priced "-1" (OpenRouter's routers: the price depends
on the model picked): those fields become None, and entries without a usable id are skipped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.services.core.errors import ProviderUnavailableError

OPENROUTER = "openrouter"
OPENAI_COMPATIBLE = "openai-compatible"
MAX_ENTRIES = 5000  # OpenRouter lists a few hundred; more is a broken or hostile answer
MAX_ID_LENGTH = 120  # what `analyses.model` holds; OpenRouter's longest ids are ~60
MAX_NAME_LENGTH = 200
MAX_LIST_ITEMS = 64
# Ids are printable and spaceless: "vendor/model-name:variant", "qwen2.5vl:7b", "gpt-4o".
_ID = re.compile(r"^[\w.\-:/@+]+$")
# Parameters that let us ask for JSON matching a schema (OpenRouter's names).
STRUCTURED_PARAMETERS = frozenset({"structured_outputs", "response_format"})


@dataclass(frozen=True)
class CatalogueEntry:
    model_id: str
    name: str
    context_length: int | None = None
    prompt_usd: float | None = None
    completion_usd: float | None = None
    image_usd: float | None = None
    request_usd: float | None = None
    input_modalities: tuple[str, ...] = ()
    output_modalities: tuple[str, ...] = ()
    supported_parameters: tuple[str, ...] = field(default_factory=tuple)

    @property
    def vision(self) -> bool:
        return "image" in self.input_modalities

    @property
    def structured_outputs(self) -> bool:
        """Needs `structured_outputs` itself: `response_format` alone may mean JSON mode only."""
        return "structured_outputs" in self.supported_parameters

    @property
    def reasoning(self) -> bool:
        return "reasoning" in self.supported_parameters


def parse_openrouter(payload: Any) -> list[CatalogueEntry]:
    """Entries of an OpenRouter `/models` answer; raises if it is not that shape at all."""
    entries = []
    for item in _data(payload):
        model_id = _model_id(item.get("id"))
        if model_id is None:
            continue
        pricing = _mapping(item.get("pricing"))
        arch = _mapping(item.get("architecture"))
        # Older answers only had `modality`: "text+image->text".
        modality = arch.get("modality") if isinstance(arch.get("modality"), str) else ""
        before, _, after = str(modality).partition("->")
        inputs = _words(arch.get("input_modalities")) or _words(before.split("+"))
        outputs = _words(arch.get("output_modalities")) or _words(after.split("+"))
        entries.append(
            CatalogueEntry(
                model_id=model_id,
                name=_name(item.get("name"), model_id),
                context_length=_count(item.get("context_length")),
                prompt_usd=_usd(pricing.get("prompt")),
                completion_usd=_usd(pricing.get("completion")),
                image_usd=_usd(pricing.get("image")),
                request_usd=_usd(pricing.get("request")),
                input_modalities=inputs,
                output_modalities=outputs,
                supported_parameters=_words(item.get("supported_parameters")),
            )
        )
    return _unique(entries)


def parse_openai(payload: Any) -> list[CatalogueEntry]:
    """Entries of an OpenAI-style `/models` answer: ids only (no prices, no modalities)."""
    entries = []
    for item in _data(payload):
        model_id = _model_id(item.get("id"))
        if model_id is not None:
            entries.append(CatalogueEntry(model_id=model_id, name=model_id))
    return _unique(entries)


def _data(payload: Any) -> list[Mapping[str, Any]]:
    data = payload.get("data") if isinstance(payload, Mapping) else None
    if not isinstance(data, list):
        raise ProviderUnavailableError(
            "The model list is not in the expected shape (no `data` list). Try again later."
        )
    if len(data) > MAX_ENTRIES:
        raise ProviderUnavailableError(
            f"The model list has {len(data)} entries, more than the {MAX_ENTRIES} we accept."
        )
    return [item for item in data if isinstance(item, Mapping)]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _model_id(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > MAX_ID_LENGTH or not _ID.match(value):
        return None
    return value


def _name(value: Any, fallback: str) -> str:
    if not isinstance(value, str) or not value.strip():
        return fallback
    cleaned = " ".join(value.split())  # no newlines or control whitespace in the picker
    return cleaned[:MAX_NAME_LENGTH]


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 < value < 2**31:
        return value
    if isinstance(value, float) and value.is_integer() and 0 < value < 2**31:
        return int(value)
    return None


def _usd(value: Any) -> float | None:
    """A price: a number or a numeric string, finite and not negative; else unknown."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        if len(value) > 40:
            return None
        try:
            number = float(value.strip())
        except ValueError:
            return None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        return None
    if not math.isfinite(number) or number < 0 or number > 1_000:
        return None
    return number


def _words(value: Any) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        return ()
    words = [v.strip().lower() for v in value if isinstance(v, str) and v.strip()]
    return tuple(dict.fromkeys(w[:64] for w in words[:MAX_LIST_ITEMS]))


def _unique(entries: list[CatalogueEntry]) -> list[CatalogueEntry]:
    """The first entry wins when an id repeats (case-insensitively, as lookups are)."""
    seen: dict[str, CatalogueEntry] = {}
    for entry in entries:
        seen.setdefault(entry.model_id.casefold(), entry)
    return list(seen.values())

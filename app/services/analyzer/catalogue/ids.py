"""How people write model ids, and the closest ids to one that is not listed.

OpenRouter's ids are `vendor/model` and `vendor/model:variant` (":free" is the free,
rate-limited route). People also write the provider in front, as LiteLLM (`openrouter/
vendor/model`) and several SDKs (`openrouter:vendor/model`) do; all of them name the same model.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

_PREFIXES = ("openrouter/", "openrouter:")
MAX_NAME = 200


def openrouter_id(name: str) -> str:
    """`" OpenRouter:NVIDIA/Nemotron "` -> `"nvidia/nemotron"`: the catalogue's spelling.

    The provider prefix is dropped only when a `vendor/model` id follows it, so an id whose
    vendor is literally "openrouter" (`openrouter/auto`) keeps it.
    """
    cleaned = name.strip().casefold()
    for prefix in _PREFIXES:
        rest = cleaned.removeprefix(prefix)
        if rest != cleaned and "/" in rest:
            return rest
    return cleaned


def closest(name: str, candidates: Iterable[str], *, limit: int = 5) -> list[str]:
    """The candidates that look most like `name` (typos, a missing variant, another vendor)."""
    wanted = openrouter_id(name[:MAX_NAME])
    pool = list(dict.fromkeys(candidates))
    by_folded: dict[str, str] = {}
    for candidate in pool:
        by_folded.setdefault(candidate.casefold(), candidate)
    matches = difflib.get_close_matches(wanted, list(by_folded), n=limit, cutoff=0.5)
    # Also the ids that share the model's own name, whatever the vendor ("gpt-4o" -> openai/…).
    tail = wanted.rsplit("/", 1)[-1].split(":")[0]
    if tail and len(matches) < limit:
        for folded in by_folded:
            if folded not in matches and folded.rsplit("/", 1)[-1].split(":")[0] == tail:
                matches.append(folded)
                if len(matches) >= limit:
                    break
    return [by_folded[m] for m in matches]

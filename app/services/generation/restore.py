"""Importing a file JSONCraft generated: read its embedded details back, and restore the JSON
prompt it was made from into the gallery without analysing the image again.

The file is untrusted: metadata.read validates every field, and anything it refuses (a forged,
damaged, oversized or mistyped chunk) is treated as "no details", never as a crash. The JSON
to restore is checked against the prompt schema before anything is saved.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.services.core.errors import InvalidImageError, InvalidInputError, NotFoundError
from app.services.core.logs import get_logger
from app.services.core.storage import Storage
from app.services.generation.gallery_entry import GENERATED
from app.services.generation.labels import model_label
from app.services.generation.metadata import GenerationMetadata, read
from app.services.images.ownership import owned_asset
from app.services.library.prompts import validate_prompt
from app.services.library.writes import create_prompt

log = get_logger("generation")

NO_DETAILS = "This image carries no JSONCraft generation details to restore."
NO_JSON = (
    "This image carries the text it was generated from, but not its JSON prompt "
    "(an older or trimmed file), so there is nothing exact to restore."
)


@dataclass(frozen=True)
class EmbeddedGeneration:
    """What an imported file says about how it was made, ready to show."""

    metadata: GenerationMetadata
    model_label: str
    summary: str  # "Made with JSONCraft: FLUX.1 [schnell], seed 7, 1024 × 768"
    prompt: dict[str, Any] | None  # the JSON prompt to restore, schema-valid; None if absent


def read_embedded(image: bytes) -> EmbeddedGeneration | None:
    """The file's generation details, or None when it has none or they can't be trusted."""
    try:
        found = read(image)
    except InvalidImageError:
        return None  # a GIF, or a container too broken to walk: nothing of ours to read
    except InvalidInputError as e:
        log.info("ignored generation details in an imported file: %s", e)
        return None
    except Exception:  # a reader bug must not break an upload: log it, read nothing
        log.exception("reading generation details failed")
        return None
    if found is None:
        return None
    label = model_label(found.model)
    parts = [label]
    if found.seed is not None:
        parts.append(f"seed {found.seed}")
    parts.append(f"{found.width} × {found.height}")
    if found.preset:
        parts.append(f"preset {found.preset}")
    return EmbeddedGeneration(
        metadata=found,
        model_label=label,
        summary="Made with JSONCraft: " + ", ".join(parts),
        prompt=_restorable(found),
    )


def _restorable(found: GenerationMetadata) -> dict[str, Any] | None:
    """The canonical JSON inside the file; else the sent prompt when it was that JSON."""
    candidates: list[object] = [found.prompt_data]
    if found.prompt_format == "json":
        with contextlib.suppress(json.JSONDecodeError, RecursionError):
            candidates.append(json.loads(found.prompt_sent))
    for candidate in candidates:
        if isinstance(candidate, dict) and not validate_prompt(candidate):
            return candidate
    return None


def embedded_in_asset(
    session: Session, *, storage: Storage, user_id: int, asset_id: int
) -> EmbeddedGeneration | None:
    """The details inside one of the person's images (someone else's is not found)."""
    asset = owned_asset(session, user_id=user_id, asset_id=asset_id)
    return read_embedded(storage.read_bytes(asset.storage_key))


def restore_to_gallery(session: Session, *, storage: Storage, user_id: int, asset_id: int) -> int:
    """Save the JSON prompt a generated file carries as a new private gallery prompt with that
    image, exactly as embedded and without an analysis. Returns the prompt's id. Flushes."""
    found = embedded_in_asset(session, storage=storage, user_id=user_id, asset_id=asset_id)
    if found is None:
        raise NotFoundError(NO_DETAILS)
    if found.prompt is None:
        raise InvalidInputError(NO_JSON)
    meta = found.metadata
    prompt = create_prompt(
        session,
        owner_id=user_id,
        title=f"Restored · {found.model_label}" + (f" · seed {meta.seed}" if meta.seed else ""),
        data=found.prompt,
        asset_id=asset_id,
        model=meta.model,
        style=_medium(found.prompt),
        message="Restored from the image's JSONCraft details",
        origin=GENERATED,
    )
    assert prompt.id is not None
    return prompt.id


def _medium(data: dict[str, Any]) -> str:
    style = data.get("style")
    return str(style.get("medium", "") if isinstance(style, dict) else "")[:120]

"""A generated image becomes a gallery entry: a prompt of its own, like any other.

The entry is a Prompt with origin "generated": its image is the generated file, its version 1 is
the JSON the image was made from (after the style preset), and its model is the model that made
it. It is written through the library's write service, so full-text search, tags and (through
maintenance) style-memory embeddings treat it as any prompt. It is private: the source prompt
may be public, but what someone generates from it is theirs to share.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlmodel import Session

from app.services.core.errors import InvalidInputError
from app.services.core.models import Generation, GenerationImage, Prompt
from app.services.generation.labels import model_label
from app.services.generation.metadata import GenerationMetadata, embed
from app.services.library.writes import create_prompt

GENERATED = "generated"
DIRECT_SOURCE = "JSON prompt"  # the title's source when the run was given a JSON prompt as is


def run_tag(generation_id: int) -> str:
    """The tag that finds every image of one run in the gallery."""
    return f"generation-{generation_id}"


def entry_title(session: Session, generation: Generation, image: GenerationImage) -> str:
    """ "Lighthouse · FLUX.1 [schnell] · 2/4": where it came from, what made it, which one."""
    source = session.get(Prompt, generation.prompt_id) if generation.prompt_id else None
    name = source.title if source is not None else DIRECT_SOURCE
    label = model_label(generation.model)
    return f"{name} · {label} · {image.position + 1}/{generation.n}"


def add_to_gallery(
    session: Session, *, generation: Generation, image: GenerationImage, asset_id: int
) -> int:
    """Create the entry for one done image and link the image to it. Flushes, never commits
    (the worker commits it with the image's status, so a run handed back leaves no half)."""
    assert generation.id is not None
    data: dict[str, Any] = dict(generation.prompt_data)
    tags = [str(t) for t in data.get("tags", []) if isinstance(t, str)]
    prompt = create_prompt(
        session,
        owner_id=generation.user_id,
        title=entry_title(session, generation, image),
        data=data,
        asset_id=asset_id,
        model=generation.model,
        style=_style(data),
        visibility="private",
        tags=[*tags, run_tag(generation.id)],
        message="Generated",
        origin=GENERATED,
    )
    assert prompt.id is not None
    image.gallery_prompt_id = prompt.id
    session.add(image)
    session.flush()
    return prompt.id


def embed_restorable(image: bytes, metadata: GenerationMetadata, prompt: dict[str, Any]) -> bytes:
    """`image` with `metadata` and the canonical JSON prompt inside, so an import restores it.
    A JPEG or WebP has room for about 64 KB of details: when the JSON would not fit beside the
    text sent, the file keeps what reproduces the image (the sent prompt) without it."""
    try:
        return embed(image, _with_prompt(metadata, prompt))
    except InvalidInputError:
        return embed(image, metadata)


def _with_prompt(metadata: GenerationMetadata, prompt: dict[str, Any]) -> GenerationMetadata:
    return replace(metadata, prompt_data=dict(prompt))


def _style(data: dict[str, Any]) -> str:
    # As the analyzer saves it: the style's medium is what the gallery's style filter matches.
    style = data.get("style")
    return str(style.get("medium", "") if isinstance(style, dict) else "")[:120]

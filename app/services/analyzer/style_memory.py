"""Style memory (RAG): the saved prompts most similar to a new image or request.

Embeddings of each prompt's prose live in `prompt_embeddings`. Similarity is computed in
numpy over the viewer's own and public prompts: fine for tens of thousands of rows; a vector
index (pgvector, sqlite-vec) is the next step beyond that.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.services.analyzer import embeddings
from app.services.core.models import Prompt, PromptEmbedding, PromptVersion, utcnow
from app.services.library.prompts import render_prose

MODEL_NAME = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Example:
    prompt_id: int
    title: str
    score: float
    data: dict[str, Any]


def index_prompt(session: Session, *, prompt_id: int, data: dict[str, Any]) -> None:
    """(Re)compute the embedding of a prompt's prose, skipping unchanged text."""
    text = render_prose(data)
    digest = hashlib.sha256(text.encode()).hexdigest()
    row = session.get(PromptEmbedding, prompt_id)
    if row is not None and row.text_hash == digest:
        return
    vector = embeddings.to_bytes(embeddings.embed_one(text))
    if row is None:
        try:
            # Two "similar prompts" lookups of a new copy can both get here; UNIQUE stops one.
            with session.begin_nested():
                session.add(
                    PromptEmbedding(
                        prompt_id=prompt_id, model=MODEL_NAME, vector=vector, text_hash=digest
                    )
                )
            return
        except IntegrityError:
            row = session.get(PromptEmbedding, prompt_id, populate_existing=True)
            if row is None:  # the other writer's row is gone again: nothing left to race
                raise
    row.vector, row.text_hash, row.updated_at = vector, digest, utcnow()
    session.add(row)
    session.flush()


def refresh_embeddings(session: Session, *, limit: int = 200) -> int:
    """Embed live prompts that have no embedding yet, or changed since theirs was computed.

    Saving a prompt doesn't embed it (that costs ~0.2 s of CPU); the maintenance job calls this
    so "similar prompts" catches up within minutes. Returns how many were looked at.
    """
    rows = session.exec(
        select(Prompt.id, PromptVersion.data)
        .join(PromptVersion, col(PromptVersion.id) == col(Prompt.current_version_id))
        .join(PromptEmbedding, col(PromptEmbedding.prompt_id) == col(Prompt.id), isouter=True)
        .where(
            col(Prompt.deleted_at).is_(None),
            or_(
                col(PromptEmbedding.prompt_id).is_(None),
                col(Prompt.updated_at) > col(PromptEmbedding.updated_at),
            ),
        )
        .order_by(col(Prompt.updated_at).desc())
        .limit(limit)
    ).all()
    for prompt_id, data in rows:
        assert prompt_id is not None
        index_prompt(session, prompt_id=prompt_id, data=dict(data))
        # Stamp it even when the prose was unchanged (a rating, say), or it would be re-read
        # on every run and crowd out prompts that really need embedding.
        row = session.get(PromptEmbedding, prompt_id)
        if row is not None:
            row.updated_at = utcnow()
            session.add(row)
    session.flush()
    return len(rows)


def nearest(
    session: Session,
    *,
    vector: embeddings.Vector,
    viewer_id: int | None,
    k: int,
    exclude: set[int] | None = None,
) -> list[tuple[int, float]]:
    """(prompt id, cosine score) of the k visible, live prompts closest to `vector`."""
    visible = col(Prompt.visibility) == "public"
    if viewer_id is not None:
        visible = or_(visible, col(Prompt.owner_id) == viewer_id)
    rows = session.exec(
        select(PromptEmbedding.prompt_id, PromptEmbedding.vector)
        .join(Prompt, col(Prompt.id) == col(PromptEmbedding.prompt_id))
        .where(visible, col(Prompt.deleted_at).is_(None))
    ).all()
    rows = [r for r in rows if r[0] not in (exclude or set())]
    if not rows:
        return []
    matrix = np.stack([embeddings.from_bytes(v) for _, v in rows])
    scores = matrix @ vector
    return [(int(rows[int(i)][0]), float(scores[int(i)])) for i in np.argsort(-scores)[:k]]


def similar_prompts(
    session: Session,
    *,
    query: str,
    viewer_id: int | None,
    k: int = 3,
    exclude: set[int] | None = None,
) -> list[Example]:
    if not query.strip():
        return []
    ranked = nearest(
        session, vector=embeddings.embed_one(query), viewer_id=viewer_id, k=k, exclude=exclude
    )
    out: list[Example] = []
    for prompt_id, score in ranked:
        prompt = session.get(Prompt, prompt_id)
        version = session.get(PromptVersion, prompt.current_version_id) if prompt else None
        if prompt is None or version is None:
            continue
        out.append(Example(prompt_id, prompt.title, score, dict(version.data)))
    return out


def similar_to_prompt(
    session: Session, *, prompt_id: int, viewer_id: int | None, k: int = 6
) -> list[tuple[int, float]]:
    """Prompts closest to a saved one. Its own embedding is refreshed first (a no-op when the
    prose is unchanged), so a just-edited prompt is compared as it reads now."""
    prompt = session.get(Prompt, prompt_id)
    version = session.get(PromptVersion, prompt.current_version_id) if prompt else None
    if version is None:
        return []
    index_prompt(session, prompt_id=prompt_id, data=dict(version.data))
    row = session.get(PromptEmbedding, prompt_id)
    if row is None:
        return []
    return nearest(
        session,
        vector=embeddings.from_bytes(row.vector),
        viewer_id=viewer_id,
        k=k,
        exclude={prompt_id},
    )


def examples_block(examples: list[Example]) -> str:
    """The examples as they go into a system prompt: compact JSON, without bookkeeping."""
    parts = []
    for n, ex in enumerate(examples, 1):
        data = {k: v for k, v in ex.data.items() if k != "meta"}
        parts.append(f"Example {n} ({ex.title}):\n{json.dumps(data, ensure_ascii=False)}")
    return "\n\n".join(parts)

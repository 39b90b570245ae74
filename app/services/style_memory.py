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
from sqlmodel import Session, col, select

from app.services import embeddings
from app.services.models import Prompt, PromptEmbedding, PromptVersion, utcnow
from app.services.prompts import render_prose

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
        row = PromptEmbedding(
            prompt_id=prompt_id, model=MODEL_NAME, vector=vector, text_hash=digest
        )
    else:
        row.vector, row.text_hash, row.updated_at = vector, digest, utcnow()
    session.add(row)
    session.flush()


def similar_prompts(
    session: Session,
    *,
    query: str,
    viewer_id: int | None,
    k: int = 3,
    exclude: set[int] | None = None,
) -> list[Example]:
    visible = col(Prompt.visibility) == "public"
    if viewer_id is not None:
        visible = or_(visible, col(Prompt.owner_id) == viewer_id)
    rows = session.exec(
        select(PromptEmbedding.prompt_id, PromptEmbedding.vector)
        .join(Prompt, col(Prompt.id) == col(PromptEmbedding.prompt_id))
        .where(visible, col(Prompt.deleted_at).is_(None))
    ).all()
    rows = [r for r in rows if r[0] not in (exclude or set())]
    if not rows or not query.strip():
        return []
    matrix = np.stack([embeddings.from_bytes(v) for _, v in rows])
    scores = matrix @ embeddings.embed_one(query)
    best = np.argsort(-scores)[:k]
    out: list[Example] = []
    for i in best:
        prompt_id = int(rows[int(i)][0])
        prompt = session.get(Prompt, prompt_id)
        version = session.get(PromptVersion, prompt.current_version_id) if prompt else None
        if prompt is None or version is None:
            continue
        out.append(Example(prompt_id, prompt.title, float(scores[int(i)]), dict(version.data)))
    return out


def examples_block(examples: list[Example]) -> str:
    """The examples as they go into a system prompt: compact JSON, without bookkeeping."""
    parts = []
    for n, ex in enumerate(examples, 1):
        data = {k: v for k, v in ex.data.items() if k != "meta"}
        parts.append(f"Example {n} ({ex.title}):\n{json.dumps(data, ensure_ascii=False)}")
    return "\n\n".join(parts)

"""Helpers every prompt operation shares: bulk limits, loading checked prompts, small reads."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from app.services.core.errors import InvalidInputError, NotFoundError
from app.services.core.models import (
    Prompt,
    PromptTag,
    PromptVersion,
    Tag,
    User,
    utcnow,
)
from app.services.core.storage import Storage
from app.services.library.access import (
    load_prompt,
)

MAX_BULK = 500
MAX_BULK_TAGS = 20


def touch(session: Session, prompt: Prompt) -> Prompt:
    prompt.updated_at = utcnow()
    session.add(prompt)
    session.flush()
    return prompt


def load_many(
    session: Session, *, prompt_ids: Iterable[int], viewer: User, need: str
) -> list[Prompt]:
    ids = list(dict.fromkeys(prompt_ids))
    if len(ids) > MAX_BULK:
        raise InvalidInputError(f"Select at most {MAX_BULK} prompts at a time.")
    # All checks first: one forbidden id means nothing changes.
    return [load_prompt(session, prompt_id=i, viewer=viewer, need=need) for i in ids]


def current_version(session: Session, prompt: Prompt) -> PromptVersion:
    version = session.get(PromptVersion, prompt.current_version_id)
    if version is None:
        raise NotFoundError("That prompt has no versions.")
    return version


def tag_names(session: Session, prompt_id: int) -> list[str]:
    return list(
        session.exec(
            select(Tag.name)
            .join(PromptTag, col(PromptTag.tag_id) == col(Tag.id))
            .where(PromptTag.prompt_id == prompt_id)
            .order_by(col(Tag.name))
        ).all()
    )


def signed_url(storage: Storage | None, key: str | None) -> str:
    return storage.presigned_get_url(key) if storage is not None and key else ""

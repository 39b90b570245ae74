"""The trash: soft delete, restore, and purging what has been there long enough."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.services.core.models import (
    Analysis,
    Conversation,
    Prompt,
    PromptEmbedding,
    PromptTag,
    PromptVersion,
    User,
    utcnow,
)
from app.services.library import search
from app.services.library.access import (
    is_admin,
)
from app.services.library.prompt_ops.common import MAX_BULK, load_many


def trash(session: Session, *, prompt_ids: Iterable[int], viewer: User) -> int:
    """Move to the trash (soft delete). Returns how many were moved."""
    now = utcnow()
    moved = 0
    for prompt in load_many(session, prompt_ids=prompt_ids, viewer=viewer, need="manage"):
        if prompt.deleted_at is None:
            prompt.deleted_at = now
            session.add(prompt)
            moved += 1
    session.flush()
    return moved


def restore(session: Session, *, prompt_ids: Iterable[int], viewer: User) -> int:
    restored = 0
    for prompt in load_many(session, prompt_ids=prompt_ids, viewer=viewer, need="manage"):
        if prompt.deleted_at is not None:
            prompt.deleted_at = None
            session.add(prompt)
            restored += 1
    session.flush()
    return restored


def purge_trash(session: Session, *, viewer: User, older_than: timedelta = timedelta(0)) -> int:
    """Delete for good what has been in the trash longer than `older_than`.

    An owner empties their own trash; an admin (or the maintenance job acting as one) empties
    everyone's. Versions, tags, embeddings and the search entry go with the prompt; analyses and
    conversations that pointed at it are kept (they are billing history) and unlinked.
    """
    cutoff = utcnow() - older_than
    stmt = select(Prompt.id).where(
        col(Prompt.deleted_at).is_not(None), col(Prompt.deleted_at) <= cutoff
    )
    if not is_admin(viewer):
        stmt = stmt.where(Prompt.owner_id == viewer.id)
    ids = [int(i) for i in session.exec(stmt).all() if i is not None]
    for start in range(0, len(ids), MAX_BULK):
        chunk = ids[start : start + MAX_BULK]
        session.exec(
            update(Analysis).where(col(Analysis.prompt_id).in_(chunk)).values(prompt_id=None)
        )
        session.exec(
            update(Conversation)
            .where(col(Conversation.prompt_id).in_(chunk))
            .values(prompt_id=None)
        )
        # Explicit child deletes rather than trusting ON DELETE CASCADE: SQLite only honours
        # it when PRAGMA foreign_keys is on for that connection. MySQL checks foreign keys row
        # by row, so a version deleted before its child would fail: unlink the chain first.
        session.exec(
            update(PromptVersion)
            .where(col(PromptVersion.prompt_id).in_(chunk))
            .values(parent_id=None)
        )
        for child in (PromptTag, PromptEmbedding, PromptVersion):
            session.exec(delete(child).where(col(child.prompt_id).in_(chunk)))
        session.exec(delete(Prompt).where(col(Prompt.id).in_(chunk)))
        search.remove_from_search(session, prompt_ids=chunk)
    session.flush()
    return len(ids)

"""Tagging many prompts at once, and duplicating one."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.services.core.errors import InvalidInputError
from app.services.core.models import (
    Asset,
    Prompt,
    PromptTag,
    Tag,
    User,
)
from app.services.library import search
from app.services.library.access import (
    load_prompt,
)
from app.services.library.gallery import normalize_tag
from app.services.library.prompt_ops.common import (
    MAX_BULK_TAGS,
    current_version,
    load_many,
    tag_names,
    touch,
)
from app.services.library.writes import create_prompt, get_or_create_tags


def bulk_tag(
    session: Session,
    *,
    prompt_ids: Iterable[int],
    viewer: User,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
) -> int:
    """Add and remove gallery tags on many prompts. Returns how many prompts changed.

    These are the library's tags (filters, search); the `tags` inside a version's JSON are
    part of the prompt text and only change with a new version.
    """
    to_add = list(dict.fromkeys(n for n in (normalize_tag(t) for t in add) if n))
    to_remove = list(dict.fromkeys(n for n in (normalize_tag(t) for t in remove) if n))
    if len(to_add) + len(to_remove) > MAX_BULK_TAGS:
        raise InvalidInputError(f"Change at most {MAX_BULK_TAGS} tags at a time.")
    prompts = load_many(session, prompt_ids=prompt_ids, viewer=viewer, need="edit")
    add_ids = [t.id for t in get_or_create_tags(session, to_add) if t.id is not None]
    remove_ids = list(
        session.exec(select(Tag.id).where(col(Tag.name).in_(to_remove))).all() if to_remove else []
    )
    changed = 0
    for prompt in prompts:
        assert prompt.id is not None
        have = set(
            session.exec(select(PromptTag.tag_id).where(PromptTag.prompt_id == prompt.id)).all()
        )
        new = [t for t in add_ids if t not in have and t not in remove_ids]
        gone = [t for t in remove_ids if t in have]
        session.add_all(PromptTag(prompt_id=prompt.id, tag_id=t) for t in new)
        if gone:
            session.exec(
                delete(PromptTag).where(
                    col(PromptTag.prompt_id) == prompt.id, col(PromptTag.tag_id).in_(gone)
                )
            )
        if new or gone:
            changed += 1
            touch(session, prompt)
            search.index_for_search(session, prompt_id=prompt.id)
    session.flush()
    return changed


def duplicate(session: Session, *, prompt_id: int, viewer: User) -> Prompt:
    """A private copy of the current version, owned by the viewer, with the same tags.

    The image comes along only when the viewer owns it: someone else's upload must not end up
    in your library, where it would outlive their choice to make the original private.
    """
    source = load_prompt(session, prompt_id=prompt_id, viewer=viewer, need="view")
    assert source.id is not None and viewer.id is not None
    version = current_version(session, source)
    asset = session.get(Asset, source.asset_id) if source.asset_id else None
    return create_prompt(
        session,
        owner_id=viewer.id,
        title=f"Copy of {source.title}"[:200],
        data=dict(version.data),
        asset_id=asset.id if asset is not None and asset.owner_id == viewer.id else None,
        model=source.model,
        style=source.style,
        visibility="private",
        tags=tag_names(session, source.id),
        message=f"Duplicated from prompt {source.id}, version {version.number}",
    )

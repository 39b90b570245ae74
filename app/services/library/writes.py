"""Write side of the prompt library: create prompts with their first immutable version and tags.

Both writers refresh the prompt's full-text search document (search.index_for_search), so the
gallery's text filter never misses a new prompt or a new version. Permission checks live one
level up, in prompt_ops; these functions trust their caller.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.services.core.models import Prompt, PromptTag, PromptVersion, Tag, utcnow
from app.services.library.prompts import SCHEMA_VERSION, assert_valid_prompt
from app.services.library.search import index_for_search


def get_or_create_tags(session: Session, names: list[str]) -> list[Tag]:
    return [
        _tag_named(session, name)
        for name in dict.fromkeys(n.strip().lower()[:64] for n in names if n.strip())
    ]


def _tag_named(session: Session, name: str) -> Tag:
    """The tag, made when new. Two saves with the same new tag race to insert it (seen under
    load on PostgreSQL: the loser's whole save failed), so the insert runs in a savepoint and
    the loser takes the winner's row. FOR UPDATE reads it even under MySQL's snapshot reads."""
    tag = session.exec(select(Tag).where(Tag.name == name)).first()
    if tag is not None:
        return tag
    try:
        with session.begin_nested():
            tag = Tag(name=name)
            session.add(tag)
        return tag
    except IntegrityError:
        return session.exec(select(Tag).where(Tag.name == name).with_for_update()).one()


def create_prompt(
    session: Session,
    *,
    owner_id: int,
    title: str,
    data: dict[str, Any],
    asset_id: int | None = None,
    model: str = "",
    style: str = "",
    visibility: str = "private",
    tags: list[str] | None = None,
    message: str = "Created",
    origin: str = "analyzed",
) -> Prompt:
    """Validate, then store the prompt and its version 1. Nothing unvalidated is saved."""
    data = assert_valid_prompt(data)
    now = utcnow()
    prompt = Prompt(
        owner_id=owner_id,
        title=title.strip()[:200] or "Untitled prompt",
        asset_id=asset_id,
        model=model,
        style=style,
        visibility=visibility,
        origin=origin,
        created_at=now,
        updated_at=now,
    )
    session.add(prompt)
    session.flush()
    assert prompt.id is not None
    version = PromptVersion(
        prompt_id=prompt.id,
        number=1,
        data=data,
        schema_version=str(data.get("schema_version", SCHEMA_VERSION)),
        author_id=owner_id,
        message=message,
    )
    session.add(version)
    session.flush()
    prompt.current_version_id = version.id
    for tag in get_or_create_tags(
        session, tags if tags is not None else list(data.get("tags", []))
    ):
        assert tag.id is not None
        session.add(PromptTag(prompt_id=prompt.id, tag_id=tag.id))
    session.add(prompt)
    session.flush()
    index_for_search(session, prompt_id=prompt.id)
    return prompt


def add_version(
    session: Session,
    *,
    prompt_id: int,
    data: dict[str, Any],
    author_id: int,
    message: str = "",
) -> PromptVersion:
    """A new immutable version on top of the current one."""
    data = assert_valid_prompt(data)
    prompt = session.get(Prompt, prompt_id)
    if prompt is None:
        from app.services.core.errors import NotFoundError

        raise NotFoundError("That prompt no longer exists.")
    latest = session.exec(
        select(PromptVersion)
        .where(PromptVersion.prompt_id == prompt_id)
        .order_by(col(PromptVersion.number).desc())
    ).first()
    version = PromptVersion(
        prompt_id=prompt_id,
        number=(latest.number + 1) if latest else 1,
        data=data,
        schema_version=str(data.get("schema_version", SCHEMA_VERSION)),
        parent_id=prompt.current_version_id,
        author_id=author_id,
        message=message[:500],
    )
    session.add(version)
    session.flush()
    prompt.current_version_id = version.id
    prompt.updated_at = utcnow()
    session.add(prompt)
    session.flush()
    index_for_search(session, prompt_id=prompt_id)
    return version

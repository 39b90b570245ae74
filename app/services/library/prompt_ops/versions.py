"""Versions: immutable, saved optimistically (see the package docstring), reverted, listed."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from app.services.core.errors import NotFoundError, VersionConflictError
from app.services.core.models import (
    Prompt,
    PromptVersion,
    User,
)
from app.services.library.access import (
    load_prompt,
)
from app.services.library.gallery import latest_version
from app.services.library.prompt_ops.views import VersionSummary, VersionView
from app.services.library.writes import add_version


def save_version(
    session: Session,
    *,
    prompt_id: int,
    data: dict[str, Any],
    author: User,
    message: str = "",
    base_version: int,
) -> PromptVersion:
    """Save `data` as a new version on top of `base_version`, or raise VersionConflictError.

    Saving data identical to the latest version adds nothing and returns that version.
    """
    prompt = load_prompt(session, prompt_id=prompt_id, viewer=author, need="edit")
    # Lock the row while comparing (PostgreSQL; SQLite ignores FOR UPDATE and has one writer).
    session.exec(select(Prompt.id).where(Prompt.id == prompt_id).with_for_update()).first()
    latest = latest_version(session, prompt_id=prompt_id)
    if latest is None:
        raise NotFoundError("That prompt has no versions.")
    if latest.number != base_version:
        raise VersionConflictError(
            f"Someone saved version {latest.number} while you were editing version "
            f"{base_version}. Compare the changes, then save again on top of the latest.",
            current_version=latest.number,
            current_data=dict(latest.data),
        )
    if dict(latest.data) == data:
        return latest
    assert author.id is not None and prompt.id is not None
    return add_version(
        session, prompt_id=prompt.id, data=data, author_id=author.id, message=message[:500]
    )


def revert(
    session: Session,
    *,
    prompt_id: int,
    viewer: User,
    version_number: int,
    base_version: int | None = None,
) -> PromptVersion:
    """A new version equal to an old one (history is never rewritten)."""
    load_prompt(session, prompt_id=prompt_id, viewer=viewer, need="edit")
    old = _version(session, prompt_id=prompt_id, number=version_number)
    if base_version is None:
        latest = latest_version(session, prompt_id=prompt_id)
        base_version = latest.number if latest else 0
    return save_version(
        session,
        prompt_id=prompt_id,
        data=dict(old.data),
        author=viewer,
        message=f"Reverted to version {version_number}",
        base_version=base_version,
    )


def list_versions(session: Session, *, prompt_id: int, viewer: User | None) -> list[VersionSummary]:
    """Newest first."""
    prompt = load_prompt(session, prompt_id=prompt_id, viewer=viewer)
    rows = session.exec(
        select(PromptVersion, User)
        .join(User, col(User.id) == col(PromptVersion.author_id), isouter=True)
        .where(PromptVersion.prompt_id == prompt_id)
        .order_by(col(PromptVersion.number).desc())
    ).all()
    return [
        VersionSummary(
            id=v.id or 0,
            number=v.number,
            message=v.message,
            author_id=v.author_id,
            author=(u.display_name or u.email.split("@")[0]) if u else "",
            created_at=v.created_at,
            is_current=v.id == prompt.current_version_id,
        )
        for v, u in rows
    ]


def get_version(
    session: Session, *, prompt_id: int, viewer: User | None, number: int
) -> VersionView:
    load_prompt(session, prompt_id=prompt_id, viewer=viewer)
    v = _version(session, prompt_id=prompt_id, number=number)
    return VersionView(
        id=v.id or 0,
        number=v.number,
        message=v.message,
        author_id=v.author_id,
        created_at=v.created_at,
        schema_version=v.schema_version,
        data=dict(v.data),
    )


def _version(session: Session, *, prompt_id: int, number: int) -> PromptVersion:
    version = session.exec(
        select(PromptVersion).where(
            PromptVersion.prompt_id == prompt_id, PromptVersion.number == number
        )
    ).first()
    if version is None:
        raise NotFoundError(f"Version {number} of that prompt doesn't exist.")
    return version

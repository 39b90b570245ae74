"""Everything a person does to a saved prompt, each call checked on the server.

Who may do what (the rules themselves live in prompt_access.py):

- view (detail, versions, duplicate, similar): public prompts, your own; admins everything.
- edit (save_version, revert, rename, bulk_tag): owners their own prompts, editors any *public*
  prompt, admins all.
- manage (favourite, rating, visibility, share links, trash, restore, purge): owners and admins.

A prompt the viewer may not see is NotFoundError (ids reveal nothing); one they may see but not
change is PermissionDeniedError. Bulk calls are all-or-nothing: every id is checked before
anything is written.

Versions are immutable and saves are optimistic: `save_version` names the version it was based
on, and if someone saved in between it raises VersionConflictError carrying the server's latest
version instead of overwriting it. On PostgreSQL the prompt row is locked (SELECT ... FOR UPDATE)
while checking, so two simultaneous saves can't both pass; SQLite has a single writer anyway,
and the unique (prompt_id, number) constraint is the last guard on both.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from app.services.core.errors import InvalidInputError, NotFoundError, VersionConflictError
from app.services.core.models import (
    Analysis,
    Asset,
    Conversation,
    ConversationTurn,
    Prompt,
    PromptEmbedding,
    PromptTag,
    PromptVersion,
    Tag,
    User,
    utcnow,
)
from app.services.core.storage import Storage
from app.services.library import search
from app.services.library.access import (
    VISIBILITIES,
    can_edit,
    can_manage,
    is_admin,
    load_prompt,
)
from app.services.library.gallery import latest_version, normalize_tag
from app.services.library.writes import add_version, create_prompt, get_or_create_tags

MAX_BULK = 500
MAX_BULK_TAGS = 20
SHARE_TOKEN_BYTES = 24  # 32 URL-safe characters: unguessable, and short enough for a link


# --- views ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionSummary:
    id: int
    number: int
    message: str
    author_id: int | None
    author: str
    created_at: datetime
    is_current: bool


@dataclass(frozen=True)
class VersionView:
    id: int
    number: int
    message: str
    author_id: int | None
    created_at: datetime
    schema_version: str
    data: dict[str, Any]


@dataclass(frozen=True)
class AnalysisView:
    """One model call that produced or refined the prompt, with its reasoning for replay."""

    id: int
    kind: str
    provider: str
    model: str
    status: str
    reasoning: str
    created_at: datetime
    latency_ms: int | None
    cost_credits: int


@dataclass(frozen=True)
class PromptDetail:
    prompt: Prompt
    data: dict[str, Any]
    current_version: int
    versions: list[VersionSummary]
    tags: list[str]
    asset: Asset | None
    image_url: str
    thumbnail_url: str
    analyses: list[AnalysisView]  # oldest first
    origin: AnalysisView | None  # the analysis that made the prompt, when one did
    conversation_id: int | None
    can_edit: bool
    can_manage: bool


@dataclass(frozen=True)
class SharedPrompt:
    """What a share link shows: read-only, and nothing about the owner beyond a display name."""

    title: str
    author: str
    data: dict[str, Any]
    version: int
    tags: list[str]
    updated_at: datetime
    image_url: str
    width: int
    height: int


# --- small owner decisions ----------------------------------------------------------------------


def set_favorite(session: Session, *, prompt_id: int, viewer: User, favorite: bool) -> Prompt:
    prompt = load_prompt(session, prompt_id=prompt_id, viewer=viewer, need="manage")
    prompt.is_favorite = favorite
    return _touch(session, prompt)


def set_rating(session: Session, *, prompt_id: int, viewer: User, rating: int | None) -> Prompt:
    """1 to 5 stars, or None to clear."""
    if rating is not None and (isinstance(rating, bool) or rating not in range(1, 6)):
        raise InvalidInputError("A rating is a whole number of stars from 1 to 5.")
    prompt = load_prompt(session, prompt_id=prompt_id, viewer=viewer, need="manage")
    prompt.rating = rating
    return _touch(session, prompt)


def set_visibility(session: Session, *, prompt_id: int, viewer: User, visibility: str) -> Prompt:
    if visibility not in VISIBILITIES:
        raise InvalidInputError('Visibility is "private" or "public".')
    prompt = load_prompt(session, prompt_id=prompt_id, viewer=viewer, need="manage")
    prompt.visibility = visibility
    return _touch(session, prompt)


def rename(session: Session, *, prompt_id: int, viewer: User, title: str) -> Prompt:
    title = " ".join(title.split())[:200]
    if not title:
        raise InvalidInputError("A prompt needs a title.")
    prompt = load_prompt(session, prompt_id=prompt_id, viewer=viewer, need="edit")
    prompt.title = title
    _touch(session, prompt)
    search.index_for_search(session, prompt_id=prompt_id)
    return prompt


def _touch(session: Session, prompt: Prompt) -> Prompt:
    prompt.updated_at = utcnow()
    session.add(prompt)
    session.flush()
    return prompt


# --- share links ------------------------------------------------------------------------------


def create_share_link(session: Session, *, prompt_id: int, viewer: User) -> str:
    """The prompt's read-only share token, made on first use. Revoke, then create, to rotate."""
    prompt = load_prompt(session, prompt_id=prompt_id, viewer=viewer, need="manage")
    if prompt.share_token is None:
        prompt.share_token = secrets.token_urlsafe(SHARE_TOKEN_BYTES)
        _touch(session, prompt)
    return prompt.share_token


def revoke_share_link(session: Session, *, prompt_id: int, viewer: User) -> None:
    prompt = load_prompt(session, prompt_id=prompt_id, viewer=viewer, need="manage")
    if prompt.share_token is not None:
        prompt.share_token = None
        _touch(session, prompt)


def get_shared(session: Session, *, token: str, storage: Storage | None = None) -> SharedPrompt:
    """No sign-in needed: the token is the permission. Trashed prompts' links stop working."""
    # Only well-formed tokens reach the database; anything else is the same "not found".
    if not token or len(token) > 64 or not all(c.isalnum() or c in "-_" for c in token):
        raise NotFoundError("That share link doesn't exist or was turned off.")
    prompt = session.exec(select(Prompt).where(Prompt.share_token == token)).first()
    if prompt is None or prompt.deleted_at is not None or prompt.id is None:
        raise NotFoundError("That share link doesn't exist or was turned off.")
    version = session.get(PromptVersion, prompt.current_version_id)
    owner = session.get(User, prompt.owner_id)
    asset = session.get(Asset, prompt.asset_id) if prompt.asset_id else None
    return SharedPrompt(
        title=prompt.title,
        author=(owner.display_name or owner.email.split("@")[0]) if owner else "",
        data=dict(version.data) if version else {},
        version=version.number if version else 0,
        tags=_tag_names(session, prompt.id),
        updated_at=prompt.updated_at,
        image_url=_url(storage, asset.storage_key if asset else None),
        width=asset.width if asset else 0,
        height=asset.height if asset else 0,
    )


# --- trash ------------------------------------------------------------------------------------


def _load_many(
    session: Session, *, prompt_ids: Iterable[int], viewer: User, need: str
) -> list[Prompt]:
    ids = list(dict.fromkeys(prompt_ids))
    if len(ids) > MAX_BULK:
        raise InvalidInputError(f"Select at most {MAX_BULK} prompts at a time.")
    # All checks first: one forbidden id means nothing changes.
    return [load_prompt(session, prompt_id=i, viewer=viewer, need=need) for i in ids]


def trash(session: Session, *, prompt_ids: Iterable[int], viewer: User) -> int:
    """Move to the trash (soft delete). Returns how many were moved."""
    now = utcnow()
    moved = 0
    for prompt in _load_many(session, prompt_ids=prompt_ids, viewer=viewer, need="manage"):
        if prompt.deleted_at is None:
            prompt.deleted_at = now
            session.add(prompt)
            moved += 1
    session.flush()
    return moved


def restore(session: Session, *, prompt_ids: Iterable[int], viewer: User) -> int:
    restored = 0
    for prompt in _load_many(session, prompt_ids=prompt_ids, viewer=viewer, need="manage"):
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
        # it when PRAGMA foreign_keys is on for that connection.
        for child in (PromptTag, PromptEmbedding, PromptVersion):
            session.exec(delete(child).where(col(child.prompt_id).in_(chunk)))
        session.exec(delete(Prompt).where(col(Prompt.id).in_(chunk)))
        search.remove_from_search(session, prompt_ids=chunk)
    session.flush()
    return len(ids)


# --- tags, duplicates -------------------------------------------------------------------------


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
    prompts = _load_many(session, prompt_ids=prompt_ids, viewer=viewer, need="edit")
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
            _touch(session, prompt)
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
    version = _current(session, source)
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
        tags=_tag_names(session, source.id),
        message=f"Duplicated from prompt {source.id}, version {version.number}",
    )


# --- versions ---------------------------------------------------------------------------------


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


def _current(session: Session, prompt: Prompt) -> PromptVersion:
    version = session.get(PromptVersion, prompt.current_version_id)
    if version is None:
        raise NotFoundError("That prompt has no versions.")
    return version


# --- the prompt page --------------------------------------------------------------------------


def get_prompt_detail(
    session: Session, *, prompt_id: int, viewer: User | None, storage: Storage | None = None
) -> PromptDetail:
    """Everything the prompt page shows. Pass `storage` to get image URLs."""
    prompt = load_prompt(session, prompt_id=prompt_id, viewer=viewer)
    assert prompt.id is not None
    version = _current(session, prompt)
    asset = session.get(Asset, prompt.asset_id) if prompt.asset_id else None
    analyses = _analyses(session, prompt_id=prompt.id)
    origin = next((a for a in analyses if a.kind == "describe" and a.status == "done"), None)
    conversation_id = session.exec(
        select(Conversation.id).where(Conversation.prompt_id == prompt.id)
    ).first()
    return PromptDetail(
        prompt=prompt,
        data=dict(version.data),
        current_version=version.number,
        versions=list_versions(session, prompt_id=prompt.id, viewer=viewer),
        tags=_tag_names(session, prompt.id),
        asset=asset,
        image_url=_url(storage, asset.storage_key if asset else None),
        thumbnail_url=_url(storage, asset.thumbnail_key if asset else None),
        analyses=analyses,
        origin=origin or (analyses[0] if analyses else None),
        conversation_id=conversation_id,
        can_edit=can_edit(viewer, prompt),
        can_manage=can_manage(viewer, prompt),
    )


def _analyses(session: Session, *, prompt_id: int) -> list[AnalysisView]:
    """Analyses stamped with this prompt, plus those of the chat that saved it (older rows were
    saved before conversations.save_to_gallery stamped them)."""
    via_chat = (
        select(ConversationTurn.analysis_id)
        .join(Conversation, col(Conversation.id) == col(ConversationTurn.conversation_id))
        .where(Conversation.prompt_id == prompt_id)
    )
    rows = session.exec(
        select(Analysis)
        .where(or_(col(Analysis.prompt_id) == prompt_id, col(Analysis.id).in_(via_chat)))
        .order_by(col(Analysis.created_at), col(Analysis.id))
    ).all()
    return [
        AnalysisView(
            id=a.id or 0,
            kind=a.kind,
            provider=a.provider,
            model=a.model,
            status=a.status,
            reasoning=a.reasoning,
            created_at=a.created_at,
            latency_ms=a.latency_ms,
            cost_credits=a.cost_credits,
        )
        for a in rows
    ]


def _tag_names(session: Session, prompt_id: int) -> list[str]:
    return list(
        session.exec(
            select(Tag.name)
            .join(PromptTag, col(PromptTag.tag_id) == col(Tag.id))
            .where(PromptTag.prompt_id == prompt_id)
            .order_by(col(Tag.name))
        ).all()
    )


def _url(storage: Storage | None, key: str | None) -> str:
    return storage.presigned_get_url(key) if storage is not None and key else ""


__all__ = [
    "AnalysisView",
    "PromptDetail",
    "SharedPrompt",
    "VersionSummary",
    "VersionView",
    "bulk_tag",
    "create_share_link",
    "duplicate",
    "get_prompt_detail",
    "get_shared",
    "get_version",
    "list_versions",
    "purge_trash",
    "rename",
    "restore",
    "revert",
    "revoke_share_link",
    "save_version",
    "set_favorite",
    "set_rating",
    "set_visibility",
    "trash",
]

"""Share links: an unguessable token that shows one prompt read-only to anyone holding it."""

from __future__ import annotations

import secrets

from sqlmodel import Session, select

from app.services.core.errors import NotFoundError
from app.services.core.models import (
    Asset,
    Prompt,
    PromptVersion,
    User,
)
from app.services.core.storage import Storage
from app.services.library.access import (
    load_prompt,
)
from app.services.library.prompt_ops.common import signed_url, tag_names, touch
from app.services.library.prompt_ops.views import SharedPrompt

SHARE_TOKEN_BYTES = 24  # 32 URL-safe characters: unguessable, and short enough for a link


def create_share_link(session: Session, *, prompt_id: int, viewer: User) -> str:
    """The prompt's read-only share token, made on first use. Revoke, then create, to rotate."""
    prompt = load_prompt(session, prompt_id=prompt_id, viewer=viewer, need="manage")
    if prompt.share_token is None:
        prompt.share_token = secrets.token_urlsafe(SHARE_TOKEN_BYTES)
        touch(session, prompt)
    return prompt.share_token


def revoke_share_link(session: Session, *, prompt_id: int, viewer: User) -> None:
    prompt = load_prompt(session, prompt_id=prompt_id, viewer=viewer, need="manage")
    if prompt.share_token is not None:
        prompt.share_token = None
        touch(session, prompt)


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
        tags=tag_names(session, prompt.id),
        updated_at=prompt.updated_at,
        image_url=signed_url(storage, asset.storage_key if asset else None),
        width=asset.width if asset else 0,
        height=asset.height if asset else 0,
    )

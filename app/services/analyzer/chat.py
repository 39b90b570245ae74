"""The analyzer chat's workflows: start a conversation on an image, reload one, record a turn.

Each function runs in one transaction of its own (the state calls them off the event loop)
and returns small frozen values the page can show; the checks on who owns what live here,
not in the state.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlmodel import Session

from app.services.analyzer import conversations
from app.services.analyzer.analysis import Update
from app.services.analyzer.conversations import TurnView
from app.services.analyzer.providers import ImageInput
from app.services.core.db import session_scope
from app.services.core.models import Asset
from app.services.core.storage import Storage, get_storage
from app.services.images.intake import ingest_image
from app.services.images.ownership import owned_asset

SENT_IMAGE_GONE = "That image is not available: send it from the studio again."
IMAGE_GONE = "That image is no longer available."


@dataclass(frozen=True)
class ChatImage:
    """The image a conversation is about, as its first bubble shows it."""

    url: str
    name: str
    size: str


@dataclass(frozen=True)
class StartedChat:
    conversation_id: int
    asset_id: int
    image: ChatImage


@dataclass(frozen=True)
class LoadedChat:
    asset_id: int | None
    prompt_id: int | None
    image: ChatImage | None  # None when the conversation has no image (or it was purged)
    turns: list[TurnView]


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    title: str
    when: str


def _shown(asset: Asset, storage: Storage) -> ChatImage:
    return ChatImage(
        url=storage.presigned_get_url(asset.thumbnail_key or asset.storage_key),
        name=asset.original_filename,
        size=f"{asset.width} × {asset.height}",
    )


def _start_on(
    session: Session, asset: Asset, *, user_id: int, model: str, storage: Storage
) -> StartedChat:
    assert asset.id is not None
    conversation = conversations.start(
        session, user_id=user_id, asset_id=asset.id, model=model, title=asset.original_filename
    )
    conversations.add_turn(
        session, conversation=conversation, role="user", text=asset.original_filename
    )
    assert conversation.id is not None
    return StartedChat(
        conversation_id=conversation.id, asset_id=asset.id, image=_shown(asset, storage)
    )


def start_from_upload(*, user_id: int, stream: BinaryIO, filename: str, model: str) -> StartedChat:
    """A dropped file: checked and stored as the person's image, then a conversation on it."""
    storage = get_storage()
    with session_scope() as session:
        asset = ingest_image(
            session=session, storage=storage, owner_id=user_id, stream=stream, filename=filename
        )
        return _start_on(session, asset, user_id=user_id, model=model, storage=storage)


def start_from_asset(*, user_id: int, asset_id: int, model: str) -> StartedChat:
    """An image the person already owns (sent here from the studio)."""
    storage = get_storage()
    with session_scope() as session:
        asset = owned_asset(session, user_id=user_id, asset_id=asset_id, not_found=SENT_IMAGE_GONE)
        return _start_on(session, asset, user_id=user_id, model=model, storage=storage)


def image_input(*, user_id: int, asset_id: int) -> ImageInput:
    """The bytes of the person's image, for the model to describe."""
    with session_scope() as session:
        asset = owned_asset(session, user_id=user_id, asset_id=asset_id, not_found=IMAGE_GONE)
        key, mime = asset.storage_key, asset.mime_type
    return ImageInput(data=get_storage().read_bytes(key), mime_type=mime)


def record_turn(
    *,
    user_id: int,
    conversation_id: int,
    role: str,
    text: str,
    analysis_id: int | None = None,
    data: dict[str, Any] | None = None,
    examples: list[int] | None = None,
) -> None:
    with session_scope() as session:
        conversation = conversations.owned(
            session, user_id=user_id, conversation_id=conversation_id
        )
        conversations.add_turn(
            session,
            conversation=conversation,
            role=role,
            text=text,
            analysis_id=analysis_id,
            data=data,
            examples=examples,
        )


def save(*, user_id: int, conversation_id: int) -> tuple[int, int]:
    """The latest prompt into the gallery: (prompt id, version number)."""
    with session_scope() as session:
        return conversations.save_to_gallery(
            session, user_id=user_id, conversation_id=conversation_id
        )


def history(*, user_id: int) -> list[HistoryEntry]:
    with session_scope() as session:
        return [
            HistoryEntry(
                id=c.id or 0,
                title=c.title or "Untitled",
                when=c.updated_at.strftime("%d %b, %H:%M"),
            )
            for c in conversations.recent(session, user_id=user_id)
        ]


def reload(*, user_id: int, conversation_id: int) -> LoadedChat:
    """One of the person's conversations, turn by turn; someone else's is not found."""
    storage = get_storage()
    with session_scope() as session:
        conversation = conversations.owned(
            session, user_id=user_id, conversation_id=conversation_id
        )
        asset = session.get(Asset, conversation.asset_id) if conversation.asset_id else None
        return LoadedChat(
            asset_id=conversation.asset_id,
            prompt_id=conversation.prompt_id,
            image=_shown(asset, storage) if asset else None,
            turns=conversations.turns(session, conversation=conversation),
        )


@dataclass
class AnswerSoFar:
    """An answer as the thread shows it while it streams: folded from the analysis' updates."""

    reasoning: str = ""
    partial: dict[str, Any] | None = None
    examples: list[str] | None = None  # titles of the gallery examples used; set by "started"
    final: Update | None = None  # the result or the error, once it came


async def follow(
    updates: AsyncGenerator[Update, None], *, interval: float
) -> AsyncIterator[AnswerSoFar]:
    """Fold `updates` into one AnswerSoFar, yielded at most once per `interval` seconds (a
    browser needs no more), and always for "started" and for the final update.

    Closes `updates` when done or when the caller stops early (use contextlib.aclosing), so
    a stopped analysis ends at once.
    """
    answer, last = AnswerSoFar(), 0.0
    try:
        async for update in updates:
            if update.kind == "reasoning":
                answer.reasoning += update.text
            elif update.kind == "partial":
                answer.partial = update.data
            elif update.kind == "started":
                answer.examples = [e.title for e in update.examples]
            else:
                answer.final = update
            now = time.monotonic()
            if update.kind in ("started", "result", "error") or now - last >= interval:
                last = now
                yield answer
    finally:
        await updates.aclose()

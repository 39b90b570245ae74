"""Describe image files one by one, and optionally save each to an account's gallery.

The command line's `analyze A.jpg B.jpg … --save`. Each file goes through the same checks as an
upload, the same analysis (credits reserved, committed or refunded per image by run_analysis)
and, when saved, the same records the analyzer's "Save to gallery" makes: the image stored as
the owner's asset, a conversation of two turns, prompt version 1. One bad file is a message for
that file, never the end of the batch.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import select

from app.services.analyzer import conversations
from app.services.analyzer.analysis import Update, run_analysis
from app.services.analyzer.providers import ImageInput
from app.services.core.db import session_scope
from app.services.core.errors import NotFoundError, UserFacingError
from app.services.core.models import Analysis, User
from app.services.core.storage import get_storage
from app.services.images.intake import ingest_image, sniff_image

MAX_TAGS = 50  # the prompt schema's maxItems for "tags"


@dataclass(frozen=True)
class Described:
    """One file's outcome: the prompt (and its gallery id when saved), or a readable error."""

    file: str
    prompt: dict[str, Any] | None = None
    prompt_id: int | None = None
    error: str | None = None


def batch_tag(now: datetime) -> str:
    """The tag a saved batch is found by: to the second, so two runs in a day stay apart."""
    return now.strftime("batch-%Y%m%d-%H%M%S")


def find_owner_id(email: str) -> int:
    """The id of the account with this email, else NotFoundError (a message for the user)."""
    with session_scope() as session:
        user = session.exec(select(User).where(User.email == email.strip().lower())).first()
        if user is None or user.id is None:
            raise NotFoundError(f"No account with the email {email}.")
        return user.id


def _read(path: Path) -> ImageInput:
    if path.is_dir():
        raise UserFacingError("that is a folder, not an image file")
    if not path.is_file():
        raise NotFoundError("no such file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UserFacingError(f"the file could not be read ({e.strerror or 'unreadable'})") from e
    # Refuses non-images, bombs and truncated files with a clear message, before any credit moves.
    return ImageInput(data=data, mime_type=sniff_image(data))


async def _analyse(
    image: ImageInput, *, model_id: str, owner_id: int | None, instructions: str
) -> Update:
    result: Update | None = None
    async for update in run_analysis(
        kind="describe",
        model_id=model_id,
        user_id=owner_id,
        image=image,
        instructions=instructions,
        use_memory=False,
    ):
        if update.kind == "error":
            raise UserFacingError(update.text)
        if update.kind == "result":
            result = update
    if result is None or not result.data:
        raise UserFacingError("the analysis did not finish")
    return result


def _with_tag(data: dict[str, Any], tag: str) -> dict[str, Any]:
    # The gallery's tags are the prompt's own "tags": the batch tag goes in there, within the
    # schema's limit, so editing the prompt later keeps it.
    kept = [t for t in data.get("tags", []) if t != tag][: MAX_TAGS - 1]
    return {**data, "tags": [*kept, tag]}


def _save(*, owner_id: int, path: Path, image: ImageInput, result: Update, tag: str) -> int:
    """Store the image and the prompt in one transaction: both land, or neither does."""
    assert result.data is not None and result.analysis_id is not None
    data = _with_tag(result.data, tag)
    with session_scope() as session:
        asset = ingest_image(
            session=session,
            storage=get_storage(),
            owner_id=owner_id,
            stream=io.BytesIO(image.data),
            filename=path.name,
        )
        assert asset.id is not None
        analysis = session.get(Analysis, result.analysis_id)
        model = analysis.model if analysis is not None else ""
        if analysis is not None:
            analysis.asset_id = asset.id
            session.add(analysis)
        conversation = conversations.start(
            session, user_id=owner_id, asset_id=asset.id, model=model, title=path.name
        )
        conversations.add_turn(session, conversation=conversation, role="user", text=path.name)
        conversations.add_turn(
            session,
            conversation=conversation,
            role="assistant",
            text="",
            analysis_id=result.analysis_id,
            data=data,
            examples=[],
        )
        assert conversation.id is not None
        prompt_id, _version = conversations.save_to_gallery(
            session, user_id=owner_id, conversation_id=conversation.id
        )
        return prompt_id


async def describe_file(
    path: Path,
    *,
    model_id: str,
    owner_id: int | None,
    instructions: str = "",
    save_tag: str | None = None,
) -> Described:
    """Describe one file; with `save_tag` (and an owner) save it to the owner's gallery.

    With an owner, a paid model charges that account; without one nothing is charged, as
    for the single-image command. Never raises a UserFacingError: it becomes `error`."""
    name = str(path)
    try:
        image = await asyncio.to_thread(_read, path)
        result = await _analyse(
            image, model_id=model_id, owner_id=owner_id, instructions=instructions
        )
        assert result.data is not None
        if save_tag is None or owner_id is None:
            return Described(file=name, prompt=result.data)
        prompt_id = await asyncio.to_thread(
            _save, owner_id=owner_id, path=path, image=image, result=result, tag=save_tag
        )
        return Described(file=name, prompt=_with_tag(result.data, save_tag), prompt_id=prompt_id)
    except UserFacingError as e:
        return Described(file=name, error=e.message)

"""Describe an image the person owns with the offline analyzer and save it to their gallery.

The studio's "Describe into the gallery" on a job's output: the same conversation and gallery
records the analyzer chat makes, so the prompt's page can replay how it was made. A job's
"Describe as JSON prompts" step (jobs/describe_step.py) saves through `save_description` too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from app.services.analyzer import conversations
from app.services.analyzer.analysis import Update, run_analysis
from app.services.analyzer.providers import ImageInput
from app.services.analyzer.providers.local import LOCAL_MODEL_ID
from app.services.core.db import session_scope
from app.services.core.errors import UserFacingError
from app.services.core.models import PromptTag
from app.services.core.storage import get_storage
from app.services.images.ownership import owned_asset
from app.services.library.writes import get_or_create_tags

IMAGE_GONE = "That image is no longer available."


async def describe_into_gallery(*, user_id: int, asset_id: int, label: str) -> int:
    """Describe the image and save the prompt as a new gallery prompt; returns its id.

    `label` names the image in messages ("photo.webp: the description did not finish.").
    Someone else's image, or one that expired, is NotFoundError; a failed description is a
    UserFacingError carrying the analyzer's own words."""
    image, title = await asyncio.to_thread(_read_owned, user_id, asset_id)
    result: Update | None = None
    async for update in run_analysis(
        kind="describe",
        model_id=LOCAL_MODEL_ID,
        user_id=user_id,
        image=image,
        asset_id=asset_id,
        use_memory=False,
    ):
        if update.kind == "error":
            raise UserFacingError(f"{label}: {update.text}")
        if update.kind == "result":
            result = update
    if result is None or not result.data:
        raise UserFacingError(f"{label}: the description did not finish.")
    return await asyncio.to_thread(_save, user_id, asset_id, title, result)


def _read_owned(user_id: int, asset_id: int) -> tuple[ImageInput, str]:
    with session_scope() as session:
        asset = owned_asset(session, user_id=user_id, asset_id=asset_id, not_found=IMAGE_GONE)
        key, mime, title = asset.storage_key, asset.mime_type, asset.original_filename
    return ImageInput(data=get_storage().read_bytes(key), mime_type=mime), title


def _save(user_id: int, asset_id: int, title: str, result: Update) -> int:
    with session_scope() as session:
        assert result.data is not None
        return save_description(
            session,
            user_id=user_id,
            asset_id=asset_id,
            title=title,
            model_id=LOCAL_MODEL_ID,
            analysis_id=result.analysis_id,
            data=result.data,
        )


def save_description(
    session: Session,
    *,
    user_id: int,
    asset_id: int,
    title: str,
    model_id: str,
    analysis_id: int | None,
    data: dict[str, Any],
    tags: Sequence[str] = (),
) -> int:
    """A conversation of two turns (the image, the description), saved as prompt version 1 and
    tagged with `tags`; returns the prompt's id. In the caller's transaction."""
    conversation = conversations.start(
        session, user_id=user_id, asset_id=asset_id, model=model_id, title=title
    )
    conversations.add_turn(session, conversation=conversation, role="user", text=title)
    conversations.add_turn(
        session,
        conversation=conversation,
        role="assistant",
        text="",
        analysis_id=analysis_id,
        data=data,
        examples=[],
    )
    assert conversation.id is not None
    prompt_id, _version = conversations.save_to_gallery(
        session, user_id=user_id, conversation_id=conversation.id
    )
    for tag in get_or_create_tags(session, list(tags)):
        assert tag.id is not None
        session.add(PromptTag(prompt_id=prompt_id, tag_id=tag.id))
    session.flush()
    return prompt_id

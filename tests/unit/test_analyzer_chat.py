"""The analyzer chat's workflows: start on an upload or an owned image, reload, follow a stream."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator

import pytest
from sqlmodel import Session, select

from app.services.analyzer import chat
from app.services.analyzer.analysis import Update
from app.services.core.errors import InvalidImageError, NotFoundError
from app.services.core.models import Asset, Conversation, ConversationTurn
from app.services.core.storage import get_storage
from app.services.images.intake import ingest_image
from tests.utils.images import jpeg_bytes
from tests.utils.prompt_factories import make_user, prompt_data


def _owned_image(session: Session, owner_id: int | None, name: str = "photo.jpg") -> int:
    asset = ingest_image(
        session=session,
        storage=get_storage(),
        owner_id=owner_id,
        stream=io.BytesIO(jpeg_bytes()),
        filename=name,
    )
    session.commit()
    assert asset.id is not None
    return asset.id


def test_an_upload_starts_a_conversation_on_the_new_image(session: Session) -> None:
    user = make_user(session, "ann")
    session.commit()
    assert user.id is not None
    started = chat.start_from_upload(
        user_id=user.id, stream=io.BytesIO(jpeg_bytes((320, 200))), filename="cat.jpg", model="m"
    )
    assert started.image.name == "cat.jpg" and started.image.size == "320 × 200"
    assert started.image.url
    conversation = session.get(Conversation, started.conversation_id)
    assert conversation is not None and conversation.asset_id == started.asset_id
    assert conversation.model == "m" and conversation.title == "cat.jpg"
    asset = session.get(Asset, started.asset_id)
    assert asset is not None and asset.owner_id == user.id
    assert [e.title for e in chat.history(user_id=user.id)] == ["cat.jpg"]


def test_a_bad_upload_starts_nothing(session: Session) -> None:
    user = make_user(session, "ann")
    session.commit()
    assert user.id is not None
    with pytest.raises(InvalidImageError):
        chat.start_from_upload(
            user_id=user.id, stream=io.BytesIO(b"<svg></svg>"), filename="x.jpg", model="m"
        )
    assert session.exec(select(Conversation)).all() == []
    assert chat.history(user_id=user.id) == []


def test_a_sent_image_opens_only_for_its_owner(session: Session) -> None:
    owner, other = make_user(session, "owner"), make_user(session, "other")
    asset_id = _owned_image(session, owner.id)
    assert owner.id is not None and other.id is not None
    with pytest.raises(NotFoundError, match="send it from the studio again"):
        chat.start_from_asset(user_id=other.id, asset_id=asset_id, model="m")
    with pytest.raises(NotFoundError, match="send it from the studio again"):
        chat.start_from_asset(user_id=owner.id, asset_id=asset_id + 1000, model="m")
    assert session.exec(select(Conversation)).all() == []
    started = chat.start_from_asset(user_id=owner.id, asset_id=asset_id, model="m")
    assert started.asset_id == asset_id and started.image.name == "photo.jpg"


def test_image_bytes_only_for_the_owner_and_only_while_the_image_exists(
    session: Session,
) -> None:
    owner, other = make_user(session, "owner"), make_user(session, "other")
    asset_id = _owned_image(session, owner.id)
    assert owner.id is not None and other.id is not None
    image = chat.image_input(user_id=owner.id, asset_id=asset_id)
    assert image.mime_type == "image/jpeg" and image.data[:2] == b"\xff\xd8"
    with pytest.raises(NotFoundError, match="no longer available"):
        chat.image_input(user_id=other.id, asset_id=asset_id)
    asset = session.get(Asset, asset_id)
    session.delete(asset)
    session.commit()
    with pytest.raises(NotFoundError, match="no longer available"):
        chat.image_input(user_id=owner.id, asset_id=asset_id)


def test_reload_replays_turns_for_the_owner_only(session: Session) -> None:
    owner, other = make_user(session, "owner"), make_user(session, "other")
    session.commit()
    assert owner.id is not None and other.id is not None
    started = chat.start_from_upload(
        user_id=owner.id, stream=io.BytesIO(jpeg_bytes()), filename="a.jpg", model="m"
    )
    data = prompt_data("A red field")
    chat.record_turn(
        user_id=owner.id,
        conversation_id=started.conversation_id,
        role="assistant",
        text="thinking",
        data=data,
    )
    with pytest.raises(NotFoundError):  # someone else's conversation: recorded nowhere
        chat.record_turn(
            user_id=other.id, conversation_id=started.conversation_id, role="user", text="x"
        )
    assert len(session.exec(select(ConversationTurn)).all()) == 2
    loaded = chat.reload(user_id=owner.id, conversation_id=started.conversation_id)
    assert loaded.asset_id == started.asset_id and loaded.prompt_id is None
    assert loaded.image == started.image
    assert [(t.role, t.text, t.data) for t in loaded.turns] == [
        ("user", "a.jpg", None),
        ("assistant", "thinking", data),
    ]
    for user_id, conversation_id in ((other.id, started.conversation_id), (owner.id, 424242)):
        with pytest.raises(NotFoundError, match="conversation doesn't exist"):
            chat.reload(user_id=user_id, conversation_id=conversation_id)
    prompt_id, version = chat.save(user_id=owner.id, conversation_id=started.conversation_id)
    assert version == 1
    assert chat.reload(user_id=owner.id, conversation_id=started.conversation_id).prompt_id == (
        prompt_id
    )


def test_reload_of_a_conversation_whose_image_was_purged_shows_no_image(
    session: Session,
) -> None:
    owner = make_user(session, "owner")
    session.commit()
    assert owner.id is not None
    started = chat.start_from_upload(
        user_id=owner.id, stream=io.BytesIO(jpeg_bytes()), filename="a.jpg", model="m"
    )
    conversation = session.get(Conversation, started.conversation_id)
    assert conversation is not None
    conversation.asset_id = None  # what purging an expired upload leaves behind
    session.add(conversation)
    session.commit()
    loaded = chat.reload(user_id=owner.id, conversation_id=started.conversation_id)
    assert loaded.image is None and loaded.asset_id is None


async def _updates(*updates: Update) -> AsyncIterator[Update]:
    for update in updates:
        yield update


def _follow(interval: float, *updates: Update) -> list[tuple[str, str | None, bool]]:
    async def go() -> list[tuple[str, str | None, bool]]:
        return [
            (a.reasoning, (a.partial or {}).get("scene"), a.final is not None)
            async for a in chat.follow(_updates(*updates), interval=interval)
        ]

    return asyncio.run(go())


STREAM = (
    Update("started"),
    Update("reasoning", text="a"),
    Update("partial", data={"scene": "x"}),
    Update("reasoning", text="b"),
    Update("result", data={"scene": "xy"}),
)


def test_follow_pushes_every_update_when_not_throttled() -> None:
    assert _follow(0.0, *STREAM) == [
        ("", None, False),
        ("a", None, False),
        ("a", "x", False),
        ("ab", "x", False),
        ("ab", "x", True),
    ]


def test_follow_throttles_deltas_but_never_the_start_or_the_end() -> None:
    # Deltas within the interval after the start wait; the start and the result always go.
    assert _follow(3600.0, *STREAM) == [("", None, False), ("ab", "x", True)]


def test_follow_closes_the_analysis_when_the_reader_stops_early() -> None:
    closed = []

    async def updates() -> AsyncIterator[Update]:
        try:
            yield Update("started")
            yield Update("reasoning", text="never read")
        finally:
            closed.append(True)

    async def go() -> None:
        async with contextlib.aclosing(chat.follow(updates(), interval=0.0)) as answers:
            async for _answer in answers:
                break

    asyncio.run(go())
    assert closed == [True]

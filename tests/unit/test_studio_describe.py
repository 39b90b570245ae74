"""The studio's "describe into the gallery": the owner's image becomes a saved prompt, or a
clear message and nothing saved."""

from __future__ import annotations

import asyncio
import io

import pytest
from sqlmodel import Session, select

from app.services.analyzer.providers.setup import ensure_models
from app.services.core.errors import NotFoundError, UserFacingError
from app.services.core.models import Asset, Conversation, Prompt, PromptVersion
from app.services.core.storage import get_storage
from app.services.images.intake import ingest_image
from app.services.library.prompts import validate_prompt
from app.services.studio.describe import describe_into_gallery
from tests.utils.images import jpeg_bytes
from tests.utils.prompt_factories import make_user


@pytest.fixture
def people(db_url: str, session: Session) -> tuple[int, int]:
    ensure_models()
    owner, other = make_user(session, "owner"), make_user(session, "other")
    session.commit()
    assert owner.id is not None and other.id is not None
    return owner.id, other.id


def _image(session: Session, owner_id: int) -> Asset:
    asset = ingest_image(
        session=session,
        storage=get_storage(),
        owner_id=owner_id,
        stream=io.BytesIO(jpeg_bytes((320, 240), (30, 90, 200))),
        filename="blue.jpg",
    )
    session.commit()
    return asset


def _describe(user_id: int, asset_id: int) -> int:
    return asyncio.run(describe_into_gallery(user_id=user_id, asset_id=asset_id, label="out.jpg"))


def test_the_owners_image_becomes_a_gallery_prompt(
    session: Session, people: tuple[int, int]
) -> None:
    owner, _other = people
    asset = _image(session, owner)
    assert asset.id is not None
    prompt_id = _describe(owner, asset.id)
    prompt = session.get(Prompt, prompt_id)
    assert prompt is not None and prompt.owner_id == owner and prompt.asset_id == asset.id
    assert prompt.title == "blue.jpg"
    version = session.exec(select(PromptVersion).where(PromptVersion.prompt_id == prompt_id)).one()
    assert version.number == 1 and validate_prompt(version.data) == []
    conversation = session.exec(select(Conversation)).one()
    assert conversation.prompt_id == prompt_id and conversation.user_id == owner


@pytest.mark.parametrize("case", ["someone else's", "deleted", "missing id"])
def test_no_image_of_yours_is_not_found_and_saves_nothing(
    session: Session, people: tuple[int, int], case: str
) -> None:
    owner, other = people
    asset = _image(session, owner)
    assert asset.id is not None
    user_id, asset_id = owner, asset.id
    if case == "someone else's":
        user_id = other
    elif case == "deleted":
        session.delete(asset)
        session.commit()
    else:
        asset_id = asset.id + 1000
    with pytest.raises(NotFoundError, match="no longer available"):
        _describe(user_id, asset_id)
    assert session.exec(select(Prompt)).all() == []
    assert session.exec(select(Conversation)).all() == []


def test_a_failed_description_says_so_with_the_images_name(
    session: Session, people: tuple[int, int]
) -> None:
    owner, _other = people
    asset = _image(session, owner)
    assert asset.id is not None
    # The stored file went bad after intake (a truncated copy in the bucket, say).
    get_storage().put_bytes(asset.storage_key, b"hello", content_type="image/jpeg")
    with pytest.raises(UserFacingError, match=r"^out\.jpg: ") as caught:
        _describe(owner, asset.id)
    assert not isinstance(caught.value, NotFoundError)
    assert session.exec(select(Prompt)).all() == []

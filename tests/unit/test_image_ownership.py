"""The one "is this image yours" check: someone else's, deleted and missing ids are not found."""

from __future__ import annotations

import io

import pytest
from sqlmodel import Session

from app.services.core.errors import NotFoundError
from app.services.core.models import Asset
from app.services.core.storage import get_storage
from app.services.images.intake import ingest_image
from app.services.images.ownership import NOT_YOURS, owned_asset
from tests.utils.images import jpeg_bytes
from tests.utils.prompt_factories import make_user


def _image(session: Session, owner_id: int | None) -> Asset:
    asset = ingest_image(
        session=session,
        storage=get_storage(),
        owner_id=owner_id,
        stream=io.BytesIO(jpeg_bytes()),
        filename="photo.jpg",
    )
    session.commit()
    return asset


def test_the_owner_gets_the_asset(session: Session) -> None:
    owner = make_user(session, "owner")
    asset = _image(session, owner.id)
    assert owned_asset(session, user_id=owner.id, asset_id=asset.id).id == asset.id


@pytest.mark.parametrize("case", ["someone else's", "deleted", "missing id", "no id", "nobody"])
def test_anything_else_is_not_found_with_the_callers_words(session: Session, case: str) -> None:
    owner, other = make_user(session, "owner"), make_user(session, "other")
    asset = _image(session, owner.id)
    user_id, asset_id = owner.id, asset.id
    if case == "someone else's":
        user_id = other.id
    elif case == "deleted":
        session.delete(asset)
        session.commit()
    elif case == "missing id":
        asset_id = 999_999
    elif case == "no id":
        asset_id = None
    elif case == "nobody":
        user_id = None
    with pytest.raises(NotFoundError) as caught:
        owned_asset(session, user_id=user_id, asset_id=asset_id, not_found="Send it again.")
    assert caught.value.message == "Send it again."


def test_an_image_without_an_owner_is_nobodys(session: Session) -> None:
    user = make_user(session, "someone")
    asset = _image(session, None)  # e.g. an image uploaded through the anonymous demo
    with pytest.raises(NotFoundError, match=NOT_YOURS):
        owned_asset(session, user_id=user.id, asset_id=asset.id)

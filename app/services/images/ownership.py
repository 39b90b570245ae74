"""Whose image is this: the one check every caller uses before touching an asset.

Someone else's image, a deleted one and a missing id all read the same, as "not found", so
the answer never tells a stranger that an id exists.
"""

from __future__ import annotations

from sqlmodel import Session

from app.services.core.errors import NotFoundError
from app.services.core.models import Asset

NOT_YOURS = "That image doesn't exist, or it isn't yours."


def owned_asset(
    session: Session, *, user_id: int | None, asset_id: int | None, not_found: str = NOT_YOURS
) -> Asset:
    """The asset, if `user_id` owns it; else NotFoundError with `not_found` as its message
    (callers word it for where the person is: "send it from the studio again")."""
    asset = session.get(Asset, asset_id) if asset_id is not None else None
    if asset is None or user_id is None or asset.owner_id != user_id:
        raise NotFoundError(not_found)
    return asset

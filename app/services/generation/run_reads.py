"""What the REST API and the /generate page read about runs beyond one view: a person's recent
runs, and signed links to their images.

    recent_generations(session, user=..., limit=20)               newest first, with images
    image_links(session, user=..., asset_ids=..., storage=...)    {asset_id: ImageLink}

A reload (or a second tab) of /generate loses nothing: every run and every image's state comes
from the rows the worker writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.services.core.models import Asset, Generation, User
from app.services.core.storage import Storage
from app.services.generation.run_records import GenerationView, view_of

MAX_LISTED = 100


@dataclass(frozen=True)
class ImageLink:
    """A stored image's signed URLs (its file carries the generation's metadata)."""

    url: str
    thumbnail_url: str | None  # None when the image has no thumbnail
    media_type: str
    width: int
    height: int


def recent_generations(session: Session, *, user: User, limit: int = 20) -> list[GenerationView]:
    """`user`'s runs, newest first (ix_generations_user_created), at most MAX_LISTED."""
    if user.id is None:
        return []
    rows = session.exec(
        select(Generation)
        .where(col(Generation.user_id) == user.id)
        .order_by(col(Generation.created_at).desc(), col(Generation.id).desc())
        .limit(max(1, min(limit, MAX_LISTED)))
        .execution_options(populate_existing=True)
    ).all()
    return [view_of(session, row) for row in rows]


def image_links(
    session: Session,
    *,
    user: User,
    asset_ids: Iterable[int | None],
    storage: Storage,
    download: bool = False,
) -> dict[int, ImageLink]:
    """Signed URLs for the user's own images among `asset_ids`, by asset id; anyone else's are
    left out. With `download`, the full-size link saves the file under its original name."""
    wanted = {int(i) for i in asset_ids if i is not None}
    if not wanted or user.id is None:
        return {}
    assets = session.exec(
        select(Asset).where(col(Asset.id).in_(wanted), col(Asset.owner_id) == user.id)
    ).all()
    links: dict[int, ImageLink] = {}
    for asset in assets:
        assert asset.id is not None
        name = (asset.original_filename or None) if download else None
        links[asset.id] = ImageLink(
            url=storage.presigned_get_url(asset.storage_key, download_name=name),
            thumbnail_url=(
                storage.presigned_get_url(asset.thumbnail_key) if asset.thumbnail_key else None
            ),
            media_type=asset.mime_type,
            width=asset.width,
            height=asset.height,
        )
    return links

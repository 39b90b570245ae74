"""What the REST API (and pages) read about runs beyond one view: a person's recent runs, and
signed links to the images a run made.

    recent_generations(session, user=..., limit=20)    newest first, with their images
    image_links(session, view, storage=...)            {position: ImageLink} for done images
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.services.core.models import Asset, Generation, User
from app.services.core.storage import Storage
from app.services.generation.run_records import GenerationView, ImageStatus, view_of

MAX_LISTED = 100


@dataclass(frozen=True)
class ImageLink:
    """A done image's signed download URL (its file carries the generation's metadata)."""

    url: str
    thumbnail_url: str | None
    media_type: str
    width: int
    height: int


def recent_generations(session: Session, *, user: User, limit: int = 20) -> list[GenerationView]:
    """`user`'s runs, newest first (ix_generations_user_created), at most MAX_LISTED."""
    rows = session.exec(
        select(Generation)
        .where(col(Generation.user_id) == user.id)
        .order_by(col(Generation.created_at).desc(), col(Generation.id).desc())
        .limit(max(1, min(limit, MAX_LISTED)))
        .execution_options(populate_existing=True)
    ).all()
    return [view_of(session, row) for row in rows]


def image_links(
    session: Session, view: GenerationView, *, storage: Storage
) -> dict[int, ImageLink]:
    """Signed URLs of the run's done images, by position. The assets are the owner's own:
    the worker stored them for the run's user, and `view` was read for that user."""
    wanted = {i.asset_id: i.position for i in view.images
              if i.status == ImageStatus.done and i.asset_id is not None}  # fmt: skip
    if not wanted:
        return {}
    assets = session.exec(select(Asset).where(col(Asset.id).in_(list(wanted)))).all()
    links: dict[int, ImageLink] = {}
    for asset in assets:
        assert asset.id is not None
        links[wanted[asset.id]] = ImageLink(
            url=storage.presigned_get_url(
                asset.storage_key, download_name=asset.original_filename or None
            ),
            thumbnail_url=(
                storage.presigned_get_url(asset.thumbnail_key) if asset.thumbnail_key else None
            ),
            media_type=asset.mime_type,
            width=asset.width,
            height=asset.height,
        )
    return links

"""A person's recent generation runs, newest first, and the links to their images.

The generate page lists these below the form, so a reload (or a second tab) loses nothing:
every run and every image's state comes from the rows the worker writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.services.core.models import Asset, Generation, User
from app.services.core.storage import Storage
from app.services.generation.run_records import GenerationView, view_of

RECENT_RUNS = 10
MAX_RUNS = 50


@dataclass(frozen=True)
class ImageLinks:
    thumbnail_url: str
    full_url: str


def recent_generations(
    session: Session, *, user: User, limit: int = RECENT_RUNS
) -> list[GenerationView]:
    """The user's latest runs, newest first (at most MAX_RUNS)."""
    if user.id is None:
        return []
    rows = session.exec(
        select(Generation)
        .where(col(Generation.user_id) == user.id)
        .order_by(col(Generation.created_at).desc(), col(Generation.id).desc())
        .limit(max(1, min(limit, MAX_RUNS)))
        .execution_options(populate_existing=True)
    ).all()
    return [view_of(session, g) for g in rows]


def image_links(
    session: Session, *, user: User, asset_ids: Iterable[int | None], storage: Storage
) -> dict[int, ImageLinks]:
    """Signed URLs for the user's own images among `asset_ids`; others' are left out."""
    wanted = {int(i) for i in asset_ids if i is not None}
    if not wanted or user.id is None:
        return {}
    assets = session.exec(
        select(Asset).where(col(Asset.id).in_(wanted), col(Asset.owner_id) == user.id)
    ).all()
    return {
        a.id: ImageLinks(
            thumbnail_url=storage.presigned_get_url(a.thumbnail_key or a.storage_key),
            full_url=storage.presigned_get_url(a.storage_key),
        )
        for a in assets
        if a.id is not None
    }

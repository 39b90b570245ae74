"""The bundles a user has exported or imported."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.services.core.errors import (
    NotFoundError,
)
from app.services.core.models import (
    Bundle,
    User,
)
from app.services.library.bundles.format import (
    BundleInfo,
)


def list_bundles(session: Session, *, owner: User, limit: int = 100) -> list[BundleInfo]:
    """The owner's exports and imports, newest first."""
    rows = session.exec(
        select(Bundle)
        .where(Bundle.owner_id == owner.id)
        .order_by(col(Bundle.created_at).desc(), col(Bundle.id).desc())
        .limit(max(1, min(limit, 500)))
    ).all()
    return [
        BundleInfo(
            id=row.id or 0,
            kind=row.kind,
            status=row.status,
            filename=row.filename,
            item_count=row.item_count,
            storage_key=row.storage_key,
            created_at=row.created_at,
            report=dict(row.report),
        )
        for row in rows
    ]


def get_bundle(session: Session, *, owner: User, bundle_id: int) -> Bundle:
    row = session.get(Bundle, bundle_id)
    if row is None or row.owner_id != owner.id:
        raise NotFoundError("That bundle does not exist.")
    return row

"""Read side of the prompt library: what a viewer may see, newest first, keyset-paginated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from app.services.models import Asset, Prompt, PromptTag, PromptVersion, Tag, User
from app.services.storage import Storage


@dataclass(frozen=True)
class PromptCard:
    id: int
    title: str
    model: str
    style: str
    author: str
    created_at: datetime
    tags: list[str]
    thumbnail_url: str
    width: int
    height: int
    visibility: str


@dataclass(frozen=True)
class Page:
    items: list[PromptCard]
    next_cursor: str | None


def _visible_to(viewer: User | None):  # type: ignore[no-untyped-def]
    public = col(Prompt.visibility) == "public"
    if viewer is None:
        return public
    return or_(public, col(Prompt.owner_id) == viewer.id)


def encode_cursor(created_at: datetime, prompt_id: int) -> str:
    return f"{created_at.isoformat()}|{prompt_id}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        stamp, _, raw_id = cursor.partition("|")
        return datetime.fromisoformat(stamp), int(raw_id)
    except ValueError:
        return None  # a mangled cursor restarts from the first page rather than failing


def list_prompts(
    session: Session,
    *,
    storage: Storage,
    viewer: User | None,
    limit: int = 24,
    cursor: str | None = None,
) -> Page:
    limit = max(1, min(limit, 100))
    query = (
        select(Prompt, Asset, User)
        .join(Asset, col(Asset.id) == col(Prompt.asset_id), isouter=True)
        .join(User, col(User.id) == col(Prompt.owner_id))
        .where(_visible_to(viewer), col(Prompt.deleted_at).is_(None))
    )
    position = decode_cursor(cursor)
    if position is not None:
        created, last_id = position
        query = query.where(
            or_(
                col(Prompt.created_at) < created,
                and_(col(Prompt.created_at) == created, col(Prompt.id) < last_id),
            )
        )
    rows = session.exec(
        query.order_by(col(Prompt.created_at).desc(), col(Prompt.id).desc()).limit(limit + 1)
    ).all()
    page_rows = rows[:limit]
    tags = _tags_for(session, [p.id for p, _, _ in page_rows if p.id is not None])
    items = [
        PromptCard(
            id=p.id or 0,
            title=p.title,
            model=p.model,
            style=p.style,
            author=u.display_name or u.email.split("@")[0],
            created_at=p.created_at,
            tags=tags.get(p.id or 0, []),
            thumbnail_url=storage.presigned_get_url(a.thumbnail_key)
            if a and a.thumbnail_key
            else "",
            width=a.width if a else 0,
            height=a.height if a else 0,
            visibility=p.visibility,
        )
        for p, a, u in page_rows
    ]
    next_cursor = None
    if len(rows) > limit and page_rows:
        last = page_rows[-1][0]
        next_cursor = encode_cursor(last.created_at, last.id or 0)
    return Page(items=items, next_cursor=next_cursor)


def _tags_for(session: Session, prompt_ids: list[int]) -> dict[int, list[str]]:
    if not prompt_ids:
        return {}
    rows = session.exec(
        select(PromptTag.prompt_id, Tag.name)
        .join(Tag, col(Tag.id) == col(PromptTag.tag_id))
        .where(col(PromptTag.prompt_id).in_(prompt_ids))
        .order_by(col(Tag.name))
    ).all()
    out: dict[int, list[str]] = {}
    for prompt_id, name in rows:
        out.setdefault(prompt_id, []).append(name)
    return out


def latest_version(session: Session, *, prompt_id: int) -> PromptVersion | None:
    return session.exec(
        select(PromptVersion)
        .where(PromptVersion.prompt_id == prompt_id)
        .order_by(col(PromptVersion.number).desc())
    ).first()


def count_prompts(session: Session) -> int:
    from sqlalchemy import func

    return int(session.exec(select(func.count()).select_from(Prompt)).one())


def list_user_assets(*, session: Session, owner_id: int, limit: int = 24) -> list[Asset]:
    return list(
        session.exec(
            select(Asset)
            .where(Asset.owner_id == owner_id)
            .order_by(col(Asset.created_at).desc(), col(Asset.id).desc())
            .limit(limit)
        ).all()
    )

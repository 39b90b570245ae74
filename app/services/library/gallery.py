"""Read side of the prompt library: filtered, searchable, newest first, keyset-paginated.

Pagination is a keyset on (created_at, id), never OFFSET: page N costs the same as page 1, and a
prompt saved while someone scrolls can't shift rows between pages (no repeats, no skips). Every
filter maps onto an index that yields rows already in that order (see migration 0004), so a page
stops after `limit + 1` rows instead of sorting the whole match set.

Who sees what is decided in prompt_access.py: public + own; admins additionally see all of one
person's prompts when they filter by that owner's id.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_
from sqlmodel import Session, col, select

from app.services.core.errors import InvalidInputError, NotFoundError
from app.services.core.models import Asset, Prompt, PromptTag, PromptVersion, SavedFilter, Tag, User
from app.services.core.storage import Storage
from app.services.library import search
from app.services.library.access import (
    PUBLIC,
    is_admin,
    load_prompt,
    trash_clause,
    visibility_clause,
)

MAX_LIMIT = 100
MAX_SAVED_FILTERS = 50
MAX_FILTER_TAGS = 10
ORIGINS = ("analyzed", "generated")
# Above this many prompts a tag is "common": checked per row instead of listed (see _tag_clauses).
COMMON_TAG_ROWS = 2_000


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
    owner_id: int = 0
    is_favorite: bool = False
    rating: int | None = None
    deleted_at: datetime | None = None
    origin: str = "analyzed"  # or "generated": `model` is then the model that made the image


@dataclass(frozen=True)
class Page:
    items: list[PromptCard]
    next_cursor: str | None


@dataclass(frozen=True)
class GalleryQuery:
    """What the gallery's filter bar asks for. Empty fields mean "don't filter on this".

    owner: "me" (the viewer's own), "public" (public only, including the viewer's public ones),
    a user id, or None (everything the viewer may see). Dates: `date_from` inclusive, `date_to`
    exclusive, both compared with created_at. `favorites_only` means the viewer's own favourites
    (a favourite is the owner's flag on the prompt). `include_trash` adds the viewer's trashed
    prompts; `trash_only` shows nothing else (the Trash view). `origin`: "analyzed" (JSON read
    from an image) or "generated" (images made from a JSON prompt), empty for both.
    """

    text: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    owner: str | int | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    model: str = ""
    style: str = ""
    favorites_only: bool = False
    include_trash: bool = False
    trash_only: bool = False
    origin: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, for saved filters and URLs."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> GalleryQuery:
        """The inverse of to_dict. Unknown keys are ignored (old saved filters keep loading)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        for name in ("date_from", "date_to"):
            if isinstance(values.get(name), str):
                values[name] = _aware(datetime.fromisoformat(values[name]))
        if "tags" in values:
            values["tags"] = tuple(str(t) for t in values["tags"] or ())
        return cls(**values)


def _aware(value: datetime) -> datetime:
    # Stored stamps are UTC; a naive value from a form means UTC too, not the server's zone.
    return value if value.utcoffset() is not None else value.replace(tzinfo=UTC)


# --- cursors ----------------------------------------------------------------------------------


def encode_cursor(created_at: datetime, prompt_id: int) -> str:
    return f"{_aware(created_at).isoformat()}|{prompt_id}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        stamp, sep, raw_id = cursor.partition("|")
        if not sep:
            return None
        return _aware(datetime.fromisoformat(stamp)), int(raw_id)
    except ValueError:
        return None  # a mangled cursor restarts from the first page rather than failing


def _after(position: tuple[datetime, int]) -> ColumnElement[bool]:
    """Rows strictly after the cursor in (created_at DESC, id DESC) order.

    The leading `created_at <= x` is logically redundant, but it is a plain range the planner
    can seek to in the (..., created_at, id) indexes, which an OR alone doesn't give it.
    """
    created, last_id = position
    return and_(
        col(Prompt.created_at) <= created,
        or_(
            col(Prompt.created_at) < created,
            and_(col(Prompt.created_at) == created, col(Prompt.id) < last_id),
        ),
    )


# --- listing ----------------------------------------------------------------------------------


def normalize_tag(name: str) -> str:
    """Tags are stored trimmed and lowercased (library.get_or_create_tags)."""
    return name.strip().lower()[:64]


def _filters(
    session: Session, *, viewer: User | None, query: GalleryQuery
) -> list[ColumnElement[bool]] | None:
    """WHERE clauses for a query, or None when it can't match anything (skip the database)."""
    viewer_id = viewer.id if viewer is not None else None
    owner = query.owner
    if isinstance(owner, str) and owner.isdigit():
        owner = int(owner)
    if owner == "me" and viewer_id is None:
        return None
    if query.favorites_only and viewer_id is None:
        return None
    if owner not in (None, "", "me", PUBLIC) and not isinstance(owner, int):
        raise InvalidInputError('Owner must be "me", "public" or a user id.')
    if query.origin and query.origin not in ORIGINS:
        raise InvalidInputError('Origin must be "analyzed" or "generated".')

    where: list[ColumnElement[bool]] = []
    # Visibility: an admin filtering by one owner sees all of that owner's prompts (moderation).
    if not (is_admin(viewer) and isinstance(owner, int)):
        where.append(visibility_clause(viewer))
    if query.trash_only:
        where += [col(Prompt.deleted_at).is_not(None), trash_clause(viewer)]
    elif query.include_trash:
        where.append(or_(col(Prompt.deleted_at).is_(None), trash_clause(viewer)))
    else:
        where.append(col(Prompt.deleted_at).is_(None))

    if owner == "me":
        where.append(col(Prompt.owner_id) == viewer_id)
    elif owner == PUBLIC:
        where.append(col(Prompt.visibility) == PUBLIC)
    elif isinstance(owner, int):
        where.append(col(Prompt.owner_id) == owner)
    if query.favorites_only:
        where += [col(Prompt.is_favorite).is_(True), col(Prompt.owner_id) == viewer_id]
    if query.model:
        where.append(col(Prompt.model) == query.model)
    if query.style:
        where.append(col(Prompt.style) == query.style)
    if query.origin:  # ix_prompts_origin_created
        where.append(col(Prompt.origin) == query.origin)
    if query.date_from is not None:
        where.append(col(Prompt.created_at) >= _aware(query.date_from))
    if query.date_to is not None:
        where.append(col(Prompt.created_at) < _aware(query.date_to))

    names = list(dict.fromkeys(normalize_tag(t) for t in query.tags if normalize_tag(t)))
    if len(names) > MAX_FILTER_TAGS:
        raise InvalidInputError(f"Filter by at most {MAX_FILTER_TAGS} tags at a time.")
    if names:
        tag_ids = session.exec(select(Tag.id).where(col(Tag.name).in_(names))).all()
        if len(tag_ids) < len(names):
            return None  # a tag nobody uses: nothing can carry all of them
        clauses = _tag_clauses(session, [t for t in tag_ids if t is not None])
        if clauses is None:
            return None
        where += clauses
    text_clause = search.match_clause(session, query.text)
    if text_clause is not None:
        where.append(text_clause)
    return where


def _tag_clauses(session: Session, tag_ids: list[int]) -> list[ColumnElement[bool]] | None:
    """ "Carries every one of these tags", shaped for the planner.

    A rare tag is best read from ix_prompt_tags_tag_prompt as a small id list (IN). A common tag
    is best checked row by row (EXISTS on the primary key) while walking the date index: 25 hits
    come within the first few dozen rows, where materialising its 30,000 ids costs ~15 ms. So the
    rarest tag, if it is rare, drives; every other tag is an EXISTS probe. Sizes are counted only
    up to COMMON_TAG_ROWS, which keeps the count itself under a millisecond.
    """
    sizes = {
        tag_id: int(
            session.exec(
                select(func.count()).select_from(
                    select(PromptTag.prompt_id)
                    .where(PromptTag.tag_id == tag_id)
                    .limit(COMMON_TAG_ROWS)
                    .subquery()
                )
            ).one()
        )
        for tag_id in tag_ids
    }
    if not all(sizes.values()):
        return None
    rarest = min(tag_ids, key=lambda t: sizes[t])
    clauses: list[ColumnElement[bool]] = []
    for tag_id in tag_ids:
        if tag_id == rarest and sizes[tag_id] < COMMON_TAG_ROWS:
            ids = select(PromptTag.prompt_id).where(PromptTag.tag_id == tag_id)
            clauses.append(col(Prompt.id).in_(ids))
        else:
            clauses.append(
                exists().where(
                    col(PromptTag.prompt_id) == col(Prompt.id), col(PromptTag.tag_id) == tag_id
                )
            )
    return clauses


def list_prompts(
    session: Session,
    *,
    storage: Storage,
    viewer: User | None,
    query: GalleryQuery | None = None,
    limit: int = 24,
    cursor: str | None = None,
) -> Page:
    """One page of cards, newest first. Pass `next_cursor` back to get the next page."""
    limit = max(1, min(limit, MAX_LIMIT))
    where = _filters(session, viewer=viewer, query=query or GalleryQuery())
    if where is None:
        return Page(items=[], next_cursor=None)
    position = decode_cursor(cursor)
    if position is not None:
        where.append(_after(position))
    # Only the page's own ids are found with the filters; cards are then loaded by primary key.
    # Joining users/assets inside the filtered scan would let the planner start from them.
    ids = session.exec(
        select(Prompt.id)
        .where(*where)
        .order_by(col(Prompt.created_at).desc(), col(Prompt.id).desc())
        .limit(limit + 1)
    ).all()
    page_ids = [int(i) for i in ids[:limit] if i is not None]
    items = cards_for(session, storage=storage, prompt_ids=page_ids)
    next_cursor = None
    if len(ids) > limit and items:
        last = items[-1]
        next_cursor = encode_cursor(last.created_at, last.id)
    return Page(items=items, next_cursor=next_cursor)


def cards_for(session: Session, *, storage: Storage, prompt_ids: list[int]) -> list[PromptCard]:
    """Cards for these prompts, in the order given (no permission check: callers filter)."""
    if not prompt_ids:
        return []
    rows = session.exec(
        select(Prompt, Asset, User)
        .join(Asset, col(Asset.id) == col(Prompt.asset_id), isouter=True)
        .join(User, col(User.id) == col(Prompt.owner_id))
        .where(col(Prompt.id).in_(prompt_ids))
    ).all()
    by_id = {p.id: (p, a, u) for p, a, u in rows}
    tags = _tags_for(session, prompt_ids)
    out = []
    for prompt_id in prompt_ids:
        if prompt_id not in by_id:
            continue
        p, a, u = by_id[prompt_id]
        out.append(
            PromptCard(
                id=prompt_id,
                title=p.title,
                model=p.model,
                style=p.style,
                author=u.display_name or u.email.split("@")[0],
                created_at=p.created_at,
                tags=tags.get(prompt_id, []),
                thumbnail_url=storage.presigned_get_url(a.thumbnail_key)
                if a and a.thumbnail_key
                else "",
                width=a.width if a else 0,
                height=a.height if a else 0,
                visibility=p.visibility,
                owner_id=p.owner_id,
                is_favorite=p.is_favorite,
                rating=p.rating,
                deleted_at=p.deleted_at,
                origin=p.origin,
            )
        )
    return out


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


def similar_to(
    session: Session, *, prompt_id: int, viewer: User | None, storage: Storage, k: int = 6
) -> list[PromptCard]:
    """Prompts that read most like this one (style-memory embeddings), visible to the viewer."""
    from app.services.analyzer.style_memory import similar_to_prompt  # loads numpy + the embedder

    load_prompt(session, prompt_id=prompt_id, viewer=viewer)
    ranked = similar_to_prompt(
        session,
        prompt_id=prompt_id,
        viewer_id=viewer.id if viewer is not None else None,
        k=max(1, min(k, 50)),
    )
    return cards_for(session, storage=storage, prompt_ids=[pid for pid, _ in ranked])


# --- saved filters ----------------------------------------------------------------------------


def save_filter(session: Session, *, user: User, name: str, query: GalleryQuery) -> SavedFilter:
    """Keep a named filter. Saving under an existing name replaces that filter's query."""
    name = " ".join(name.split())[:120]
    if not name:
        raise InvalidInputError("Give the filter a name.")
    existing = session.exec(
        select(SavedFilter).where(SavedFilter.user_id == user.id, SavedFilter.name == name)
    ).first()
    if existing is None:
        count = session.exec(
            select(func.count()).select_from(SavedFilter).where(SavedFilter.user_id == user.id)
        ).one()
        if count >= MAX_SAVED_FILTERS:
            raise InvalidInputError(
                f"You can keep up to {MAX_SAVED_FILTERS} filters. Delete one to save another."
            )
        assert user.id is not None
        existing = SavedFilter(user_id=user.id, name=name)
    existing.query = query.to_dict()
    session.add(existing)
    session.flush()
    return existing


def list_filters(session: Session, *, user: User) -> list[SavedFilter]:
    return list(
        session.exec(
            select(SavedFilter)
            .where(SavedFilter.user_id == user.id)
            .order_by(col(SavedFilter.name), col(SavedFilter.id))
        ).all()
    )


def delete_filter(session: Session, *, user: User, filter_id: int) -> None:
    """Owner only: someone else's filter id is simply not found."""
    row = session.get(SavedFilter, filter_id)
    if row is None or row.user_id != user.id:
        raise NotFoundError("That saved filter doesn't exist.")
    session.delete(row)
    session.flush()


# --- small helpers other modules use ------------------------------------------------------------


def latest_version(session: Session, *, prompt_id: int) -> PromptVersion | None:
    return session.exec(
        select(PromptVersion)
        .where(PromptVersion.prompt_id == prompt_id)
        .order_by(col(PromptVersion.number).desc())
    ).first()


def count_prompts(session: Session) -> int:
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


__all__ = [
    "GalleryQuery",
    "Page",
    "PromptCard",
    "cards_for",
    "count_prompts",
    "decode_cursor",
    "delete_filter",
    "encode_cursor",
    "latest_version",
    "list_filters",
    "list_prompts",
    "list_user_assets",
    "save_filter",
    "similar_to",
]

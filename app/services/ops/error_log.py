"""Recent unexpected errors (ErrorEvent rows), newest first, found by the reference a person
saw or by their text.

People paste what they saw: "Something went wrong on our side. Reference: 3f2a9c…", the bare
reference, or its first few characters. All of these find the row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from app.services.core.models import ErrorEvent, User
from app.services.ops.access import require_admin
from app.services.ops.clock import aware

PAGE_SIZE = 20
MAX_QUERY_CHARS = 200
_REFERENCE = re.compile(r"reference:\s*(\S+)", re.IGNORECASE)


@dataclass(frozen=True)
class ErrorView:
    id: int
    reference: str
    source: str
    location: str
    error_type: str
    message: str
    user_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class ErrorPage:
    rows: list[ErrorView]
    total: int
    page: int
    pages: int


def normalize_query(text: str) -> str:
    """The reference out of a pasted sentence, else the trimmed text (punctuation around a
    copied reference, like the final full stop, is dropped)."""
    text = text.strip()[:MAX_QUERY_CHARS]
    found = _REFERENCE.search(text)
    if found:
        text = found.group(1)
    return text.strip(" \t.,;:'\"()[]")


def _like(text: str) -> str:
    # The admin's text is matched literally: % and _ are not wildcards here.
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_errors(
    session: Session, *, actor: User | None, query: str = "", page: int = 1
) -> ErrorPage:
    require_admin(actor)
    text = normalize_query(query)
    where = []
    if text:
        pattern = _like(text)
        prefix = pattern[1:]  # the reference starts with the text
        where.append(
            or_(
                func.lower(col(ErrorEvent.reference)).like(prefix, escape="\\"),
                func.lower(col(ErrorEvent.trace_id)).like(prefix, escape="\\"),
                func.lower(col(ErrorEvent.message)).like(pattern, escape="\\"),
                func.lower(col(ErrorEvent.error_type)).like(pattern, escape="\\"),
                func.lower(col(ErrorEvent.location)).like(pattern, escape="\\"),
            )
        )
    total = int(session.exec(select(func.count()).select_from(ErrorEvent).where(*where)).one())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = session.exec(
        select(ErrorEvent)
        .where(*where)
        .order_by(col(ErrorEvent.created_at).desc(), col(ErrorEvent.id).desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return ErrorPage(
        rows=[
            ErrorView(
                id=r.id or 0,
                reference=r.reference,
                source=r.source,
                location=r.location,
                error_type=r.error_type,
                message=r.message,
                user_id=r.user_id,
                created_at=aware(r.created_at),
            )
            for r in rows
        ],
        total=total,
        page=page,
        pages=pages,
    )

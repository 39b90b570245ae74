"""The cached catalogue in the database: replace a source's entries, look models up, search.

Which catalogue models the picker offers: the admin's choice per model (`offered`), and by
default every listed model that takes images, writes text and has a known price (a model
without prices could only be charged a guess; an admin can still offer it at a set price).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_
from sqlmodel import Session, col, select

from app.services.analyzer.catalogue.entries import CatalogueEntry
from app.services.core.models import CatalogueModel, utcnow

MAX_QUERY = 100


@dataclass(frozen=True)
class SourceSummary:
    source: str
    listed: int
    vision: int
    fetched_at: datetime | None


def replace_source(
    session: Session, *, source: str, entries: list[CatalogueEntry], now: datetime | None = None
) -> int:
    """Store a fresh answer for `source`: new models added, known ones updated, models it no
    longer lists kept (with the admin's choice) but unlisted. Returns how many are listed."""
    when = now or utcnow()
    existing = {
        row.model_id.casefold(): row
        for row in session.exec(select(CatalogueModel).where(CatalogueModel.source == source))
    }
    fresh = {entry.model_id.casefold() for entry in entries}
    for entry in entries:
        row = existing.get(entry.model_id.casefold()) or CatalogueModel(
            source=source, model_id=entry.model_id
        )
        row.model_id = entry.model_id
        row.name = entry.name
        row.context_length = entry.context_length
        row.prompt_usd = entry.prompt_usd
        row.completion_usd = entry.completion_usd
        row.image_usd = entry.image_usd
        row.request_usd = entry.request_usd
        row.input_modalities = list(entry.input_modalities)
        row.output_modalities = list(entry.output_modalities)
        row.supported_parameters = list(entry.supported_parameters)
        row.vision = entry.vision
        row.listed = True
        row.fetched_at = when
        session.add(row)
    for folded, row in existing.items():
        if folded not in fresh and row.listed:
            row.listed = False
            session.add(row)
    session.flush()
    return len(entries)


def find(session: Session, *, source: str, model_id: str) -> CatalogueModel | None:
    """A listed model by id, ignoring case (ids are lower-case at OpenRouter)."""
    return session.exec(
        select(CatalogueModel).where(
            CatalogueModel.source == source,
            CatalogueModel.listed,
            func.lower(CatalogueModel.model_id) == model_id.casefold(),
        )
    ).first()


def listed_ids(session: Session, *, source: str) -> list[str]:
    return list(
        session.exec(
            select(CatalogueModel.model_id).where(
                CatalogueModel.source == source, CatalogueModel.listed
            )
        )
    )


def summaries(session: Session) -> list[SourceSummary]:
    rows = session.exec(
        select(
            CatalogueModel.source,
            func.count(),
            func.sum(case((col(CatalogueModel.vision), 1), else_=0)),
            func.max(CatalogueModel.fetched_at),
        )
        .where(CatalogueModel.listed)
        .group_by(CatalogueModel.source)
    ).all()
    return [
        SourceSummary(source=s, listed=int(n), vision=int(v or 0), fetched_at=f)
        for s, n, v, f in rows
    ]


def last_fetched(session: Session, *, source: str) -> datetime | None:
    return session.exec(
        select(func.max(CatalogueModel.fetched_at)).where(CatalogueModel.source == source)
    ).first()


def is_offered(row: CatalogueModel) -> bool:
    """The admin's choice, else: listed, takes images, writes text, and has a known price."""
    if not row.listed:
        return False
    if row.offered is not None:
        return row.offered
    writes_text = not row.output_modalities or "text" in row.output_modalities
    return row.vision and writes_text and has_price(row)


def has_price(row: CatalogueModel) -> bool:
    return row.prompt_usd is not None and row.completion_usd is not None


def search(
    session: Session,
    *,
    query: str = "",
    source: str | None = None,
    candidates_only: bool = False,
    limit: int = 30,
) -> list[CatalogueModel]:
    """Listed models whose id or name contains every word of `query`, by name.
    `candidates_only`: just those the picker may offer (take images, or the admin offers)."""
    stmt = select(CatalogueModel).where(col(CatalogueModel.listed))
    if source is not None:
        stmt = stmt.where(CatalogueModel.source == source)
    if candidates_only:
        stmt = stmt.where(
            or_(
                col(CatalogueModel.offered).is_(True),
                col(CatalogueModel.vision) & col(CatalogueModel.offered).is_(None),
            )
        )
    for word in query[:MAX_QUERY].casefold().split()[:8]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                func.lower(CatalogueModel.model_id).like(pattern, escape="\\"),
                func.lower(CatalogueModel.name).like(pattern, escape="\\"),
            )
        )
    stmt = stmt.order_by(func.lower(CatalogueModel.name), col(CatalogueModel.model_id))
    return list(session.exec(stmt.limit(max(1, min(limit, 200)))))


def offered_page(session: Session, *, query: str = "", limit: int = 30) -> list[CatalogueModel]:
    """Up to `limit` offered models matching `query`: what the picker shows."""
    rows = search(session, query=query, candidates_only=True, limit=200)
    return [row for row in rows if is_offered(row)][:limit]


def set_offered(
    session: Session, *, source: str, model_id: str, offered: bool | None
) -> CatalogueModel | None:
    """Record the admin's choice (None: back to the default rule). The caller checks roles."""
    row = find(session, source=source, model_id=model_id)
    if row is None:
        return None
    row.offered = offered
    session.add(row)
    session.flush()
    return row

"""The signed-in overview (`/dashboard`): balance, this month's usage, and the newest work.

Reads only, through the services that own each thing: the credit ledger, the analyzer's
conversations, the gallery and the studio's job records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, func, select

from app.services.analyzer import conversations
from app.services.billing import credits
from app.services.billing.pricing import plan_limits
from app.services.core.models import Analysis, Prompt, User, utcnow
from app.services.core.storage import Storage
from app.services.library import gallery
from app.services.studio.jobs import JobView, list_jobs

RECENT = 5


@dataclass(frozen=True)
class RecentAnalysis:
    conversation_id: int
    title: str
    model: str
    updated_at: datetime


@dataclass(frozen=True)
class Overview:
    balance: int
    plan: str
    monthly_credits: int
    credits_spent_this_month: int
    analyses_this_month: int
    prompts_total: int
    recent_analyses: list[RecentAnalysis]
    recent_prompts: list[gallery.PromptCard]
    recent_jobs: list[JobView]


def month_start(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def overview(
    session: Session, *, user: User, storage: Storage, now: datetime | None = None
) -> Overview:
    assert user.id is not None
    now = now or utcnow()
    # usage_by_day counts spending on the day it was reserved: this month is its last N days.
    days_this_month = now.astimezone(UTC).day
    spent = sum(
        d.spent for d in credits.usage_by_day(session, user_id=user.id, days=days_this_month)
    )
    analyses = session.exec(
        select(func.count())
        .select_from(Analysis)
        .where(Analysis.user_id == user.id, col(Analysis.created_at) >= month_start(now))
    ).one()
    prompts_total = session.exec(
        select(func.count())
        .select_from(Prompt)
        .where(Prompt.owner_id == user.id, col(Prompt.deleted_at).is_(None))
    ).one()
    return Overview(
        balance=credits.balance(session, user_id=user.id),
        plan=plan_limits(user).display_name,
        monthly_credits=plan_limits(user).monthly_credits,
        credits_spent_this_month=spent,
        analyses_this_month=int(analyses),
        prompts_total=int(prompts_total),
        recent_analyses=[
            RecentAnalysis(
                conversation_id=c.id or 0,
                title=c.title or "Untitled",
                model=c.model,
                updated_at=c.updated_at,
            )
            for c in conversations.recent(session, user_id=user.id, limit=RECENT)
        ],
        recent_prompts=gallery.list_prompts(
            session,
            storage=storage,
            viewer=user,
            query=gallery.GalleryQuery(owner="me"),
            limit=RECENT,
        ).items,
        recent_jobs=list_jobs(session, user=user, limit=RECENT),
    )

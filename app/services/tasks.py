"""Background tasks run by the huey worker (`python -m app.cli worker`)."""

from __future__ import annotations

from datetime import timedelta

from huey import crontab
from sqlmodel import select

from app.services import pricing
from app.services.auth import purge_expired_sessions
from app.services.db import session_scope
from app.services.images import purge_expired_assets, rebuild_missing_thumbnails
from app.services.logs import get_logger
from app.services.models import Role, User
from app.services.prompt_ops import purge_trash
from app.services.queue import get_huey
from app.services.storage import get_storage
from app.services.style_memory import refresh_embeddings
from app.settings import get_settings

huey = get_huey()
log = get_logger("tasks")


def grant_plan_credits() -> int:
    """This month's plan credits for every active account (idempotent per user and month)."""
    with session_scope() as session:
        ids = [u for u in session.exec(select(User.id).where(User.is_active)).all() if u]
    granted = 0
    for user_id in ids:
        # The ledger runs its own transactions: one short session per account.
        with session_scope() as session:
            user = session.get(User, user_id)
            if user is not None and pricing.grant_monthly_credits(session, user=user) is not None:
                granted += 1
    return granted


def run_maintenance() -> dict[str, int]:
    """Empty old trash, purge expired uploads and sessions, rebuild thumbnails, embed prompts."""
    storage = get_storage()
    settings = get_settings()
    # The job acts as an admin (an unsaved User): only the role matters to purge_trash.
    system = User(email="maintenance@jsoncraft.local", role=Role.admin.value)
    with session_scope() as session:
        trashed = purge_trash(
            session, viewer=system, older_than=timedelta(days=settings.trash_retention_days)
        )
        purged = purge_expired_assets(session=session, storage=storage)
        sessions = purge_expired_sessions(session)
        rebuilt = rebuild_missing_thumbnails(session=session, storage=storage)
        embedded = refresh_embeddings(session, limit=200)
    granted = grant_plan_credits()
    result = {
        "plan_grants": granted,
        "purged_trash": trashed,
        "purged_assets": purged,
        "purged_sessions": sessions,
        "rebuilt_thumbnails": rebuilt,
        "embedded_prompts": embedded,
    }
    log.info("maintenance done", extra=result)
    return result


@huey.periodic_task(crontab(minute="*/15"), retries=2, retry_delay=30)
def maintenance_task() -> dict[str, int]:
    return run_maintenance()

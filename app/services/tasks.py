"""Background tasks run by the huey worker (`python -m app.cli worker`)."""

from __future__ import annotations

from datetime import timedelta

from huey import crontab

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
    result = {
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

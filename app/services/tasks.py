"""Background tasks run by the huey worker (`python -m app.cli worker`)."""

from __future__ import annotations

from huey import crontab

from app.services.auth import purge_expired_sessions
from app.services.db import session_scope
from app.services.images import purge_expired_assets, rebuild_missing_thumbnails
from app.services.logs import get_logger
from app.services.queue import get_huey
from app.services.storage import get_storage
from app.services.style_memory import refresh_embeddings

huey = get_huey()
log = get_logger("tasks")


def run_maintenance() -> dict[str, int]:
    """Purge expired uploads and sessions, rebuild missing thumbnails, embed new prompts."""
    storage = get_storage()
    with session_scope() as session:
        purged = purge_expired_assets(session=session, storage=storage)
        sessions = purge_expired_sessions(session)
        rebuilt = rebuild_missing_thumbnails(session=session, storage=storage)
        embedded = refresh_embeddings(session, limit=200)
    result = {
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

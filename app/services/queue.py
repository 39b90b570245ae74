"""The job queue: huey on a SQLite file by default, on Redis when REDIS_URL is set."""

from __future__ import annotations

from functools import lru_cache

from huey import Huey, RedisHuey, SqliteHuey

from app.settings import Settings, get_settings


def build_huey(settings: Settings) -> Huey:
    if settings.redis_url:
        return RedisHuey("jsoncraft", url=settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("jsoncraft", filename=str(settings.queue_path))


def get_huey() -> Huey:
    """One queue per configuration: tests and the CLI switch DATA_DIR between calls."""
    settings = get_settings()
    return _huey_for(settings.redis_url or "", str(settings.queue_path.resolve()))


@lru_cache(maxsize=8)
def _huey_for(redis_url: str, queue_path: str) -> Huey:
    return build_huey(get_settings())


def check_queue(huey: Huey) -> int:
    """Pending task count; raises when the queue's storage cannot be reached."""
    return int(huey.pending_count())

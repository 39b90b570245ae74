"""The job queue: huey on a SQLite file by default, on Redis when REDIS_URL is set."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey

from app.settings import Settings, get_settings


def build_huey(settings: Settings) -> Huey:
    return _huey_for(settings.redis_url or "", str(settings.queue_path.resolve()))


def get_huey() -> Huey:
    """One queue per configuration: tests and the CLI switch DATA_DIR between calls."""
    return build_huey(get_settings())


@lru_cache(maxsize=8)
def _huey_for(redis_url: str, queue_path: str) -> Huey:
    if redis_url:
        return RedisHuey("jsoncraft", url=redis_url)
    Path(queue_path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("jsoncraft", filename=queue_path)


def check_queue(huey: Huey) -> int:
    """Pending task count; raises when the queue's storage cannot be reached."""
    return int(huey.pending_count())

"""What `GET /api/health` reports: database, storage, queue and Redis, each up or down.

Redis is optional: with no REDIS_URL it is "not configured", which is a state, not a fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import redis
from sqlalchemy import text

from app.services.core.db import get_engine
from app.services.core.logs import get_logger
from app.services.core.queue import check_queue, get_huey
from app.services.core.storage import get_storage
from app.settings import APP_VERSION, get_settings

log = get_logger("health")

UP, DOWN, NOT_CONFIGURED = "up", "down", "not configured"


@dataclass
class HealthReport:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c["status"] in (UP, NOT_CONFIGURED) for c in self.checks.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "degraded",
            "version": APP_VERSION,
            "checks": self.checks,
        }


def _probe(report: HealthReport, name: str, fn: Any) -> None:
    try:
        detail = fn()
        report.checks[name] = {"status": UP, **(detail or {})}
    except Exception:  # a health probe reports every failure instead of raising
        log.warning("health check failed: %s", name, exc_info=True)
        report.checks[name] = {"status": DOWN}


def _database() -> dict[str, Any]:
    engine = get_engine()
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"backend": engine.dialect.name}


def _storage() -> dict[str, Any]:
    storage = get_storage()
    storage.check()
    return {"backend": type(storage).__name__}


def _queue() -> dict[str, Any]:
    huey = get_huey()
    return {"backend": type(huey).__name__, "pending": check_queue(huey)}


def _redis(url: str) -> dict[str, Any]:
    # Short timeouts: a health page must answer even when Redis hangs.
    client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
    try:
        client.ping()
    finally:
        client.close()
    return {"backend": "Redis"}


def check_health() -> HealthReport:
    report = HealthReport()
    _probe(report, "database", _database)
    _probe(report, "storage", _storage)
    _probe(report, "queue", _queue)
    url = get_settings().redis_url
    if url:
        _probe(report, "redis", lambda: _redis(url))
    else:
        report.checks["redis"] = {"status": NOT_CONFIGURED}
    return report

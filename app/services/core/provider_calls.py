"""Every finished call to a model provider is recorded twice: in the Prometheus metrics (for
scrapes) and as a `ProviderCall` row (for /admin/system's error rates over the last hour).

Recording never slows or breaks the call it describes beyond one small insert: a failed
insert is logged and dropped. Rows older than a week are pruned by the maintenance task.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from app.services.core.db import session_scope
from app.services.core.logs import get_logger
from app.services.core.metrics import count_provider_call, error_kind
from app.services.core.models import ProviderCall, utcnow

log = get_logger("provider_calls")

RETENTION = timedelta(days=7)
__all__ = ["error_kind", "prune_provider_calls", "record_provider_call"]


def record_provider_call(
    provider: str, operation: str, error_kind: str | None, seconds: float
) -> None:
    """Count one finished call (`error_kind` None = it succeeded, else e.g. "rate_limited",
    "timeout", "auth", "unavailable": see metrics.error_kind) and store its row."""
    provider, operation = provider[:40] or "unknown", operation[:40]
    error_kind = error_kind[:40] if error_kind is not None else None
    seconds = max(seconds, 0.0)
    count_provider_call(provider, operation, error_kind, seconds)
    try:
        with session_scope() as session:
            session.add(
                ProviderCall(
                    provider=provider,
                    operation=operation,
                    error_kind=error_kind,
                    duration_ms=round(seconds * 1000),
                )
            )
    except Exception as e:  # the call itself went fine or failed on its own: don't add to it
        log.warning("could not record a %s %s call: %s", provider, operation, e)


def prune_provider_calls(session: Session) -> int:
    """Delete rows older than the retention; returns how many went."""
    cutoff = utcnow() - RETENTION
    statement = delete(ProviderCall).where(col(ProviderCall.created_at) < cutoff)
    result = session.exec(statement.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)

"""Every finished call to a model provider is recorded twice: in the Prometheus metrics (for
scrapes) and as a `ProviderCall` row (for /admin/system's error rates over the last hour).

Recording never slows or breaks the call it describes beyond one small insert: a failed
insert is logged and dropped. Rows older than a week are pruned by the maintenance task.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from app.services.core import metrics
from app.services.core.db import session_scope
from app.services.core.errors import (
    ContentRefusedError,
    InvalidOutputError,
    MissingKeyError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    ProviderPaymentError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
    UnknownModelError,
)
from app.services.core.logs import get_logger
from app.services.core.models import ProviderCall, utcnow

log = get_logger("provider_calls")

RETENTION = timedelta(days=7)
# The most specific class wins: checked in this order.
_KINDS: tuple[tuple[type[ProviderError], str], ...] = (
    (RateLimitedError, "rate_limited"),
    (ProviderTimeoutError, "timeout"),
    (ProviderAuthError, "auth"),
    (MissingKeyError, "missing_key"),
    (ProviderPaymentError, "payment"),
    (ProviderUnavailableError, "unavailable"),
    (ModelNotFoundError, "model_not_found"),
    (UnknownModelError, "unknown_model"),
    (ContentRefusedError, "refused"),
    (InvalidOutputError, "invalid_output"),
)


def error_kind(error: BaseException | None) -> str | None:
    """The short kind an error is counted under; None for no error (the call succeeded)."""
    if error is None:
        return None
    for cls, kind in _KINDS:
        if isinstance(error, cls):
            return kind
    return "provider" if isinstance(error, ProviderError) else "internal"


def record_provider_call(
    provider: str, operation: str, error_kind: str | None, seconds: float
) -> None:
    """Count one finished call (`error_kind` None = it succeeded) and store its row."""
    provider, operation = provider[:40] or "unknown", operation[:40]
    seconds = max(seconds, 0.0)
    metrics.PROVIDER_CALLS.labels(provider=provider, operation=operation).inc()
    metrics.PROVIDER_DURATION.labels(provider=provider, operation=operation).observe(seconds)
    if error_kind is not None:
        error_kind = error_kind[:40]
        metrics.PROVIDER_ERRORS.labels(
            provider=provider, operation=operation, kind=error_kind
        ).inc()
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

"""Provider calls over the last hour: calls, errors and error rate per provider, errors per
kind, and errors per five-minute bucket for a chart (ProviderCall rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from app.services.core.models import ProviderCall, User
from app.services.ops.access import require_admin
from app.services.ops.clock import aware

WINDOW = timedelta(hours=1)
BUCKET = timedelta(minutes=5)
MAX_ERROR_ROWS = 20_000  # the chart's input; an hour of errors beyond this is plenty


@dataclass(frozen=True)
class ProviderRate:
    provider: str
    calls: int
    errors: int

    @property
    def rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class KindCount:
    provider: str
    error_kind: str
    count: int


@dataclass(frozen=True)
class ProviderRates:
    since: datetime
    providers: list[ProviderRate]
    kinds: list[KindCount]
    # bucket start -> provider -> errors, for every bucket of the window (zeros included)
    buckets: list[tuple[datetime, dict[str, int]]]


def provider_rates(session: Session, *, actor: User | None, now: datetime) -> ProviderRates:
    require_admin(actor)
    since = now - WINDOW
    recent = col(ProviderCall.created_at) >= since
    failed = col(ProviderCall.error_kind).is_not(None)
    per_provider = session.exec(
        select(
            ProviderCall.provider,
            func.count(),
            func.sum(case((failed, 1), else_=0)),
        )
        .where(recent)
        .group_by(col(ProviderCall.provider))
    ).all()
    providers = sorted(
        (ProviderRate(provider=p, calls=int(n), errors=int(e or 0)) for p, n, e in per_provider),
        key=lambda r: (-r.errors, r.provider),
    )
    per_kind = session.exec(
        select(ProviderCall.provider, ProviderCall.error_kind, func.count())
        .where(recent, failed)
        .group_by(col(ProviderCall.provider), col(ProviderCall.error_kind))
    ).all()
    kinds = sorted(
        (KindCount(provider=p, error_kind=str(k), count=int(n)) for p, k, n in per_kind),
        key=lambda k: (-k.count, k.provider, k.error_kind),
    )
    return ProviderRates(
        since=since, providers=providers, kinds=kinds, buckets=_buckets(session, since, now)
    )


Buckets = list[tuple[datetime, dict[str, int]]]


def _buckets(session: Session, since: datetime, now: datetime) -> Buckets:
    # Bucketing in Python keeps one query for every database dialect; only failed calls travel.
    count = int(WINDOW / BUCKET)
    start = now - count * BUCKET
    buckets: list[tuple[datetime, dict[str, int]]] = [
        (start + i * BUCKET, {}) for i in range(count)
    ]
    rows = session.exec(
        select(ProviderCall.created_at, ProviderCall.provider)
        .where(col(ProviderCall.created_at) >= since, col(ProviderCall.error_kind).is_not(None))
        .limit(MAX_ERROR_ROWS)
    ).all()
    for created_at, provider in rows:
        # A call stamped at `now` (or a moment after, by another process's clock) belongs to
        # the last bucket, not outside the chart.
        index = min(int((aware(created_at) - start) / BUCKET), count - 1)
        if index >= 0:
            slot = buckets[index][1]
            slot[provider] = slot.get(provider, 0) + 1
    return buckets

"""Refresh the cached catalogues from the providers: the admin's button and the maintenance job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from app.services.analyzer.catalogue import store
from app.services.analyzer.catalogue.entries import (
    OPENAI_COMPATIBLE,
    OPENROUTER,
    parse_openai,
    parse_openrouter,
)
from app.services.analyzer.catalogue.fetch import fetch_models
from app.services.core.db import session_scope
from app.services.core.errors import JSONCraftError, UserFacingError
from app.services.core.logs import get_logger
from app.services.core.models import utcnow
from app.settings import Settings

log = get_logger("catalogue")
# The maintenance job runs every 15 minutes; the catalogues change a few times a week.
MAX_AGE = timedelta(hours=24)


@dataclass(frozen=True)
class RefreshResult:
    source: str
    listed: int = 0
    error: str = ""


def _secret(value: SecretStr | None) -> str | None:
    text = value.get_secret_value().strip() if value is not None else ""
    return text or None


def refresh_openrouter(settings: Settings) -> int:
    """Fetch and store OpenRouter's catalogue; returns how many models it lists."""
    payload = fetch_models(
        base_url=settings.openrouter_base_url,
        api_key=_secret(settings.openrouter_api_key),
        label="OpenRouter",
    )
    entries = parse_openrouter(payload)
    with session_scope() as session:
        return store.replace_source(session, source=OPENROUTER, entries=entries)


def refresh_openai_compatible(settings: Settings) -> int:
    """Fetch and store the OpenAI-compatible endpoint's model list (needs its base URL)."""
    if not settings.openai_compatible_base_url:
        return 0
    payload = fetch_models(
        base_url=settings.openai_compatible_base_url,
        api_key=_secret(settings.openai_compatible_api_key),
        label="The OpenAI-compatible endpoint",
    )
    entries = parse_openai(payload)
    with session_scope() as session:
        return store.replace_source(session, source=OPENAI_COMPATIBLE, entries=entries)


def refresh_all(settings: Settings, *, only_stale: bool = False) -> list[RefreshResult]:
    """Refresh every configured catalogue, each on its own: one failing keeps the other's.

    `only_stale` (the maintenance job): skip catalogues fetched within `MAX_AGE`, and
    OpenRouter's when no OpenRouter key is set, so an offline install makes no requests.
    """
    jobs = [(OPENROUTER, refresh_openrouter)]
    if settings.openai_compatible_base_url:
        jobs.append((OPENAI_COMPATIBLE, refresh_openai_compatible))
    results = []
    for source, refresh in jobs:
        if only_stale and not _due(settings, source):
            continue
        try:
            results.append(RefreshResult(source=source, listed=refresh(settings)))
        except JSONCraftError as e:
            message = e.message if isinstance(e, UserFacingError) else "configuration problem"
            log.warning("catalogue refresh failed", extra={"source": source, "error": message})
            results.append(RefreshResult(source=source, error=message))
    return results


def _due(settings: Settings, source: str) -> bool:
    if source == OPENROUTER and _secret(settings.openrouter_api_key) is None:
        return False
    with session_scope() as session:
        fetched = store.last_fetched(session, source=source)
    return fetched is None or utcnow() - _aware(fetched) >= MAX_AGE


def _aware(when: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written in UTC.
    return when if when.tzinfo else when.replace(tzinfo=UTC)

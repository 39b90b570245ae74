"""What benchmarks/generation_overhead.py found costing time per generation, kept fixed:

- every new event loop's HTTP client loaded the CA bundle again (~0.1 s; a worker starts a
  loop per image): the TLS context is now made once per process;
- resolving a model rebuilt the provider plugin manager (~25 ms, twice per generation): it is
  built once per set of plugins, while the models are still registered again from the current
  settings each time;
- each SQLite commit synced the disk (~15 per generation): WAL with synchronous=NORMAL.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import text

from app.services.analyzer.providers.setup import ensure_models
from app.services.core.db import engine_for
from app.services.core.http import shared_client, tls_context
from app.services.generation.providers.base import ImageModel
from app.settings import Settings, reset_settings


def _ssl_context_of(client: httpx.AsyncClient) -> object:
    pool = client._transport._pool  # type: ignore[attr-defined]
    return pool._ssl_context


def test_clients_of_different_loops_share_one_tls_context() -> None:
    async def context() -> object:
        return _ssl_context_of(await shared_client())

    first, second = asyncio.run(context()), asyncio.run(context())
    assert first is second is tls_context()


def test_models_follow_new_settings_although_the_plugins_load_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = "black-forest-labs/FLUX.1-schnell"
    assert not ensure_models().get_model(name, ImageModel).is_available()  # type: ignore[type-abstract]
    monkeypatch.setenv("TOGETHER_API_KEY", "a-key")
    reset_settings()
    assert ensure_models().get_model(name, ImageModel).is_available()  # type: ignore[type-abstract]


def test_sqlite_commits_in_wal_with_normal_sync(isolated_settings: Settings) -> None:
    engine = engine_for(isolated_settings.resolved_database_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL

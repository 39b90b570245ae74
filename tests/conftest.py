"""Shared fixtures: every test gets its own DATA_DIR and a SQLite file migrated with Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from app.services.analyzer.providers import reset_registry
from app.services.core.db import engine_for
from app.services.core.migrations import upgrade_to_head
from app.settings import Settings, get_settings, reset_settings
from tests.utils.oidc import OidcProvider, running_oidc_provider

_ENV_PREFIXES = (
    "DATABASE_URL",
    "DATA_DIR",
    "STORAGE_BACKEND",
    "S3_",
    "REDIS_URL",
    "APP_ENV",
    "SECRET_KEY",
    "OPENROUTER_",
    "OPENAI_COMPATIBLE_",
    "TOGETHER_",
    "FAL_",
    "PUBLIC_BASE_URL",
    "LORA_",
    "GOOGLE_",
    "STRIPE_",
    "CLAMD_",
    "CLAMAV_",
    "WEBHOOK_",
    "SMTP_",
    "API_URL",
    "APP_URL",
    "METRICS_",
)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Fresh settings per test: a private DATA_DIR, no keys from the developer's environment."""
    import os

    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # so no developer .env file is read
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
    reset_settings()
    yield get_settings()
    reset_settings()
    reset_registry()  # models registered by a test (or against a fake server) don't leak


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    """A real OpenID Connect provider on loopback standing in for Google (one per session;
    users a test adds stay, so tests use their own subjects)."""
    with running_oidc_provider() as provider:
        yield provider


@pytest.fixture
def db_url(isolated_settings: Settings) -> str:
    url = isolated_settings.resolved_database_url
    upgrade_to_head(url)
    return url


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    with Session(engine_for(db_url), expire_on_commit=False) as s:
        yield s


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL on 127.0.0.1: TEST_PG_URL from `make test`, else started here."""
    import os
    import subprocess

    url = os.environ.get("TEST_PG_URL")
    if url:
        yield url
        return
    root = Path(__file__).resolve().parents[1]
    started = subprocess.run(
        [str(root / "scripts" / "postgres.sh"), "start"], capture_output=True, text=True, check=True
    )
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(root / "scripts" / "postgres.sh"), "stop"], check=False)


@pytest.fixture
def pg_url(
    postgres_server: str, isolated_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> str:
    """An empty, freshly migrated PostgreSQL database for one test, used as DATABASE_URL."""
    from sqlalchemy import text

    engine = engine_for(postgres_server)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade_to_head(postgres_server)
    monkeypatch.setenv("DATABASE_URL", postgres_server)
    reset_settings()
    return postgres_server


@pytest.fixture
def pg_session(pg_url: str) -> Iterator[Session]:
    with Session(engine_for(pg_url), expire_on_commit=False) as s:
        yield s


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[str]:
    """A real MariaDB on 127.0.0.1: TEST_MARIADB_URL from `make test`, else started here."""
    import os
    import subprocess

    url = os.environ.get("TEST_MARIADB_URL")
    if url:
        yield url
        return
    script = Path(__file__).resolve().parents[1] / "scripts" / "mariadb.sh"
    started = subprocess.run([str(script), "start"], capture_output=True, text=True, check=True)
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(script), "stop"], check=False)


@pytest.fixture
def mariadb_url(
    mariadb_server: str, isolated_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> str:
    """An empty MariaDB database at the head migration for one test, used as DATABASE_URL.

    Migrating takes ~2 s there, so a database already at head is emptied instead (every row
    deleted, foreign key checks off); one left elsewhere (a downgrade test) is rebuilt."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect, make_url, text

    from app.services.core.migrations import alembic_config

    engine = engine_for(mariadb_server)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.begin() as conn:
        tables = inspect(conn).get_table_names()
        at_head = "alembic_version" in tables and conn.execute(
            text("SELECT version_num FROM alembic_version")
        ).scalars().all() == [head]
        if at_head:
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
            for table in tables:
                if table != "alembic_version":
                    conn.execute(text(f"DELETE FROM `{table}`"))
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
        else:
            name = make_url(mariadb_server).database
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    if not at_head:
        engine.dispose()  # pooled connections had the dropped database selected
        upgrade_to_head(mariadb_server)
    monkeypatch.setenv("DATABASE_URL", mariadb_server)
    reset_settings()
    return mariadb_server


@pytest.fixture
def mariadb_session(mariadb_url: str) -> Iterator[Session]:
    with Session(engine_for(mariadb_url), expire_on_commit=False) as s:
        yield s

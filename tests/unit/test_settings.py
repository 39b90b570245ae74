"""Settings: defaults, the two fixed names, and the refusal of placeholder secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import PLACEHOLDER_SECRET, Settings


def test_database_defaults_to_a_sqlite_file_under_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    assert (
        settings.resolved_database_url == f"sqlite:///{(tmp_path / 'd' / 'jsoncraft.db').resolve()}"
    )


def test_database_url_wins_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:p@127.0.0.1/db")
    assert Settings().resolved_database_url == "postgresql+psycopg://u:p@127.0.0.1/db"


def test_placeholder_secret_is_refused_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", PLACEHOLDER_SECRET)
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings()
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ValueError, match="at least 32"):
        Settings()


def test_development_accepts_the_placeholder_and_missing_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = Settings()
    assert settings.openrouter_api_key is None
    assert settings.stripe_secret_key is None


def test_secrets_do_not_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_supersecretvalue")
    assert "supersecretvalue" not in repr(Settings())

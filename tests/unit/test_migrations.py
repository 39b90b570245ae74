"""Migrations keep data: upgrading a populated database loses nothing (SQLite batch mode)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from alembic import command
from app.services.core.db import engine_for
from app.services.core.migrations import alembic_config, upgrade_to_head
from app.settings import Settings


def _insert_user(conn: Connection) -> None:
    conn.execute(
        text(
            "INSERT INTO users (id, email, display_name, role, plan, is_active, created_at) "
            "VALUES (1, 'a@example.com', 'A', 'user', 'free', 1, '2026-01-01 00:00:00')"
        )
    )


def test_upgrading_from_the_first_release_keeps_prompt_versions(
    isolated_settings: Settings,
) -> None:
    url = isolated_settings.resolved_database_url
    command.upgrade(alembic_config(url), "0002")
    engine = engine_for(url)
    with engine.begin() as conn:
        _insert_user(conn)
        conn.execute(
            text(
                "INSERT INTO prompts (id, owner_id, title, model, style, visibility, "
                "current_version_id, is_favorite, created_at, updated_at) "
                "VALUES (1, 1, 'T', '', '', 'public', 1, 0, "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO prompt_versions (id, prompt_id, number, data, schema_version, "
                "message, created_at) VALUES (1, 1, 1, :data, '1.0', '', '2026-01-01 00:00:00')"
            ),
            {"data": '{"scene": "x"}'},
        )
    upgrade_to_head(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM prompt_versions")).scalar() == 1
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_sessions_from_the_script_readable_cookie_end_on_upgrade(
    isolated_settings: Settings,
) -> None:
    url = isolated_settings.resolved_database_url
    command.upgrade(alembic_config(url), "0009")
    engine = engine_for(url)
    with engine.begin() as conn:
        _insert_user(conn)
        conn.execute(
            text(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at, "
                "user_agent) "
                "VALUES ('abc', 1, '2026-01-01 00:00:00', '2099-01-01 00:00:00', "
                "'2026-01-01 00:00:00', '')"
            )
        )
    upgrade_to_head(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sessions")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 1


def test_lora_trainings_arrive_and_leave_without_touching_generations(
    isolated_settings: Settings,
) -> None:
    url = isolated_settings.resolved_database_url
    command.upgrade(alembic_config(url), "0012")
    engine = engine_for(url)
    with engine.begin() as conn:
        _insert_user(conn)
        conn.execute(
            text(
                "INSERT INTO generations (id, user_id, prompt_data, provider, model, "
                "prompt_format, prompt_sent, width, height, aspect, n, status, "
                "credits_per_image, cancel_requested, attempts, created_at) VALUES (1, 1, '{}', "
                "'offline', 'm', 'text', 'p', 64, 64, '1:1', 1, 'done', 0, 0, 0, "
                "'2026-01-01 00:00:00')"
            )
        )
    upgrade_to_head(url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT loras FROM generations")).scalar() is None
        conn.execute(
            text(
                "INSERT INTO lora_trainings (user_id, name, trigger_word, steps, is_style, "
                "image_count, status, credits, cancel_requested, attempts, created_at) "
                "VALUES (1, 'Me', 'TOK', 1000, 0, 4, 'queued', 0, 0, 0, '2026-01-01 00:00:00')"
            )
        )
    command.downgrade(alembic_config(url), "0012")
    with engine.connect() as conn:
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
        assert "lora_trainings" not in tables
        assert conn.execute(text("SELECT count(*) FROM generations")).scalar() == 1

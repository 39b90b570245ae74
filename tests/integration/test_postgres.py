"""The same migrations and services on a real PostgreSQL server."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlmodel import Session, select

from alembic import command
from app.services.accounts import auth
from app.services.core.db import engine_for
from app.services.core.errors import AuthenticationError, ConflictError, TooManyAttemptsError
from app.services.core.migrations import alembic_config, upgrade_to_head
from app.services.core.models import PromptVersion, User
from app.services.library.writes import create_prompt

pytestmark = pytest.mark.integration
PASSWORD = "correct horse battery staple"

EXPECTED_TABLES = {
    "users",
    "sessions",
    "login_failures",
    "assets",
    "projects",
    "api_keys",
    "prompts",
    "prompt_versions",
    "tags",
    "prompt_tags",
    "analyses",
    "credit_ledger",
    "jobs",
    "update_subscribers",
    "lora_trainings",
    "alembic_version",
}


def test_migrations_create_every_table_and_downgrade_cleanly(pg_url: str) -> None:
    engine = engine_for(pg_url)
    assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES
    command.downgrade(alembic_config(pg_url), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade_to_head(pg_url)
    assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES


def test_accounts_on_postgres(pg_session: Session) -> None:
    auth.create_user(pg_session, email="ada@example.com", password=PASSWORD)
    pg_session.commit()
    with pytest.raises(ConflictError):
        auth.create_user(pg_session, email="ADA@example.com", password=PASSWORD)
    signed = auth.authenticate(pg_session, email="ada@example.com", password=PASSWORD)
    pg_session.commit()
    assert auth.user_for_token(pg_session, signed.token) is not None
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            auth.authenticate(pg_session, email="ada@example.com", password="wrong password")
    with pytest.raises(TooManyAttemptsError):
        auth.authenticate(pg_session, email="ada@example.com", password=PASSWORD)


def test_prompt_json_round_trips(pg_session: Session) -> None:
    from app.services.demo.images import demo_catalog, describe_demo

    user = auth.create_user(pg_session, email="ada@example.com", password=PASSWORD)
    assert user.id is not None
    scene = demo_catalog()[0]
    data = describe_demo(scene, scene.draw())
    prompt = create_prompt(
        pg_session, owner_id=user.id, title="Sunset", data=data, tags=["warm", "Sea"]
    )
    pg_session.commit()
    version = pg_session.exec(
        select(PromptVersion).where(PromptVersion.prompt_id == prompt.id)
    ).one()
    assert version.data == data
    assert pg_session.exec(select(User)).one().email == "ada@example.com"

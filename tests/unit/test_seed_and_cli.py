"""Demo data and the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.cli import main
from app.services.core.models import Asset, Prompt, PromptVersion, User
from app.services.core.storage import get_storage
from app.services.demo.seed import seed_demo
from app.services.library import gallery
from app.services.library.prompts import validate_prompt
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_seed_is_idempotent_and_makes_a_real_gallery(session: Session) -> None:
    storage = get_storage()
    first = seed_demo(session, storage=storage, email="demo@jsoncraft.local")
    second = seed_demo(session, storage=storage, email="demo@jsoncraft.local")
    assert first.created >= 12 and first.existing == 0
    assert second.created == 0 and second.existing == first.created
    prompts = session.exec(select(Prompt)).all()
    assert len(prompts) == first.created
    assert len(session.exec(select(Asset)).all()) == first.created
    for version in session.exec(select(PromptVersion)).all():
        assert validate_prompt(version.data) == []
    page = gallery.list_prompts(session, storage=storage, viewer=None, limit=5)
    assert len(page.items) == 5 and page.next_cursor
    rest = gallery.list_prompts(
        session, storage=storage, viewer=None, limit=100, cursor=page.next_cursor
    )
    ids = [c.id for c in page.items + rest.items]
    assert len(ids) == len(set(ids)) == first.created
    assert all(card.thumbnail_url for card in page.items)
    assert all(storage.exists(a.thumbnail_key or "") for a in session.exec(select(Asset)).all())


def test_private_prompts_are_only_listed_for_their_owner(session: Session) -> None:
    from app.services.accounts import auth
    from app.services.demo.images import demo_catalog, describe_demo
    from app.services.library.writes import create_prompt

    owner = auth.create_user(session, email="owner@example.com", password="a long passphrase here")
    other = auth.create_user(session, email="other@example.com", password="a long passphrase here")
    scene = demo_catalog()[1]
    assert owner.id is not None
    create_prompt(session, owner_id=owner.id, title="Mine", data=describe_demo(scene, scene.draw()))
    session.commit()
    storage = get_storage()
    assert [
        c.title for c in gallery.list_prompts(session, storage=storage, viewer=owner).items
    ] == ["Mine"]
    assert gallery.list_prompts(session, storage=storage, viewer=other).items == []
    assert gallery.list_prompts(session, storage=storage, viewer=None).items == []


def test_a_mangled_cursor_restarts_from_the_first_page() -> None:
    assert gallery.decode_cursor("not-a-cursor") is None
    assert gallery.decode_cursor(None) is None


def test_cli_create_admin_and_seed(
    db_url: str, capsys: pytest.CaptureFixture[str], session: Session
) -> None:
    import io

    sys_stdin = sys.stdin
    sys.stdin = io.StringIO("an admin passphrase 123\n")
    try:
        assert main(["create-admin", "boss@example.com", "--password-stdin"]) == 0
    finally:
        sys.stdin = sys_stdin
    assert "Created admin boss@example.com" in capsys.readouterr().out
    assert session.exec(select(User).where(User.email == "boss@example.com")).one().role == "admin"
    assert main(["create-admin", "not-an-email"]) == 2
    assert "valid email" in capsys.readouterr().err


def test_cli_honours_data_dir_and_database_url(tmp_path: Path, isolated_settings: Settings) -> None:
    env_dir = tmp_path / "elsewhere"
    db_file = tmp_path / "custom.db"
    env = {
        "PATH": "/usr/bin:/bin",
        "DATA_DIR": str(env_dir),
        "DATABASE_URL": f"sqlite:///{db_file}",
        "APP_ENV": "development",
    }
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert db_file.exists()
    alembic = subprocess.run(
        [sys.executable, "-m", "alembic", "current"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert alembic.returncode == 0, alembic.stderr
    assert "(head)" in alembic.stdout
    health = subprocess.run(
        [sys.executable, "-m", "app.cli", "health"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert health.returncode == 0, health.stderr
    assert (env_dir / "queue.db").exists()


def test_production_refuses_the_placeholder_secret(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "APP_ENV": "production"}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr

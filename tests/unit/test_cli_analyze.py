"""`jsoncraft analyze A.jpg B.jpg … --save`: several images, one JSON line each, saved into an
account's gallery with their images and a batch tag; bad files are per-file errors; paid models
reserve, commit or refund credits per image."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.cli import main
from app.services.billing import credits
from app.services.core.db import session_scope
from app.services.core.models import (
    Analysis,
    Asset,
    Conversation,
    Prompt,
    PromptTag,
    PromptVersion,
    Role,
    Tag,
    User,
)
from app.services.core.storage import get_storage
from app.services.demo.images import demo_catalog, render_demo_png
from app.services.library import gallery
from app.services.library.prompts import validate_prompt
from app.settings import get_settings, reset_settings
from tests.utils.fakes.openai_server import FakeOpenAIServer, error_reply, ok
from tests.utils.images import jpeg_bytes, truncated_jpeg
from tests.utils.prompt_factories import make_user

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def owner(session: Session) -> User:
    user = make_user(session, "owner")
    session.commit()
    return user


@pytest.fixture
def images(tmp_path: Path) -> list[Path]:
    poster = tmp_path / "poster.png"
    poster.write_bytes(render_demo_png(next(s for s in demo_catalog() if "poster" in s.slug)))
    blue = tmp_path / "blue.jpg"
    blue.write_bytes(jpeg_bytes((320, 240), (30, 90, 200)))
    return [poster, blue]


def _lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def _tags(session: Session, prompt_id: int) -> set[str]:
    rows = session.exec(
        select(Tag.name).join(PromptTag).where(PromptTag.prompt_id == prompt_id)
    ).all()
    return set(rows)


def test_two_images_saved_land_in_the_owners_gallery_with_images_and_one_batch_tag(
    session: Session, owner: User, images: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["analyze", *map(str, images), "--save", "--owner", "OWNER@example.com "])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = _lines(out)
    assert [line["file"] for line in lines] == [str(p) for p in images]
    tag = err.split("tagged ")[1].rstrip(".\n")
    assert tag.startswith("batch-") and "Saved 2 of 2" in err
    storage = get_storage()
    for line, path in zip(lines, images, strict=True):
        prompt = session.get(Prompt, line["prompt_id"])
        assert prompt is not None and prompt.owner_id == owner.id
        assert prompt.title == path.name and prompt.model == "local/jsoncraft-vision"
        asset = session.get(Asset, prompt.asset_id)
        assert asset is not None and asset.owner_id == owner.id
        assert storage.read_bytes(asset.storage_key) == path.read_bytes()
        version = session.exec(
            select(PromptVersion).where(PromptVersion.prompt_id == prompt.id)
        ).one()
        assert validate_prompt(version.data) == [] and version.data == line["prompt"]
        assert tag in version.data["tags"] and tag in _tags(session, prompt.id or 0)
        # The prompt's page can tell which analysis made it, as after "Save to gallery".
        analysis = session.exec(select(Analysis).where(Analysis.prompt_id == prompt.id)).one()
        assert analysis.user_id == owner.id and analysis.asset_id == asset.id
    found = gallery.list_prompts(
        session, storage=storage, viewer=owner, query=gallery.GalleryQuery(tags=(tag,))
    )
    assert {c.id for c in found.items} == {line["prompt_id"] for line in lines}
    assert len(session.exec(select(Conversation)).all()) == 2
    # The offline model is free: nothing moved in the owner's ledger.
    assert credits.balance(session, user_id=owner.id or 0) == 0


def test_a_broken_file_among_good_ones_is_a_clear_error_and_the_good_ones_are_saved(
    tmp_path: Path,
    session: Session,
    owner: User,
    images: list[Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("not an image at all")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(truncated_jpeg())
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    missing = tmp_path / "nope.png"
    files = [images[0], text, cut, empty, missing, tmp_path, images[1]]
    code = main(["analyze", *map(str, files), "--save", "--owner", "owner@example.com"])
    out, err = capsys.readouterr()
    assert code == 1
    lines = _lines(out)
    assert [line["file"] for line in lines] == [str(p) for p in files]
    good = [lines[0], lines[-1]]
    bad = lines[1:-1]
    assert all("prompt_id" in line and "error" not in line for line in good)
    assert all(set(line) == {"file", "error"} for line in bad)
    assert bad[2]["error"] == "The file is empty."
    assert bad[3]["error"] == "no such file"
    assert bad[4]["error"] == "that is a folder, not an image file"
    assert "text file, not a supported image" in str(bad[0]["error"])
    assert "looks truncated or corrupt" in str(bad[1]["error"])
    assert "Saved 2 of 7" in err and "Traceback" not in err
    saved = session.exec(select(Prompt)).all()
    assert {p.id for p in saved} == {line["prompt_id"] for line in good}
    assert len(session.exec(select(Asset)).all()) == 2  # no image kept from a failed file


def test_save_needs_an_owner_that_exists_and_nothing_runs_without_one(
    session: Session, images: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", *map(str, images), "--save", "--owner", "ghost@example.com"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == "error: No account with the email ghost@example.com.\n"
    assert main(["analyze", str(images[0]), "--owner", "ghost@example.com"]) == 2
    assert "No account with the email ghost@example.com" in capsys.readouterr().err
    assert session.exec(select(Analysis)).all() == []
    assert session.exec(select(Prompt)).all() == []


def test_the_issues_line_saves_into_the_demo_users_gallery(
    tmp_path: Path, images: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`jsoncraft analyze A.jpg B.jpg … --save`, exactly, in its own process: no --owner, so
    the demo user's gallery gets them (as export and import default to)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DATA_DIR": str(tmp_path / "data"),
        "APP_ENV": "development",
        "HF_HUB_OFFLINE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "analyze", *map(str, images), "--save"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    lines = _lines(result.stdout)
    assert [line["file"] for line in lines] == [str(p) for p in images]
    assert all(validate_prompt(line["prompt"]) == [] for line in lines)
    assert "Saved 2 of 2 to the gallery of" in result.stderr and "tagged batch-" in result.stderr
    # Read back what the command saved, from its database.
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    reset_settings()
    with session_scope() as session:
        demo = session.exec(select(User).where(User.email == get_settings().demo_user_email)).one()
        saved = session.exec(select(Prompt)).all()
        assert {p.id for p in saved} == {line["prompt_id"] for line in lines}
        assert all(p.owner_id == demo.id and p.asset_id is not None for p in saved)
        batches = {t for p in saved for t in _tags(session, p.id or 0) if t.startswith("batch-")}
    assert len(batches) == 1  # one tag for the whole run


def test_out_is_for_one_image(
    tmp_path: Path, owner: User, images: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.json"
    assert main(["analyze", *map(str, images), "--out", str(target)]) == 2
    assert "--out takes one image" in capsys.readouterr().err
    assert not target.exists()


def test_one_image_prints_the_json_document_as_before_and_several_print_lines(
    session: Session, images: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(images[0])]) == 0
    single = capsys.readouterr().out
    data = json.loads(single)
    assert validate_prompt(data) == []
    assert single == json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    assert main(["analyze", *map(str, images)]) == 0
    lines = _lines(capsys.readouterr().out)
    assert [set(line) for line in lines] == [{"file", "prompt"}] * 2
    # The same analysis, one line per image (meta records this run's timings).
    first = dict(lines[0]["prompt"])  # type: ignore[call-overload]
    assert {**first, "meta": None} == {**data, "meta": None}
    assert session.exec(select(Prompt)).all() == []  # without --save nothing is saved


def test_paid_model_charges_each_image_and_refunds_the_one_that_failed(
    session: Session,
    owner: User,
    images: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    admin = make_user(session, "boss", Role.admin)
    session.commit()
    credits.grant(
        session,
        user_id=owner.id or 0,
        amount=10,
        reason="test credits",
        actor=admin,
        idempotency_key="seed",
    )
    session.commit()
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test-key")
        monkeypatch.setenv("OPENROUTER_BASE_URL", server.url)
        reset_settings()
        server.script(ok(), error_reply(401, "User not found"))
        code = main(
            [
                "analyze",
                *map(str, images),
                "--model",
                "gpt-4o-mini",
                "--save",
                "--owner",
                "owner@example.com",
            ]
        )
    out, err = capsys.readouterr()
    assert code == 1, err
    first, second = _lines(out)
    assert "prompt_id" in first and "OPENROUTER_API_KEY" in str(second["error"])
    done, failed = session.exec(select(Analysis).order_by(Analysis.id)).all()  # type: ignore[arg-type]
    assert done.status == "succeeded" and done.cost_credits > 0
    assert failed.status == "failed" and failed.cost_credits == 0
    session.expire_all()
    # Reserved per image: the first is committed, the second refunded in full.
    assert credits.balance(session, user_id=owner.id or 0) == 10 - done.cost_credits


def test_the_command_never_shows_a_traceback(tmp_path: Path, images: list[Path]) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    env = {
        "PATH": "/usr/bin:/bin",
        "DATA_DIR": str(tmp_path / "data"),
        "APP_ENV": "development",
        "HF_HUB_OFFLINE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "analyze", str(bad), str(images[1])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    bad_line, good_line = _lines(result.stdout)
    assert bad_line["file"] == str(bad) and bad_line["error"]
    assert validate_prompt(good_line["prompt"]) == []

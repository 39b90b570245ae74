"""The analysis service on the offline model: streamed, validated, recorded; refine; failures."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.services.accounts import auth
from app.services.analyzer import conversations
from app.services.analyzer.analysis import Update, run_analysis
from app.services.analyzer.providers import ImageInput
from app.services.analyzer.providers.setup import ensure_models
from app.services.core.models import Analysis, Conversation, Prompt
from app.services.core.storage import get_storage
from app.services.demo.images import demo_catalog, render_demo_png
from app.services.demo.seed import seed_demo
from app.services.library.prompts import validate_prompt
from app.settings import reset_settings
from tests.utils.fakes.openai_server import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[2]


def _poster() -> bytes:
    return render_demo_png(next(s for s in demo_catalog() if "poster" in s.slug))


def _collect(**kwargs: object) -> list[Update]:
    async def go() -> list[Update]:
        return [u async for u in run_analysis(**kwargs)]  # type: ignore[arg-type]

    return asyncio.run(go())


@pytest.fixture
def models(db_url: str) -> None:
    ensure_models()


def test_describe_streams_partials_then_a_valid_recorded_result(
    models: None, session: Session
) -> None:
    updates = _collect(
        kind="describe", model_id="local", user_id=None, image=ImageInput(_poster(), "image/png")
    )
    kinds = [u.kind for u in updates]
    assert kinds[0] == "started" and kinds[-1] == "result"
    partials = [u.data for u in updates if u.kind == "partial"]
    assert len(partials) >= 5
    sizes = [len(p or {}) for p in partials]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]  # fields arrive one after another
    assert "reasoning" in kinds
    result = updates[-1].data
    assert result is not None and validate_prompt(result) == []
    assert any("JSONCRAFT" in t["text"] for t in result["text_render"])
    row = session.exec(select(Analysis)).one()
    assert row.status == "succeeded" and row.provider == "local"
    assert json.loads(row.raw_output) == result
    assert "Measured" in row.reasoning
    assert row.latency_ms is not None and row.ttft_ms is not None and row.ttft_ms <= row.latency_ms


def test_style_memory_puts_similar_saved_prompts_into_the_request(
    models: None, session: Session
) -> None:
    seed_demo(session, storage=get_storage(), email="demo@jsoncraft.local")
    on = _collect(
        kind="describe", model_id="local", user_id=None, image=ImageInput(_poster(), "image/png")
    )
    assert len(on[0].examples) == 3
    off = _collect(
        kind="describe",
        model_id="local",
        user_id=None,
        image=ImageInput(_poster(), "image/png"),
        use_memory=False,
    )
    assert off[0].examples == ()
    rows = session.exec(select(Analysis).order_by(Analysis.id)).all()  # type: ignore[arg-type]
    assert len(rows[0].options["examples"]) == 3 and rows[1].options["examples"] == []


def test_refine_returns_a_new_valid_prompt(models: None) -> None:
    first = _collect(
        kind="describe", model_id="local", user_id=None, image=ImageInput(_poster(), "image/png")
    )
    current = first[-1].data
    assert current is not None
    refined = _collect(
        kind="refine", model_id="local", user_id=None, current=current, instructions="make it night"
    )
    assert refined[-1].kind == "result"
    assert refined[-1].data is not None and refined[-1].data["lighting"]["key"] == "low-key"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"kind": "describe", "model_id": "no-such-model"}, "Unknown model"),
        ({"kind": "describe", "model_id": "local"}, "Add an image"),
        ({"kind": "refine", "model_id": "local", "current": {"scene": "x"}}, "Say what to change"),
        (
            {"kind": "refine", "model_id": "local", "current": {}, "instructions": "x" * 2001},
            "under 2000",
        ),
    ],
)
def test_bad_requests_get_one_clear_error(models: None, kwargs: dict, fragment: str) -> None:
    updates = _collect(user_id=None, **kwargs)
    assert [u.kind for u in updates] == ["error"]
    assert fragment in updates[0].text


def test_an_edit_the_offline_model_does_not_understand_fails_cleanly(
    models: None, session: Session
) -> None:
    first = _collect(
        kind="describe", model_id="local", user_id=None, image=ImageInput(_poster(), "image/png")
    )
    updates = _collect(
        kind="refine",
        model_id="local",
        user_id=None,
        current=first[-1].data,
        instructions="make it feel like a rainy tuesday",
    )
    assert updates[-1].kind == "error" and "didn't understand" in updates[-1].text
    assert session.exec(select(Analysis).where(Analysis.kind == "refine")).one().status == "failed"


def test_not_an_image_is_refused_before_any_model_runs(models: None) -> None:
    updates = _collect(
        kind="describe", model_id="local", user_id=None, image=ImageInput(b"hello", "image/png")
    )
    assert [u.kind for u in updates] == ["error"]


def test_conversations_are_private_and_saved_as_versions(models: None, session: Session) -> None:
    owner = auth.create_user(session, email="owner@example.com", password="a long passphrase here")
    other = auth.create_user(session, email="other@example.com", password="a long passphrase here")
    assert owner.id is not None and other.id is not None
    conversation = conversations.start(
        session, user_id=owner.id, asset_id=None, model="local", title="t"
    )  # type: ignore[arg-type]
    session.commit()  # the analysis writes its own record from another session
    data = _collect(
        kind="describe",
        model_id="local",
        user_id=owner.id,
        image=ImageInput(_poster(), "image/png"),
    )[-1].data
    conversations.add_turn(session, conversation=conversation, role="assistant", data=data)
    session.commit()
    assert conversation.id is not None
    with pytest.raises(Exception, match="doesn't exist"):
        conversations.save_to_gallery(session, user_id=other.id, conversation_id=conversation.id)
    prompt_id, version = conversations.save_to_gallery(
        session, user_id=owner.id, conversation_id=conversation.id
    )
    assert version == 1
    conversations.add_turn(
        session, conversation=conversation, role="assistant", data={**data, "mood": "calm"}
    )  # type: ignore[dict-item]
    again, version = conversations.save_to_gallery(
        session, user_id=owner.id, conversation_id=conversation.id
    )
    assert again == prompt_id and version == 2
    assert session.get(Prompt, prompt_id) is not None
    assert session.exec(select(Conversation)).one().prompt_id == prompt_id


def test_cli_analyze_prints_json_offline(tmp_path: Path, isolated_settings: object) -> None:
    image = tmp_path / "poster.png"
    image.write_bytes(_poster())
    env = {
        "PATH": "/usr/bin:/bin",
        "DATA_DIR": str(tmp_path / "data"),
        "APP_ENV": "development",
        "HF_HUB_OFFLINE": "1",
    }
    ok = subprocess.run(
        [sys.executable, "-m", "app.cli", "analyze", str(image)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert ok.returncode == 0, ok.stderr
    assert validate_prompt(json.loads(ok.stdout)) == []
    out = tmp_path / "out.json"
    assert (
        subprocess.run(
            [sys.executable, "-m", "app.cli", "analyze", str(image), "--out", str(out)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        ).returncode
        == 0
    )
    assert json.loads(out.read_text())["schema_version"] == "1.0"
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    failed = subprocess.run(
        [sys.executable, "-m", "app.cli", "analyze", str(bad)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert failed.returncode != 0
    assert failed.stderr.count("\n") == 1 and failed.stderr.startswith("error: ")
    missing = subprocess.run(
        [sys.executable, "-m", "app.cli", "analyze", str(tmp_path / "nope.png")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_two_analyses_on_one_loop_share_one_client(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test-key")
        monkeypatch.setenv("OPENROUTER_BASE_URL", server.url)
        reset_settings()
        ensure_models()

        async def two() -> list[list[Update]]:
            return [
                [
                    u
                    async for u in run_analysis(
                        kind="describe",
                        model_id="nemotron",
                        user_id=None,
                        image=ImageInput(_poster(), "image/png"),
                        use_memory=False,
                    )
                ]
                for _ in range(2)
            ]

        runs = asyncio.run(two())

    assert [updates[-1].kind for updates in runs] == ["result", "result"]
    first, second = server.requests
    # The second analysis went over the first one's kept-alive connection: one client.
    assert first.client_port == second.client_port

"""Any model OpenRouter's catalogue lists, end to end against a fake OpenRouter on loopback:
resolved in every spelling, asked for structured output where it takes it, charged what the
call really cost; the REST API and the CLI take the same ids."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.api import create_api
from app.services.accounts import auth
from app.services.analyzer.analysis import Update, run_analysis
from app.services.analyzer.catalogue.refresh import refresh_all
from app.services.analyzer.providers import ImageInput, get_registry
from app.services.analyzer.providers.setup import ensure_models
from app.services.billing import credits, pricing
from app.services.core.errors import UnknownModelError
from app.services.core.models import Analysis, User
from app.settings import Settings, get_settings, reset_settings
from tests.utils.fakes.openai_server import (
    NEMOTRON_VL,
    VALID_PROMPT,
    FakeOpenAIServer,
    ok,
    openai_model_list,
)
from tests.utils.images import jpeg_bytes

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test-key")
        monkeypatch.setenv("OPENROUTER_BASE_URL", fake.url)
        reset_settings()
        ensure_models()
        yield fake


def _refresh() -> None:
    assert [r.error for r in refresh_all(get_settings())] == [""]


def _run(model_id: str, user_id: int | None = None) -> list[Update]:
    async def go() -> list[Update]:
        return [
            u
            async for u in run_analysis(
                kind="describe",
                model_id=model_id,
                user_id=user_id,
                image=ImageInput(jpeg_bytes(), "image/jpeg"),
                use_memory=False,
            )
        ]

    return asyncio.run(go())


def _chat_requests(server: FakeOpenAIServer) -> list[dict]:
    return [r.body for r in server.requests if r.method == "POST"]


def test_the_seeds_paid_model_is_unknown_until_the_catalogue_lists_it(
    server: FakeOpenAIServer,
) -> None:
    failed = _run(NEMOTRON_VL)
    assert failed[-1].kind == "error" and "Unknown model" in failed[-1].text
    assert f"{NEMOTRON_VL}:free" in failed[-1].text  # the closest match is suggested
    _refresh()
    updates = _run(NEMOTRON_VL)
    assert updates[-1].kind == "result" and updates[-1].data == VALID_PROMPT
    sent = _chat_requests(server)[-1]
    assert sent["model"] == NEMOTRON_VL
    assert sent["reasoning"] == {"enabled": True}  # the catalogue says it reasons
    schema = sent["response_format"]["json_schema"]
    assert sent["response_format"]["type"] == "json_schema"
    assert schema["name"] == "jsoncraft_prompt" and schema["strict"] is False
    assert "scene" in schema["schema"]["properties"] and "$schema" not in schema["schema"]


@pytest.mark.parametrize(
    "written",
    [
        NEMOTRON_VL,
        f"openrouter/{NEMOTRON_VL}",
        f"openrouter:{NEMOTRON_VL}",
        f"  OpenRouter:{NEMOTRON_VL.upper()} ",
    ],
)
def test_every_spelling_reaches_the_same_model(server: FakeOpenAIServer, written: str) -> None:
    _refresh()
    assert _run(written)[-1].kind == "result"
    assert _chat_requests(server)[-1]["model"] == NEMOTRON_VL


def test_the_free_variant_keeps_the_built_in_model_and_gets_no_schema_format(
    server: FakeOpenAIServer,
) -> None:
    _refresh()
    assert _run(f"openrouter:{NEMOTRON_VL}:free")[-1].kind == "result"
    sent = _chat_requests(server)[-1]
    assert sent["model"] == f"{NEMOTRON_VL}:free" and "response_format" not in sent


def test_unknown_ids_name_the_closest_catalogue_models(server: FakeOpenAIServer) -> None:
    _refresh()
    with pytest.raises(UnknownModelError) as caught:
        get_registry().get_model("nvidia/nemotron-nano-12b-v2-vlx")
    message = caught.value.message
    assert message.startswith("Unknown model 'nvidia/nemotron-nano-12b-v2-vlx'. Did you mean:")
    assert NEMOTRON_VL in message
    assert _chat_requests(server) == []


def test_a_text_only_model_is_refused_before_any_call(server: FakeOpenAIServer) -> None:
    _refresh()
    updates = _run("acme/model-000")
    assert updates[-1].kind == "error" and "cannot see images" in updates[-1].text
    assert _chat_requests(server) == []


def _funded_user(session: Session, amount: int) -> tuple[int, User]:
    admin, _ = auth.ensure_admin(session, email="boss@example.com", password="a long passphrase")
    user = auth.create_user(session, email="payer@example.com", password="a long passphrase here")
    session.commit()
    assert user.id is not None
    credits.grant(
        session, user_id=user.id, amount=amount, reason="test", actor=admin, idempotency_key="g"
    )
    return user.id, admin


def test_the_charge_is_what_the_call_cost_never_above_the_reservation(
    server: FakeOpenAIServer, session: Session
) -> None:
    _refresh()
    user_id, admin = _funded_user(session, 10)
    # 1000 % markup: the estimate (4k prompt + 2k completion tokens at $0.20/$0.60 per M,
    # $0.002) reserves 2 credits; the fake reports $0.000417, which is 1 credit.
    pricing.set_price(session, actor=admin, key="rule:markup_percent", credits=1000)
    session.commit()
    assert _run(NEMOTRON_VL, user_id)[-1].kind == "result"
    assert credits.balance(session, user_id=user_id) == 9
    row = session.exec(select(Analysis).order_by(Analysis.id.desc())).first()  # type: ignore[union-attr]
    assert row is not None and row.cost_credits == 1
    # A call that cost more than estimated is charged the reservation, not more.
    server.script(ok(cost=0.05))
    assert _run(NEMOTRON_VL, user_id)[-1].kind == "result"
    assert credits.balance(session, user_id=user_id) == 7
    # No reported cost: the reservation stands.
    server.script(ok(usage=False))
    assert _run(NEMOTRON_VL, user_id)[-1].kind == "result"
    assert credits.balance(session, user_id=user_id) == 5


def test_the_api_takes_catalogue_ids_and_explains_unknown_ones(
    server: FakeOpenAIServer, session: Session
) -> None:
    _refresh()
    user_id, _ = _funded_user(session, 5)
    user = session.get(User, user_id)
    assert user is not None
    token = auth.open_session(session, user=user)
    session.commit()
    client = TestClient(create_api())

    def post(model: str):  # type: ignore[no-untyped-def]
        return client.post(
            "/api/analyze",
            headers={"Authorization": f"Bearer {token}"},
            files={"image": ("a.jpg", jpeg_bytes(), "image/jpeg")},
            data={"model": model},
        )

    answer = post(f"openrouter/{NEMOTRON_VL}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["prompt"] == VALID_PROMPT
    unknown = post("nvidia/nemotron-nano-9b")
    assert unknown.status_code == 422
    assert "Did you mean" in unknown.json()["detail"] and NEMOTRON_VL in unknown.json()["detail"]


def test_the_cli_refreshes_the_catalogue_and_analyzes_with_a_catalogue_model(
    server: FakeOpenAIServer, isolated_settings: Settings, tmp_path: Path
) -> None:
    image = tmp_path / "photo.jpg"
    image.write_bytes(jpeg_bytes())
    env = {
        "PATH": "/usr/bin:/bin",
        "DATA_DIR": str(get_settings().data_dir),
        "APP_ENV": "development",
        "OPENROUTER_API_KEY": "sk-or-test-key",
        "OPENROUTER_BASE_URL": server.url,
        "HF_HUB_OFFLINE": "1",
    }
    refreshed = subprocess.run(
        [sys.executable, "-m", "app.cli", "refresh-models"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert refreshed.returncode == 0, refreshed.stderr
    assert json.loads(refreshed.stdout) == [{"source": "openrouter", "listed": 320, "error": ""}]
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "analyze", str(image), "--model", NEMOTRON_VL],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == VALID_PROMPT
    wrong = subprocess.run(
        [sys.executable, "-m", "app.cli", "analyze", str(image), "--model", "nvidia/nemotronn"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert wrong.returncode == 1 and "Did you mean" in wrong.stderr


def test_the_openai_compatible_endpoints_list_works_the_same_way(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenAIServer() as local:
        local.serve_models(openai_model_list(["llava:13b", "qwen2.5vl:7b"]))
        monkeypatch.setenv("OPENAI_COMPATIBLE_BASE_URL", local.url)
        reset_settings()
        ensure_models()
        with pytest.raises(UnknownModelError):
            get_registry().get_model("qwen2.5vl:7b")
        results = {r.source: r for r in refresh_all(get_settings())}
        assert results["openai-compatible"].listed == 2
        for written in ("openai-compatible/qwen2.5vl:7b", "qwen2.5vl:7b"):
            assert _run(written)[-1].kind == "result"
            sent = _chat_requests(local)[-1]
            assert sent["model"] == "qwen2.5vl:7b" and "response_format" not in sent
        with pytest.raises(UnknownModelError, match="Did you mean: openai-compatible/llava:13b"):
            get_registry().get_model("openai-compatible/llava:31b")

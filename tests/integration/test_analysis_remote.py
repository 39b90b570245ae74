"""The analysis service and API against a fake OpenRouter on loopback (real SSE, real httpx)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.api import create_api
from app.services.accounts import auth
from app.services.analyzer.analysis import Update, run_analysis
from app.services.analyzer.providers import ImageInput
from app.services.analyzer.providers.setup import ensure_models
from app.services.core.models import Analysis
from app.services.library.prompts import validate_prompt
from app.settings import reset_settings
from tests.utils.fakes.openai_server import (
    REASONING,
    SCHEMA_INVALID_CONTENT,
    VALID_PROMPT,
    FakeOpenAIServer,
    error_reply,
    ok,
)
from tests.utils.images import jpeg_bytes

pytestmark = pytest.mark.integration
MODEL = "nvidia/nemotron-nano-12b-v2-vl:free"


@pytest.fixture
def server(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test-key")
        monkeypatch.setenv("OPENROUTER_BASE_URL", fake.url)
        reset_settings()
        ensure_models()
        yield fake


def _run(**kwargs: object) -> list[Update]:
    kwargs.setdefault("user_id", None)

    async def go() -> list[Update]:
        return [
            u
            async for u in run_analysis(  # type: ignore[arg-type]
                kind="describe",
                model_id=MODEL,
                image=ImageInput(jpeg_bytes(), "image/jpeg"),
                use_memory=False,
                **kwargs,
            )
        ]

    return asyncio.run(go())


def test_streams_reasoning_and_fields_and_records_usage(
    server: FakeOpenAIServer, session: Session
) -> None:
    updates = _run()
    assert updates[-1].kind == "result" and updates[-1].data == VALID_PROMPT
    reasoning = "".join(u.text for u in updates if u.kind == "reasoning")
    assert reasoning == REASONING
    assert len([u for u in updates if u.kind == "partial"]) >= 3
    sent = server.requests[0]
    assert sent.headers["authorization"] == "Bearer sk-or-test-key"
    user_content = sent.body["messages"][-1]["content"]
    assert any(
        p["type"] == "image_url" and p["image_url"]["url"].startswith("data:image/jpeg;base64,")
        for p in user_content
    )
    assert sent.body["stream"] is True
    row = session.exec(select(Analysis)).one()
    assert row.status == "succeeded" and row.provider == "openrouter"
    assert row.prompt_tokens > 0 and row.completion_tokens > 0
    assert row.reasoning == REASONING
    assert row.options.get("reasoning_details")
    assert row.cost_credits == 1


def test_invalid_output_is_retried_with_the_validation_errors(
    server: FakeOpenAIServer, session: Session
) -> None:
    server.script(ok(SCHEMA_INVALID_CONTENT), ok())
    updates = _run()
    assert updates[-1].kind == "result" and validate_prompt(updates[-1].data) == []
    assert len(server.requests) == 2
    correction = server.requests[1].body["messages"][-1]["content"]
    text = correction if isinstance(correction, str) else json.dumps(correction)
    assert "not a valid JSON prompt" in text and "color_palette" in text


def test_output_that_never_validates_fails_readably_and_keeps_the_raw_text(
    server: FakeOpenAIServer, session: Session
) -> None:
    server.scenario("schema_invalid")
    updates = _run()
    assert updates[-1].kind == "error"
    assert "could not be turned into a valid prompt" in updates[-1].text
    row = session.exec(select(Analysis)).one()
    assert row.status == "invalid" and row.cost_credits == 0
    assert "second attempt" in row.raw_output and '"subjects": "a boat"' in row.raw_output


def test_json_in_markdown_fences_is_repaired(server: FakeOpenAIServer) -> None:
    fenced = "Here you go:\n```json\n" + json.dumps(VALID_PROMPT) + ",\n```"
    server.script(ok(fenced))
    updates = _run()
    assert updates[-1].kind == "result" and updates[-1].data == VALID_PROMPT
    assert updates[-1].notes


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        (error_reply(401, "No auth credentials found"), "OPENROUTER_API_KEY"),
        (error_reply(402, "Insufficient credits"), "credit"),
        (error_reply(429, "slow down", headers={"Retry-After": "7"}), "7"),
        (error_reply(404, "No endpoints found"), "not"),
    ],
)
def test_errors_a_user_can_act_on(
    server: FakeOpenAIServer, session: Session, reply: object, fragment: str
) -> None:
    server.script(reply)  # type: ignore[arg-type]
    updates = _run()
    assert updates[-1].kind == "error"
    assert fragment.lower() in updates[-1].text.lower()
    assert "sk-or-test-key" not in updates[-1].text
    assert session.exec(select(Analysis)).one().status == "failed"


def test_server_errors_are_retried_then_fail_cleanly(server: FakeOpenAIServer) -> None:
    server.scenario("flaky")
    assert _run()[-1].kind == "result"
    server.scenario("down")
    before = len(server.requests)
    updates = _run()
    assert updates[-1].kind == "error" and len(server.requests) - before == 3


def test_a_stream_cut_part_way_fails_without_a_stack_trace(server: FakeOpenAIServer) -> None:
    server.scenario("truncated")
    updates = _run()
    assert updates[-1].kind == "error"
    assert "Traceback" not in updates[-1].text


def test_missing_key_says_what_to_do(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    reset_settings()
    ensure_models()
    updates = _run()
    assert updates[-1].kind == "error" and "OPENROUTER_API_KEY" in updates[-1].text


def test_the_api_streams_a_remote_model_as_sse(server: FakeOpenAIServer, session: Session) -> None:
    from app.services.core.models import User

    user = session.get(User, _funded_user(session, 5))
    assert user is not None
    token = auth.open_session(session, user=user)
    session.commit()
    client = TestClient(create_api())
    response = client.post(
        "/api/analyze?stream=true",
        headers={"Authorization": f"Bearer {token}"},
        files={"image": ("a.jpg", jpeg_bytes(), "image/jpeg")},
        data={"model": "nemotron"},
    )
    assert response.status_code == 200
    names = [line[7:] for line in response.text.splitlines() if line.startswith("event: ")]
    assert names[0] == "started" and names[-1] == "done" and "reasoning" in names
    server.scenario("unauthorized")
    failed = client.post(
        "/api/analyze?stream=true",
        headers={"Authorization": f"Bearer {token}"},
        files={"image": ("a.jpg", jpeg_bytes(), "image/jpeg")},
        data={"model": "nemotron"},
    )
    assert "event: error" in failed.text and "sk-or-test-key" not in failed.text


def _funded_user(session: Session, amount: int) -> int:
    from app.services.billing import credits

    admin, _ = auth.ensure_admin(
        session, email="boss@example.com", password="a long passphrase here"
    )
    user = auth.create_user(session, email="payer@example.com", password="a long passphrase here")
    session.commit()
    assert user.id is not None
    if amount:
        credits.grant(
            session,
            user_id=user.id,
            amount=amount,
            reason="test",
            actor=admin,
            idempotency_key="test-grant",
        )
    return user.id


def _balance(session: Session, user_id: int) -> int:
    from app.services.billing import credits

    return credits.balance(session, user_id=user_id)


def test_a_paid_analysis_reserves_then_commits_its_cost(
    server: FakeOpenAIServer, session: Session
) -> None:
    user_id = _funded_user(session, 5)
    assert _run(user_id=user_id)[-1].kind == "result"
    assert _balance(session, user_id) == 4


@pytest.mark.parametrize("scenario", ["unauthorized", "schema_invalid", "down"])
def test_failed_analyses_are_refunded(
    server: FakeOpenAIServer, session: Session, scenario: str
) -> None:
    user_id = _funded_user(session, 5)
    server.scenario(scenario)
    assert _run(user_id=user_id)[-1].kind == "error"
    assert _balance(session, user_id) == 5


def test_without_credits_nothing_is_sent_and_the_message_says_why(
    server: FakeOpenAIServer, session: Session
) -> None:
    user_id = _funded_user(session, 0)
    updates = _run(user_id=user_id)
    assert updates[-1].kind == "error" and "balance" in updates[-1].text
    assert server.requests == []
    assert _balance(session, user_id) == 0

"""Fal.ai vision models in the analyzer: through Fal's queue (a loopback fake, real HTTP) into
the same repair, validation, records and credits as every remote model."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, select

from app.services.accounts import auth
from app.services.analyzer.analysis import Update, run_analysis
from app.services.analyzer.catalogue.offers import picker_page
from app.services.analyzer.providers import ChatMessage, ChatRequest, ImageInput, get_registry
from app.services.analyzer.providers.fal_vision import ENDPOINT
from app.services.analyzer.providers.setup import ensure_models
from app.services.billing import credits, pricing
from app.services.core.errors import InvalidInputError
from app.services.core.models import Analysis
from app.services.library.prompts import validate_prompt
from app.settings import get_settings, reset_settings
from tests.utils.fakes.fal_queue_server import KEY, FakeFalQueueServer, error, serve
from tests.utils.fakes.openai_server import SCHEMA_INVALID_CONTENT, VALID_PROMPT
from tests.utils.images import jpeg_bytes
from tests.utils.job_helpers import make_user

MODEL = "fal/google/gemini-2.5-flash"
USAGE = {"prompt_tokens": 3100, "completion_tokens": 420, "cost": 0.0019, "total_tokens": 3520}


def answer(text: str) -> dict[str, Any]:
    return {"output": text, "usage": USAGE}


@pytest.fixture
def fal(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFalQueueServer]:
    for server in serve():
        monkeypatch.setenv("FAL_QUEUE_URL", server.url)
        monkeypatch.setenv("FAL_KEY", KEY)
        monkeypatch.setenv("FAL_POLL_INTERVAL_SECONDS", "0")  # poll at once: no real waiting
        reset_settings()
        ensure_models()
        server.outputs = [answer(json.dumps(VALID_PROMPT))]
        yield server


def _run(**kwargs: object) -> list[Update]:
    kwargs.setdefault("user_id", None)
    kwargs.setdefault("model_id", MODEL)

    async def go() -> list[Update]:
        return [
            u
            async for u in run_analysis(  # type: ignore[arg-type]
                kind="describe",
                image=ImageInput(jpeg_bytes(), "image/jpeg"),
                use_memory=False,
                **kwargs,
            )
        ]

    return asyncio.run(go())


def _submits(server: FakeFalQueueServer) -> list[Any]:
    return [r for r in server.requests if r.method == "POST"]


def _funded_user(session: Session, amount: int) -> int:
    user_id = make_user(session, "payer@example.com", balance=amount).id
    assert user_id is not None
    return user_id


def _balance(session: Session, user_id: int) -> int:
    return credits.balance(session, user_id=user_id)


# -- the happy path ----------------------------------------------------------------------------


def test_describe_runs_through_the_queue_into_a_valid_recorded_prompt(
    fal: FakeFalQueueServer, session: Session
) -> None:
    updates = _run()

    assert updates[0].kind == "started" and updates[-1].kind == "result"
    assert updates[-1].data == VALID_PROMPT and validate_prompt(updates[-1].data) == []
    # Progress while it waits, in the running text beside the fields.
    status = "".join(u.text for u in updates if u.kind == "reasoning")
    assert "2 ahead" in status and "0 ahead" in status and "running the model" in status
    [submit] = _submits(fal)
    assert (submit.path, submit.headers["authorization"]) == (f"/{ENDPOINT}", f"Key {KEY}")
    assert submit.body["model"] == "google/gemini-2.5-flash"
    assert '"schema_version"' in submit.body["system_prompt"]  # the schema rides along
    assert submit.body["prompt"].startswith("Describe this image as a JSON prompt.")
    [image] = submit.body["image_urls"]
    assert image.startswith("data:image/jpeg;base64,")
    # Only the URLs the queue returned were followed (the app id, without "/vision").
    later = [r.path.split("/requests/")[0] for r in fal.requests if r.method != "POST"]
    assert later and set(later) == {"/openrouter/router"}
    row = session.exec(select(Analysis)).one()
    assert (row.status, row.provider, row.model) == ("succeeded", "fal", MODEL)
    assert (row.prompt_tokens, row.completion_tokens) == (3100, 420)
    assert json.loads(row.raw_output) == VALID_PROMPT
    assert row.cost_credits == 3


def test_json_wrapped_in_prose_and_fences_is_repaired(fal: FakeFalQueueServer) -> None:
    fal.outputs = [answer("Sure!\n```json\n" + json.dumps(VALID_PROMPT) + ",\n```\nEnjoy.")]
    updates = _run()
    assert updates[-1].kind == "result" and updates[-1].data == VALID_PROMPT
    assert updates[-1].notes
    assert len(_submits(fal)) == 1


def test_a_reply_that_fails_the_schema_is_sent_back_once_with_its_problems(
    fal: FakeFalQueueServer,
) -> None:
    fal.outputs = [answer(SCHEMA_INVALID_CONTENT), answer(json.dumps(VALID_PROMPT))]
    updates = _run()
    assert updates[-1].kind == "result" and updates[-1].data == VALID_PROMPT
    first, second = _submits(fal)
    # The retry is a conversation; the endpoint takes one prompt, so it goes as a transcript.
    prompt = second.body["prompt"]
    assert "Your previous reply:\n" + SCHEMA_INVALID_CONTENT in prompt
    assert "not a valid JSON prompt" in prompt and "color_palette" in prompt
    assert second.body["image_urls"] == first.body["image_urls"]


@pytest.mark.parametrize(
    "text",
    [
        "I could not analyse this image, sorry!",
        SCHEMA_INVALID_CONTENT,
        '{"scene": "a boat", "subjects": [',
    ],
)
def test_an_answer_that_never_validates_is_refused_clearly_and_refunded(
    fal: FakeFalQueueServer, session: Session, text: str
) -> None:
    user_id = _funded_user(session, 5)
    fal.outputs = [answer(text)]
    updates = _run(user_id=user_id)
    assert updates[-1].kind == "error"
    assert "could not be turned into a valid prompt" in updates[-1].text
    assert len(_submits(fal)) == 2
    row = session.exec(select(Analysis)).one()
    assert row.status == "invalid" and row.cost_credits == 0
    assert "second attempt" in row.raw_output
    assert _balance(session, user_id) == 5


@pytest.mark.parametrize(
    "output",
    [{"output": ""}, {"output": "   \n"}, {"usage": USAGE}, {"output": None}, ["not", "a", "dict"]],
)
def test_a_finished_request_without_an_answer_fails_readably(
    fal: FakeFalQueueServer, session: Session, output: Any
) -> None:
    user_id = _funded_user(session, 5)
    fal.outputs = [output]
    updates = _run(user_id=user_id)
    assert updates[-1].kind == "error" and "finished without an answer" in updates[-1].text
    assert session.exec(select(Analysis)).one().status == "failed"
    assert _balance(session, user_id) == 5


def test_refine_sends_the_current_prompt_and_the_edit_as_a_transcript(
    fal: FakeFalQueueServer,
) -> None:
    night = {**VALID_PROMPT, "mood": "nocturnal"}
    fal.outputs = [answer(json.dumps(night))]

    async def go() -> list[Update]:
        return [
            u
            async for u in run_analysis(
                kind="refine",
                model_id="fal-gemini",
                user_id=None,
                current=VALID_PROMPT,
                instructions="make it night",
                use_memory=False,
            )
        ]

    updates = asyncio.run(go())
    assert updates[-1].kind == "result" and updates[-1].data == night
    [submit] = _submits(fal)
    assert "image_urls" not in submit.body
    assert json.dumps(VALID_PROMPT, ensure_ascii=False) in submit.body["prompt"]
    assert submit.body["prompt"].endswith("User:\nEdit request: make it night")


# -- errors from the queue ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        (error(401, "Invalid Key"), "FAL_KEY"),
        (error(403, "User is locked. Reason: Exhausted balance."), "out of credit"),
        (error(402, "Payment required"), "out of credit"),
    ],
)
def test_key_and_balance_errors_say_what_to_do_and_refund(
    fal: FakeFalQueueServer, session: Session, reply: Any, fragment: str
) -> None:
    user_id = _funded_user(session, 5)
    fal.script(reply)
    updates = _run(user_id=user_id)
    assert updates[-1].kind == "error" and fragment in updates[-1].text
    assert KEY not in updates[-1].text and "Traceback" not in updates[-1].text
    row = session.exec(select(Analysis)).one()
    assert row.status == "failed" and row.cost_credits == 0
    assert _balance(session, user_id) == 5


def test_a_rejected_key_while_polling_fails_and_refunds(
    fal: FakeFalQueueServer, session: Session
) -> None:
    user_id = _funded_user(session, 5)
    fal.script_polls(error(401, "Invalid Key"))
    updates = _run(user_id=user_id)
    assert updates[-1].kind == "error" and "FAL_KEY" in updates[-1].text
    assert _balance(session, user_id) == 5


def test_a_request_past_the_time_limit_is_cancelled_at_fal_and_refunded(
    fal: FakeFalQueueServer, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENERATION_TIMEOUT_SECONDS", "0.3")
    reset_settings()
    ensure_models()
    fal.finish = False  # the request never leaves the queue
    user_id = _funded_user(session, 5)
    updates = _run(user_id=user_id)
    assert updates[-1].kind == "error"
    assert "did not finish" in updates[-1].text and "cancelled" in updates[-1].text
    cancels = [r for r in fal.requests if r.method == "PUT"]
    # (FalQueue asks twice: once at the deadline, once more as any failed poll does; the
    # second answers ALREADY_COMPLETED.)
    assert cancels and all(r.path.endswith("/cancel") for r in cancels)
    [queued] = fal.queued.values()
    assert queued.cancelled
    assert session.exec(select(Analysis)).one().status == "failed"
    assert _balance(session, user_id) == 5


def test_stopping_an_analysis_while_it_waits_cancels_the_request_and_refunds(
    fal: FakeFalQueueServer, session: Session
) -> None:
    fal.finish = False
    user_id = _funded_user(session, 5)

    async def go() -> list[Update]:
        seen: list[Update] = []
        updates = run_analysis(
            kind="describe",
            model_id=MODEL,
            user_id=user_id,
            image=ImageInput(jpeg_bytes(), "image/jpeg"),
            use_memory=False,
        )
        async for update in updates:
            seen.append(update)
            if "running the model" in update.text:
                break  # the person pressed Stop
        await updates.aclose()
        return seen

    seen = asyncio.run(go())
    assert seen[-1].kind == "reasoning"
    [queued] = fal.queued.values()
    assert queued.cancelled
    assert session.exec(select(Analysis)).one().status == "cancelled"
    assert _balance(session, user_id) == 5


# -- credits -----------------------------------------------------------------------------------


def test_a_paid_analysis_reserves_then_commits_the_models_price(
    fal: FakeFalQueueServer, session: Session
) -> None:
    user_id = _funded_user(session, 5)
    assert _run(user_id=user_id)[-1].kind == "result"
    assert _balance(session, user_id) == 2


def test_an_admins_price_is_what_is_charged(fal: FakeFalQueueServer, session: Session) -> None:
    admin, _ = auth.ensure_admin(
        session, email="boss@example.com", password="a long passphrase here"
    )
    pricing.set_price(session, actor=admin, key=f"model:{MODEL}", credits=1)
    session.commit()
    user_id = _funded_user(session, 5)
    assert _run(user_id=user_id)[-1].kind == "result"
    assert _balance(session, user_id) == 4


def test_without_credits_nothing_is_sent_to_fal(fal: FakeFalQueueServer, session: Session) -> None:
    user_id = _funded_user(session, 0)
    updates = _run(user_id=user_id)
    assert updates[-1].kind == "error" and "balance" in updates[-1].text
    assert fal.requests == []


# -- the picker, prices and options ------------------------------------------------------------


def test_without_a_fal_key_the_picker_is_as_it_was(db_url: str, session: Session) -> None:
    ensure_models()
    ids = [m.info.model_id for m in picker_page(session, settings=get_settings()).models]
    assert ids and not any(i.startswith("fal/") for i in ids)
    assert not any(k.startswith("model:fal/") for k in pricing.default_prices())
    updates = _run()
    assert [u.kind for u in updates] == ["error"] and "Unknown model" in updates[0].text


def test_with_a_fal_key_the_models_are_offered_priced_beside_openrouter(
    fal: FakeFalQueueServer, session: Session
) -> None:
    page = picker_page(session, settings=get_settings()).models
    ids = [m.info.model_id for m in page]
    assert ids.index(MODEL) > ids.index("google/gemini-2.5-flash")  # after OpenRouter's
    fal_models = {m.info.model_id: m for m in page if m.info.provider == "fal"}
    assert set(fal_models) == {MODEL, "fal/openai/gpt-4o-mini"}
    assert fal_models[MODEL].credits == 3 and fal_models[MODEL].unavailable == ""
    assert fal_models["fal/openai/gpt-4o-mini"].credits == 2
    assert pricing.default_prices()[f"model:{MODEL}"] == 3
    # OpenRouter's own ids and aliases still mean OpenRouter's models.
    assert get_registry().get_model("gemini").info.provider == "openrouter"
    assert get_registry().get_model("FAL-GEMINI").info.model_id == MODEL


def test_options_are_checked_before_anything_is_sent(fal: FakeFalQueueServer) -> None:
    model = get_registry().get_model(MODEL)
    messages = (ChatMessage("user", "hi", image=ImageInput(jpeg_bytes(), "image/jpeg")),)

    async def first(options: dict[str, Any]) -> list[Any]:
        return [e async for e in model.stream(ChatRequest(messages, options=options))]

    for bad, fragment in [
        ({"reasoning_effort": "high"}, "Unknown option reasoning_effort"),
        ({"temperature": 3}, "temperature must be a number from 0 to 2"),
        ({"max_tokens": "5"}, "max_tokens must be"),
    ]:
        with pytest.raises(InvalidInputError, match=fragment):
            asyncio.run(first(bad))
    assert fal.requests == []
    asyncio.run(first({"temperature": 0.2, "max_tokens": 900, "task": "describe"}))
    [submit] = _submits(fal)
    assert submit.body["temperature"] == 0.2 and submit.body["max_tokens"] == 900
    assert "task" not in submit.body and "system_prompt" not in submit.body

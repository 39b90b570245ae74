"""Analyses: image → streamed, schema-valid JSON prompt (describe), and follow-up edits (refine).

The service, not the UI, records every call: model, options, raw output, reasoning, tokens,
cost, latency, time to first token, error. Nothing unvalidated leaves as a prompt: output is
repaired, validated, retried once with the validation errors, and otherwise fails readably.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import httpx

from app.services import analytics
from app.services.analyzer.jsonrepair import coerce_to_schema, repair_json
from app.services.analyzer.jsonstream import PartialJSONParser
from app.services.analyzer.providers import (
    ChatMessage,
    ChatRequest,
    ContentDelta,
    ImageInput,
    Model,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    Usage,
    get_registry,
)
from app.services.analyzer.style_memory import Example, examples_block, similar_prompts
from app.services.analyzer.vision.caption import quick_caption
from app.services.billing import credits as ledger
from app.services.billing import pricing
from app.services.core import metrics
from app.services.core.db import session_scope
from app.services.core.error_events import record_error
from app.services.core.errors import InvalidInputError, ProviderError, UserFacingError, new_error_id
from app.services.core.http import shared_client
from app.services.core.logs import get_logger
from app.services.core.models import Analysis, utcnow
from app.services.core.provider_calls import error_kind, record_provider_call
from app.services.library.prompts import SCHEMA_VERSION, load_schema, validate_prompt

log = get_logger("analysis")
Kind = Literal["describe", "refine"]
MAX_INSTRUCTIONS = 2000


@dataclass(frozen=True)
class Update:
    """One step of an analysis as the UI and the SSE API see it."""

    kind: Literal["started", "reasoning", "partial", "result", "error"]
    text: str = ""
    data: dict[str, Any] | None = None
    analysis_id: int | None = None
    examples: tuple[Example, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass
class _Run:
    raw: str = ""
    reasoning: str = ""
    usage: Usage | None = None
    cost_usd: float | None = None  # summed over the calls (a retry costs too), as reported
    ttft_ms: int | None = None
    finish: str | None = None
    details: list[dict[str, Any]] = field(default_factory=list)


def _schema_text() -> str:
    return json.dumps(load_schema(), separators=(",", ":"))


DESCRIBE_SYSTEM = (
    "You are JSONCraft's describing agent. Look at the image and write a JSON prompt that an "
    "image model could use to recreate it. Reply with ONE JSON object and nothing else (no "
    "prose, no markdown). It must validate against this JSON Schema (Draft 2020-12), with "
    '"schema_version": "{version}":\n{schema}\n'
    "Describe what is really there: subjects with position and action, style and medium, a "
    "colour palette of 5-8 hex colours with proportions, lighting, mood, background, "
    "composition, camera, and any text that appears in the image under text_render."
)

REFINE_SYSTEM = (
    "You are JSONCraft's refinement agent. You receive the current JSON prompt and an edit "
    "request. Return the COMPLETE updated JSON object and nothing else. Change only what the "
    'request asks for, keep every other field as it is, keep "schema_version": "{version}", '
    "and stay valid against this JSON Schema:\n{schema}"
)

EXAMPLES_INTRO = (
    "The user's saved prompts most similar to this request follow. Match their level of "
    "detail and vocabulary, not their content:\n"
)


def build_describe_messages(
    image: ImageInput, instructions: str, examples: list[Example]
) -> tuple[ChatMessage, ...]:
    system = DESCRIBE_SYSTEM.format(version=SCHEMA_VERSION, schema=_schema_text())
    if examples:
        system += "\n\n" + EXAMPLES_INTRO + examples_block(examples)
    user = "Describe this image as a JSON prompt."
    if instructions:
        user += f"\nExtra instructions from the user: {instructions}"
    return (ChatMessage("system", system), ChatMessage("user", user, image=image))


def build_refine_messages(
    current: dict[str, Any], instruction: str, examples: list[Example]
) -> tuple[ChatMessage, ...]:
    system = REFINE_SYSTEM.format(version=SCHEMA_VERSION, schema=_schema_text())
    if examples:
        system += "\n\n" + EXAMPLES_INTRO + examples_block(examples)
    return (
        ChatMessage("system", system),
        ChatMessage("assistant", json.dumps(current, ensure_ascii=False)),
        ChatMessage("user", f"Edit request: {instruction}"),
    )


def _correction(raw: str, problems: list[str]) -> tuple[ChatMessage, ...]:
    listed = "\n".join(f"- {p}" for p in problems[:20])
    return (
        ChatMessage("assistant", raw[:20000]),
        ChatMessage(
            "user",
            "That reply is not a valid JSON prompt:\n"
            f"{listed}\nReturn the corrected, complete JSON object only.",
        ),
    )


def validated(raw: str) -> tuple[dict[str, Any] | None, list[str], list[str]]:
    """(data, repair notes, problems): data is set only when it passes the schema."""
    try:
        data, notes = repair_json(raw)
    except UserFacingError as e:
        return None, [], [e.message]
    data, coerced = coerce_to_schema(data, load_schema())
    data.setdefault("schema_version", SCHEMA_VERSION)
    errors = validate_prompt(data)
    if errors:
        return None, notes + coerced, [f"{e.path or '(top level)'}: {e.message}" for e in errors]
    return data, notes + coerced, []


# ---------------------------------------------------------------------------------- records


def _start_record(
    *, user_id: int | None, asset_id: int | None, model: Model, kind: Kind, options: dict[str, Any]
) -> int:
    with session_scope() as session:
        row = Analysis(
            user_id=user_id,
            asset_id=asset_id,
            provider=model.info.provider,
            model=model.info.model_id,
            options=options,
            status="running",
            kind=kind,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def _finish_record(
    analysis_id: int,
    *,
    run: _Run,
    status: str,
    started: float,
    credits: int,
    error: str | None = None,
) -> None:
    with session_scope() as session:
        row = session.get(Analysis, analysis_id)
        if row is None:
            return
        row.status = status
        row.raw_output = run.raw[:200_000]
        row.reasoning = run.reasoning[:200_000]
        if run.usage is not None:
            row.prompt_tokens = run.usage.prompt_tokens
            row.completion_tokens = run.usage.completion_tokens
        if run.details:
            row.options = {**row.options, "reasoning_details": run.details[:50]}
        row.cost_credits = credits if status == "succeeded" else 0
        row.latency_ms = int((time.perf_counter() - started) * 1000)
        row.ttft_ms = run.ttft_ms
        row.error = error[:2000] if error else None
        row.finished_at = utcnow()
        session.add(row)
        if status == "succeeded":
            analytics.capture_after_commit(
                session, row.user_id, "analysis_done", {"model": row.model, "credits": credits}
            )
        model = row.model
    metrics.ANALYSES.labels(model=model, outcome=status).inc()
    metrics.ANALYSIS_DURATION.labels(model=model, outcome=status).observe(
        time.perf_counter() - started
    )


def _quote(model: Model) -> pricing.ModelQuote:
    """The admin's price for this model, else the markup rule on a catalogue model's list
    prices, else its built-in credits per call."""
    with session_scope() as session:
        return pricing.quote_model(
            session,
            model_id=model.info.model_id,
            default=model.info.credits_per_call,
            usd_per_call=model.info.usd_per_call,
        )


def _charge(quote: pricing.ModelQuote, cost_usd: float | None) -> int:
    """What the finished call costs: from the provider's reported USD cost where the price
    follows it, never above what was reserved."""
    with session_scope() as session:
        return pricing.charge_for_call(session, quote=quote, cost_usd=cost_usd)


def _reserve(user_id: int | None, analysis_id: int, credits: int) -> str | None:
    """Hold the cost before the call; None when nothing is charged (free model, no account)."""
    if user_id is None or credits <= 0:
        return None
    key = f"analysis:{analysis_id}"
    with session_scope() as session:
        ledger.reserve(
            session,
            user_id=user_id,
            amount=credits,
            idempotency_key=key,
            reference=f"analysis {analysis_id}",
        )
    return key


def _settle(key: str | None, *, charge: int | None) -> None:
    """Commit the real cost, or refund everything (charge None) when the call failed."""
    if key is None:
        return
    with session_scope() as session:
        if charge is None:
            ledger.refund(session, key=key)
        else:
            ledger.commit(session, key=key, actual=charge)


def _find_examples(query: str, viewer_id: int | None, use_memory: bool) -> list[Example]:
    if not use_memory or not query.strip():
        return []
    with session_scope() as session:
        return similar_prompts(session, query=query, viewer_id=viewer_id, k=3)


# ---------------------------------------------------------------------------------- streaming


async def _stream_once(
    model: Model, request: ChatRequest, run: _Run, started: float, client: httpx.AsyncClient
) -> AsyncIterator[Update]:
    parser = PartialJSONParser()
    run.raw = ""
    last_partial: dict[str, Any] | None = None
    stream = cast(AsyncGenerator[StreamEvent, None], model.stream(request, client=client))
    call_started = time.perf_counter()
    try:
        async with aclosing(stream) as events:
            async for event in events:
                if isinstance(event, ReasoningDelta):
                    run.reasoning += event.text
                    yield Update("reasoning", text=event.text)
                elif isinstance(event, ContentDelta):
                    if run.ttft_ms is None:
                        run.ttft_ms = int((time.perf_counter() - started) * 1000)
                    run.raw += event.text
                    partial = parser.feed(event.text)
                    if partial and partial != last_partial:
                        last_partial = partial
                        yield Update("partial", data=partial)
                elif isinstance(event, Usage):
                    run.usage = event
                    if event.cost_usd is not None:
                        run.cost_usd = (run.cost_usd or 0.0) + event.cost_usd
                    run.details.extend(event.reasoning_details)
                elif isinstance(event, StreamEnd):
                    run.finish = event.finish_reason
    except Exception as e:  # counted as the provider's failure, then handled by the caller
        await _record_call(model, error_kind(e), call_started)
        raise
    await _record_call(model, None, call_started)


async def _record_call(model: Model, kind: str | None, started: float) -> None:
    seconds = time.perf_counter() - started
    await asyncio.to_thread(record_provider_call, model.info.provider, "analysis", kind, seconds)


async def run_analysis(
    *,
    kind: Kind,
    model_id: str,
    user_id: int | None,
    image: ImageInput | None = None,
    asset_id: int | None = None,
    current: dict[str, Any] | None = None,
    instructions: str = "",
    memory_query: str = "",
    use_memory: bool = True,
    billed: bool = True,
) -> AsyncIterator[Update]:
    """Describe an image or refine a prompt, yielding updates; the last one is result or error.

    `billed` False: the caller holds and settles the credits itself (a studio job reserves
    per image under its own idempotent key, safe across worker restarts), so none are taken here.
    """
    instructions = instructions.strip()
    if len(instructions) > MAX_INSTRUCTIONS:
        yield Update("error", text=f"Keep instructions under {MAX_INSTRUCTIONS} characters.")
        return
    try:
        # A catalogue model is looked up in the database: off the event loop.
        model = await asyncio.to_thread(get_registry().get_model, model_id)
    except UserFacingError as e:
        yield Update("error", text=e.message)
        return
    if kind == "describe" and image is None:
        yield Update("error", text="Add an image to analyze.")
        return
    if kind == "refine" and (current is None or not instructions):
        yield Update("error", text="Say what to change, for example: make it night.")
        return
    reason = model.unavailable_reason()
    if reason:
        yield Update("error", text=reason)
        return

    if kind == "describe" and image is not None and use_memory and not memory_query:
        try:
            memory_query = await asyncio.to_thread(quick_caption, image.data)
        except UserFacingError as e:
            yield Update("error", text=e.message)
            return
        memory_query = f"{instructions} {memory_query}".strip()
    examples = await asyncio.to_thread(
        _find_examples, memory_query or instructions, user_id, use_memory
    )
    if kind == "describe":
        assert image is not None
        messages = build_describe_messages(image, instructions, examples)
    else:
        assert current is not None
        messages = build_refine_messages(current, instructions, examples)
    options: dict[str, Any] = {
        "task": kind,
        "instructions": instructions,
        "examples": [e.prompt_id for e in examples],
        "memory": use_memory,
    }
    analysis_id = await asyncio.to_thread(
        _start_record, user_id=user_id, asset_id=asset_id, model=model, kind=kind, options=options
    )
    yield Update("started", analysis_id=analysis_id, examples=tuple(examples))

    run = _Run()
    started = time.perf_counter()
    quote = await asyncio.to_thread(_quote, model)
    credits = quote.credits
    try:
        hold = await asyncio.to_thread(_reserve, user_id if billed else None, analysis_id, credits)
    except UserFacingError as e:  # not enough credits: nothing runs, nothing is charged
        await asyncio.to_thread(
            _finish_record,
            analysis_id,
            run=run,
            status="failed",
            started=started,
            credits=0,
            error=e.message,
        )
        yield Update("error", text=e.message, analysis_id=analysis_id)
        return
    finished = streamed = False
    try:
        # The loop's shared client: the retry below, and the next analysis, reuse its
        # connection to the provider.
        client = await shared_client()
        schema = load_schema()
        request = ChatRequest(messages=messages, options={"task": kind}, json_schema=schema)
        async for update in _stream_once(model, request, run, started, client):
            yield update
        data, notes, problems = validated(run.raw)
        if data is None:
            log.info(
                "analysis %s invalid, asking again", analysis_id, extra={"problems": problems[:5]}
            )
            first_raw = run.raw
            retry = ChatRequest(
                messages=messages + _correction(first_raw, problems),
                options={"task": kind},
                json_schema=schema,
            )
            yield Update(
                "reasoning", text="\n[The reply did not validate; asking the model to fix it.]\n"
            )
            async for update in _stream_once(model, retry, run, started, client):
                yield update
            data, notes, problems = validated(run.raw)
            if data is None:
                run.raw = first_raw + "\n\n--- second attempt ---\n\n" + run.raw
                message = "The model's reply could not be turned into a valid prompt: " + "; ".join(
                    problems[:3]
                )
                finished = True
                await asyncio.to_thread(_settle, hold, charge=None)
                await asyncio.to_thread(
                    _finish_record,
                    analysis_id,
                    run=run,
                    status="invalid",
                    started=started,
                    credits=credits,
                    error=message,
                )
                yield Update("error", text=message, analysis_id=analysis_id)
                return
        streamed = True
    except (ProviderError, InvalidInputError) as e:
        finished = True
        await asyncio.to_thread(_settle, hold, charge=None)
        await asyncio.to_thread(
            _finish_record,
            analysis_id,
            run=run,
            status="failed",
            started=started,
            credits=credits,
            error=e.message,
        )
        yield Update("error", text=e.message, analysis_id=analysis_id)
        return
    except Exception as e:  # unexpected: logged with a reference the user can quote
        error_id = new_error_id()
        log.error("analysis %s failed (%s)", analysis_id, error_id, exc_info=e)
        await asyncio.to_thread(
            record_error, e, reference=error_id, location=f"analysis {kind}", user_id=user_id
        )
        finished = True
        await asyncio.to_thread(_settle, hold, charge=None)
        await asyncio.to_thread(
            _finish_record,
            analysis_id,
            run=run,
            status="failed",
            started=started,
            credits=credits,
            error=f"internal error {error_id}",
        )
        yield Update(
            "error",
            text=f"Something went wrong on our side. Reference: {error_id}",
            analysis_id=analysis_id,
        )
        return
    finally:
        if not finished and not streamed:
            # Stopped by the user (the consumer closed this generator): keep what arrived,
            # and give the credits back.
            _settle(hold, charge=None)
            _finish_record(
                analysis_id,
                run=run,
                status="cancelled",
                started=started,
                credits=0,
                error="stopped by the user",
            )
    finished = True
    charged = await asyncio.to_thread(_charge, quote, run.cost_usd)
    await asyncio.to_thread(_settle, hold, charge=charged)
    await asyncio.to_thread(
        _finish_record, analysis_id, run=run, status="succeeded", started=started, credits=charged
    )
    yield Update(
        "result", data=data, analysis_id=analysis_id, notes=tuple(notes), examples=tuple(examples)
    )

"""The OpenAI-style `/chat/completions` streaming client shared by every remote provider.

OpenRouter, OpenAI, Ollama, LM Studio and vLLM all speak this wire format; they differ in
a few extras (OpenRouter's `usage.include`, `reasoning` object and mid-stream `error`
chunks; DeepSeek/vLLM's `reasoning_content`), which are handled here in one place.

Retries: 5xx answers, dropped connections and streams that end without `[DONE]` or a
finish reason are retried with exponential backoff, but only while nothing has been
yielded yet: once the user has seen text, a retry would show it twice.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from app.services.analyzer.providers.base import (
    ChatMessage,
    ChatRequest,
    ContentDelta,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    Usage,
)
from app.services.analyzer.providers.options import (
    ChatOptions,
    OpenAICompatibleOptions,
    OpenRouterOptions,
)
from app.services.analyzer.providers.sse import SSEDecoder
from app.services.analyzer.providers.think import ThinkSplitter
from app.services.core.errors import (
    ConfigurationError,
    ProviderUnavailableError,
    RetryableError,
)
from app.services.core.http import new_client, shared_client
from app.services.core.http_errors import (
    clip,
    error_for_chunk,
    error_for_status,
    read_limited,
    timeout_error,
)

logger = logging.getLogger(__name__)

# How long to wait for a body to end after `[DONE]` (it normally ends at once).
_DRAIN_SECONDS = 1.0

Dialect = Literal["openai", "openrouter"]

# Reasoning models pause for a long time before their first token; OpenRouter keeps the
# connection alive with comment lines meanwhile, so `read` bounds silence, not total time.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=30.0, pool=10.0)

# Every option a remote model may take (OpenRouter's; an OpenAI-compatible endpoint takes
# all but the reasoning switch and budget). Each provider checks its own: see `options`.
SUPPORTED_OPTIONS = frozenset(OpenRouterOptions.known())


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, failed_attempts: int) -> float:
        """Seconds to wait after `failed_attempts` failures: base, 2*base, 4*base, ... capped."""
        return float(min(self.max_delay, self.base_delay * 2 ** (failed_attempts - 1)))


DEFAULT_RETRY = RetryPolicy()


def new_http_client(timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.AsyncClient:
    """A private client (its owner closes it). Calls without a `client` use the running
    loop's shared one (`app.services.core.http.shared_client`) instead."""
    return new_client(timeout)


async def stream_chat_completion(
    *,
    client: httpx.AsyncClient | None,
    base_url: str,
    api_key: str | None,
    model: str,
    request: ChatRequest,
    extra_headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    dialect: Dialect = "openai",
    extra_body: Mapping[str, Any] | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    provider_label: str = "The model provider",
    key_env_var: str | None = None,
    structured_outputs: bool = False,
    options: ChatOptions | None = None,
) -> AsyncIterator[StreamEvent]:
    """Stream one chat completion as typed events (see `base` for their order).

    Without a `client` the running event loop's shared one is used, so connections are
    reused across calls. `options` are the request's, already parsed by the model (else
    parsed here for the dialect). Close the iterator (`contextlib.aclosing`) if you stop
    reading early, so the connection is released at once.
    """
    call = _Call(
        url=base_url.rstrip("/") + "/chat/completions",
        payload=build_payload(
            model=model,
            request=request,
            dialect=dialect,
            extra_body=extra_body,
            structured_outputs=structured_outputs,
            options=options,
        ),
        headers=_headers(api_key, extra_headers),
        timeout=timeout,
        label=provider_label,
        model=model,
        api_key=api_key,
        key_env_var=key_env_var,
    )
    async for event in _with_retries(
        client if client is not None else await shared_client(), call, retry
    ):
        yield event


def build_payload(
    *,
    model: str,
    request: ChatRequest,
    dialect: Dialect = "openai",
    extra_body: Mapping[str, Any] | None = None,
    structured_outputs: bool = False,
    options: ChatOptions | None = None,
) -> dict[str, Any]:
    """The JSON body for `/chat/completions`. Unknown or out-of-range options are refused
    (when not given parsed, `request.options` are parsed for the dialect).

    With `structured_outputs` (the model supports it) and a `request.json_schema`, the answer
    is asked to match that schema; otherwise the schema only travels in the prompt."""
    if options is None:
        parser = OpenRouterOptions if dialect == "openrouter" else OpenAICompatibleOptions
        options = parser.parse(request.options)
    payload: dict[str, Any] = {
        "model": model,
        "messages": [_message(m) for m in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    sent = options.model_dump(include={"temperature", "top_p", "max_tokens", "seed"})
    payload.update({k: v for k, v in sent.items() if v is not None})
    if options.json_mode:
        payload["response_format"] = {"type": "json_object"}
    if structured_outputs and request.json_schema is not None:
        payload["response_format"] = json_schema_format(request.json_schema)
    if dialect == "openrouter":
        payload["usage"] = {"include": True}  # adds `cost` to the final usage chunk
    for key, value in (extra_body or {}).items():
        if isinstance(value, Mapping) and isinstance(payload.get(key), Mapping):
            payload[key] = {**payload[key], **value}
        else:
            payload[key] = value
    _apply_reasoning(payload, options, dialect)
    return payload


def json_schema_format(schema: Mapping[str, Any]) -> dict[str, Any]:
    """OpenAI's `response_format` for a JSON Schema, as OpenRouter passes it on.

    Not `strict`: strict mode demands every property be required and no other keywords than a
    subset, which a real prompt schema (optional fields, patterns) does not meet; non-strict
    still steers the model to the schema, and our validation checks the answer either way.
    The `$schema`/`$id` keywords are dropped: some providers refuse them.
    """
    body = {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
    return {
        "type": "json_schema",
        "json_schema": {"name": "jsoncraft_prompt", "strict": False, "schema": body},
    }


def _apply_reasoning(payload: dict[str, Any], options: ChatOptions, dialect: Dialect) -> None:
    effort = options.reasoning_effort
    if dialect == "openrouter":
        budget = getattr(options, "reasoning_max_tokens", None)
        enabled = getattr(options, "reasoning_enabled", None)
        reasoning: dict[str, Any] = dict(payload.get("reasoning") or {})
        if enabled is not None:
            reasoning["enabled"] = bool(enabled)
        # OpenRouter takes either an effort or a token budget, not both.
        if effort is not None:
            reasoning.pop("max_tokens", None)
            reasoning["effort"] = effort
        elif budget is not None:
            reasoning.pop("effort", None)
            reasoning["max_tokens"] = budget
        if reasoning:
            payload["reasoning"] = reasoning
        return
    if effort is not None:
        payload["reasoning_effort"] = effort


def _message(message: ChatMessage) -> dict[str, Any]:
    if message.image is None:
        return {"role": message.role, "content": message.text}
    data = base64.b64encode(message.image.data).decode("ascii")
    # OpenRouter recommends the text part before the image part.
    parts: list[dict[str, Any]] = [{"type": "text", "text": message.text}] if message.text else []
    parts.append(
        {"type": "image_url", "image_url": {"url": f"data:{message.image.mime_type};base64,{data}"}}
    )
    return {"role": message.role, "content": parts}


def _headers(api_key: str | None, extra: Mapping[str, str] | None) -> dict[str, str]:
    headers = {"Accept": "text/event-stream", **(extra or {})}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


@dataclass(frozen=True)
class _Call:
    url: str
    payload: dict[str, Any]
    headers: dict[str, str]
    timeout: httpx.Timeout
    label: str
    model: str
    api_key: str | None
    key_env_var: str | None


async def _with_retries(
    client: httpx.AsyncClient, call: _Call, retry: RetryPolicy
) -> AsyncIterator[StreamEvent]:
    attempt = 0
    while True:
        attempt += 1
        yielded = False
        try:
            async for event in _attempt(client, call):
                yielded = yielded or isinstance(event, ContentDelta | ReasoningDelta)
                yield event
            return
        except RetryableError as e:
            if yielded:
                raise ProviderUnavailableError(
                    f"{call.label} stopped answering part-way ({e.reason}). Try again."
                ) from e
            if attempt >= retry.attempts:
                tries = "try" if attempt == 1 else "tries"
                raise ProviderUnavailableError(
                    f"{call.label} is not available right now ({e.reason}, {attempt} {tries}). "
                    "Try again later or pick another model."
                ) from e
            delay = retry.delay(attempt)
            logger.warning(
                "provider call failed, retrying",
                extra={"model": call.model, "reason": e.reason, "attempt": attempt, "delay": delay},
            )
            await asyncio.sleep(delay)


async def _attempt(client: httpx.AsyncClient, call: _Call) -> AsyncIterator[StreamEvent]:
    try:
        async with client.stream(
            "POST", call.url, json=call.payload, headers=call.headers, timeout=call.timeout
        ) as response:
            if response.status_code >= 400:
                body = await read_limited(response)
                raise error_for_status(
                    response.status_code,
                    body,
                    retry_after=response.headers.get("retry-after"),
                    label=call.label,
                    model=call.model,
                    api_key=call.api_key,
                    key_env_var=call.key_env_var,
                )
            content_type = response.headers.get("content-type", "")
            events = (
                _whole_response(response, call)
                if content_type.startswith("application/json")
                else _stream_events(response, call)
            )
            async for event in events:
                yield event
    except httpx.TimeoutException as e:
        raise timeout_error(call.label, call.timeout, e) from e
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:
        raise ConfigurationError(f"The base URL for {call.label} is not valid: {e}") from e
    except (httpx.NetworkError, httpx.RemoteProtocolError) as e:
        raise RetryableError(f"connection failed: {type(e).__name__}") from e


class _StreamState:
    """What accumulates over one stream besides the deltas."""

    def __init__(self) -> None:
        self.finish_reason: str | None = None
        self.usage: Mapping[str, Any] | None = None
        self.details: list[dict[str, Any]] = []
        self.think = ThinkSplitter()

    def events_for(self, chunk: Mapping[str, Any], call: _Call) -> list[StreamEvent]:
        if chunk.get("error"):
            raise error_for_chunk(
                chunk["error"], label=call.label, model=call.model, api_key=call.api_key
            )
        if isinstance(chunk.get("usage"), Mapping):
            self.usage = chunk["usage"]
        events: list[StreamEvent] = []
        choices = chunk.get("choices") or []
        for choice in choices[:1]:  # we never ask for n > 1
            delta = choice.get("delta") or choice.get("message") or {}
            reasoning = delta.get("reasoning") or delta.get("reasoning_content")
            if isinstance(reasoning, str) and reasoning:
                events.append(ReasoningDelta(reasoning))
            if isinstance(delta.get("reasoning_details"), list):
                merge_reasoning_details(self.details, delta["reasoning_details"])
            content = delta.get("content")
            if isinstance(content, str) and content:
                events.extend(self.think.feed(content))
            reason = choice.get("finish_reason")
            if reason == "error":
                raise RetryableError("the model stopped with an error")
            if isinstance(reason, str):
                self.finish_reason = reason
        return events

    def closing_events(self) -> list[StreamEvent]:
        events = self.think.flush()
        if self.usage is not None or self.details:
            usage = self.usage or {}
            cost = usage.get("cost")
            events.append(
                Usage(
                    prompt_tokens=_int(usage.get("prompt_tokens")),
                    completion_tokens=_int(usage.get("completion_tokens")),
                    cost_usd=float(cost) if isinstance(cost, int | float) else None,
                    reasoning_details=self.details,
                )
            )
        events.append(StreamEnd(self.finish_reason))
        return events


async def _stream_events(response: httpx.Response, call: _Call) -> AsyncIterator[StreamEvent]:
    decoder = SSEDecoder()
    state = _StreamState()
    done = False
    lines = response.aiter_lines()
    async for line in lines:
        data = decoder.feed_line(line)
        if data is None:
            continue
        if data.strip() == "[DONE]":
            done = True
            break
        for event in state.events_for(_parse_chunk(data), call):
            yield event
    if done:
        await _drain(lines)
    else:
        # A last event without its blank line still counts if it is complete JSON.
        tail = decoder.close()
        if tail is not None and tail.strip() == "[DONE]":
            done = True
        elif tail is not None:
            try:
                chunk = json.loads(tail)
            except ValueError:
                chunk = None
            if isinstance(chunk, dict):
                for event in state.events_for(chunk, call):
                    yield event
    if not done and state.finish_reason is None:
        raise RetryableError("the stream ended early")
    for event in state.closing_events():
        yield event


async def _drain(lines: AsyncIterator[str]) -> None:
    """Read the end of the body after `[DONE]`, so the connection goes back to the client's
    pool for the next call instead of being closed. A server that keeps the body open past
    `[DONE]` is cut off after a moment: the answer is complete either way."""
    with contextlib.suppress(TimeoutError, httpx.HTTPError):
        async with asyncio.timeout(_DRAIN_SECONDS):
            async for _ in lines:
                pass


async def _whole_response(response: httpx.Response, call: _Call) -> AsyncIterator[StreamEvent]:
    """Some OpenAI-compatible servers ignore `stream: true` and answer in one JSON body."""
    try:
        chunk = json.loads(await response.aread())
    except ValueError as e:
        raise RetryableError("the answer was not JSON") from e
    state = _StreamState()
    for event in state.events_for(chunk if isinstance(chunk, dict) else {}, call):
        yield event
    for event in state.closing_events():
        yield event


def _parse_chunk(data: str) -> Mapping[str, Any]:
    try:
        chunk = json.loads(data)
    except ValueError:
        # One garbled event is not worth failing the whole answer for; the JSON repair
        # and schema checks downstream decide whether what arrived is usable.
        logger.warning("skipped an event that is not JSON", extra={"data": clip(data, None)})
        return {}
    return chunk if isinstance(chunk, dict) else {}


def merge_reasoning_details(merged: list[dict[str, Any]], items: Sequence[Any]) -> None:
    """Fold streamed `reasoning_details` fragments into whole blocks.

    OpenRouter streams each block in pieces that share a `type` and `index`; the text of a
    block (`text` / `summary`) arrives split across chunks, other fields whole.
    """
    for item in items:
        if not isinstance(item, dict):
            continue
        index = item.get("index")
        match = next(
            (
                m
                for m in merged
                if index is not None
                and m.get("index") == index
                and m.get("type") == item.get("type")
            ),
            None,
        )
        if match is None:
            merged.append(dict(item))
            continue
        for key, value in item.items():
            if key in ("text", "summary") and isinstance(value, str):
                match[key] = (match.get(key) or "") + value
            elif value is not None:
                match[key] = value


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0

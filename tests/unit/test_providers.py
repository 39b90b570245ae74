"""The provider layer against a real loopback server speaking OpenRouter's SSE protocol.

Models come from the real registry, configured through the environment like in production
(OPENROUTER_BASE_URL points at the fake); nothing of ours is patched.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.services.analyzer.jsonrepair import coerce_to_schema, repair_json
from app.services.analyzer.jsonstream import PartialJSONParser
from app.services.analyzer.providers import (
    DEFAULT_MODEL_ID,
    ChatMessage,
    ChatRequest,
    ContentDelta,
    ImageInput,
    Model,
    ModelInfo,
    ModelRegistry,
    Options,
    ProviderContext,
    ReasoningDelta,
    Register,
    RetryPolicy,
    StreamEnd,
    StreamEvent,
    Usage,
    get_registry,
    hookimpl,
    load_builtin_models,
    load_models,
    reset_registry,
)
from app.services.analyzer.providers.local import LocalModel
from app.services.analyzer.providers.options import (
    ChatOptions,
    OpenAICompatibleOptions,
    OpenRouterOptions,
)
from app.services.analyzer.providers.plugins import BUILTIN_PLUGINS, entry_point_plugins
from app.services.analyzer.providers.sse import SSEDecoder
from app.services.analyzer.providers.think import ThinkSplitter
from app.services.core.errors import (
    InvalidInputError,
    InvalidOutputError,
    MissingKeyError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    ProviderPaymentError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
    UnknownModelError,
    UserFacingError,
)
from app.services.core.http_errors import parse_retry_after
from app.services.library.prompts import load_schema, validate_prompt
from app.settings import get_settings, reset_settings
from tests.utils.fakes.openai_server import (
    REASONING,
    SCHEMA_INVALID_CONTENT,
    VALID_CONTENT,
    VALID_PROMPT,
    FakeOpenAIServer,
    Reply,
    error_reply,
    mid_stream_error,
    ok,
    stream_events,
)

API_KEY = "sk-or-v1-test-key-0123456789abcdef"
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
IMAGE = ImageInput(data=b"\x89PNG\r\n\x1a\n fake image bytes \x00\xff", mime_type="image/png")


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


@pytest.fixture
def registry(server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> ModelRegistry:
    """The built-in models, configured from the environment to talk to the fake."""
    monkeypatch.setenv("OPENROUTER_API_KEY", API_KEY)
    monkeypatch.setenv("OPENROUTER_BASE_URL", server.url)
    reset_settings()
    return load_builtin_models(
        get_settings(),
        registry=ModelRegistry(),
        retry=FAST_RETRY,
        timeout=httpx.Timeout(5.0, read=1.0),
    )


def describe_request(**options: Any) -> ChatRequest:
    return ChatRequest(
        messages=(
            ChatMessage("system", "Describe the image as a JSON prompt."),
            ChatMessage("user", "Here is the image.", image=IMAGE),
        ),
        options=options,
    )


async def _collect(stream: AsyncIterator[StreamEvent], into: list[StreamEvent]) -> None:
    # One by one, so the events before a failure are kept for the test to look at.
    async for event in stream:
        into.append(event)  # noqa: PERF401


def run(model: Model, request: ChatRequest | None = None) -> list[StreamEvent]:
    events: list[StreamEvent] = []
    asyncio.run(_collect(model.stream(request or describe_request()), events))
    return events


def run_until_error(
    model: Model, request: ChatRequest | None = None
) -> tuple[list[StreamEvent], Exception]:
    events: list[StreamEvent] = []
    with pytest.raises(Exception) as caught:
        asyncio.run(_collect(model.stream(request or describe_request()), events))
    assert isinstance(caught.value, Exception)
    return events, caught.value


def text_of(events: list[StreamEvent], kind: type[ContentDelta] | type[ReasoningDelta]) -> str:
    return "".join(e.text for e in events if isinstance(e, kind))


# -- a good stream -----------------------------------------------------------------------------


def test_default_model_streams_reasoning_content_and_usage(
    server: FakeOpenAIServer, registry: ModelRegistry
) -> None:
    model = registry.get_model(DEFAULT_MODEL_ID)

    events = run(model)

    assert text_of(events, ReasoningDelta) == REASONING
    assert text_of(events, ContentDelta) == VALID_CONTENT
    assert json.loads(text_of(events, ContentDelta)) == VALID_PROMPT
    usage, end = events[-2], events[-1]
    assert isinstance(usage, Usage) and isinstance(end, StreamEnd)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cost_usd) == (1234, 321, 0.000417)
    # reasoning_details fragments are merged back into one block.
    assert usage.reasoning_details == [
        {"type": "reasoning.text", "text": REASONING, "format": "unknown", "index": 0}
    ]
    assert end.finish_reason == "stop"
    # Usage and the end come after every delta, once each.
    assert [type(e) for e in events].count(Usage) == 1
    assert all(isinstance(e, ReasoningDelta | ContentDelta) for e in events[:-2])


def test_request_carries_key_headers_image_and_openrouter_extras(
    server: FakeOpenAIServer, registry: ModelRegistry
) -> None:
    run(registry.get_model("nemotron"), describe_request(temperature=0.2, task="describe"))

    [sent] = server.requests
    assert sent.path == "/api/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["http-referer"] == get_settings().app_url
    assert sent.headers["x-title"] == "JSONCraft"
    body = sent.body
    assert body["model"] == DEFAULT_MODEL_ID
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["usage"] == {"include": True}
    assert body["reasoning"] == {"enabled": True}
    assert body["temperature"] == 0.2
    assert "task" not in body  # a hint for the offline model, never sent
    system, user = body["messages"]
    assert system == {"role": "system", "content": "Describe the image as a JSON prompt."}
    text_part, image_part = user["content"]
    assert text_part == {"type": "text", "text": "Here is the image."}
    url = image_part["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.removeprefix("data:image/png;base64,")) == IMAGE.data


def test_reasoning_options_map_to_openrouter_reasoning_object(
    server: FakeOpenAIServer, registry: ModelRegistry
) -> None:
    run(registry.get_model("gemini"), describe_request(reasoning_effort="high", max_tokens=900))
    run(registry.get_model("gpt-4o-mini"), describe_request(reasoning_max_tokens=500))

    first, second = (r.body for r in server.requests)
    assert first["model"] == "google/gemini-2.5-flash"
    assert first["reasoning"] == {"enabled": True, "effort": "high"}
    assert first["max_tokens"] == 900
    assert second["model"] == "openai/gpt-4o-mini"
    assert second["reasoning"] == {"max_tokens": 500}


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"temprature": 0.5}, "Unknown option temprature"),
        ({"temperature": 7}, "temperature must be a number from 0 to 2"),
        ({"max_tokens": 0}, "max_tokens must be a whole number"),
        ({"reasoning_effort": "extreme"}, "reasoning_effort must be one of"),
    ],
)
def test_bad_options_are_refused_before_any_call(
    server: FakeOpenAIServer, registry: ModelRegistry, options: dict[str, Any], words: str
) -> None:
    _, error = run_until_error(registry.get_model("nemotron"), describe_request(**options))
    assert isinstance(error, InvalidInputError)
    assert words in error.message
    assert server.requests == []


def test_a_shared_client_is_used_and_left_open(
    server: FakeOpenAIServer, registry: ModelRegistry
) -> None:
    model = registry.get_model("nemotron")

    async def twice() -> tuple[list[StreamEvent], bool]:
        events: list[StreamEvent] = []
        async with httpx.AsyncClient() as client:
            for _ in range(2):
                events.extend([e async for e in model.stream(describe_request(), client=client)])
            return events, client.is_closed

    events, closed = asyncio.run(twice())
    assert not closed
    assert text_of(events, ContentDelta) == VALID_CONTENT * 2
    assert len(server.requests) == 2


# -- failures the user can act on -------------------------------------------------------------


def test_missing_key_says_what_to_do_and_sends_nothing(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_BASE_URL", server.url)
    reset_settings()
    model = load_builtin_models(get_settings(), registry=ModelRegistry()).get_model("nemotron")

    assert not model.is_available()
    assert model.unavailable_reason() == "Set OPENROUTER_API_KEY or pick the offline model."
    _, error = run_until_error(model)
    assert isinstance(error, MissingKeyError)
    assert error.message == "Set OPENROUTER_API_KEY or pick the offline model."
    assert server.requests == []


@pytest.mark.parametrize(
    ("scenario", "error_type", "words"),
    [
        ("unauthorized", ProviderAuthError, "Check OPENROUTER_API_KEY"),
        ("payment_required", ProviderPaymentError, "out of credit"),
        ("model_not_found", ModelNotFoundError, "does not offer the model"),
        ("rate_limited", RateLimitedError, "Try again in 7 seconds"),
    ],
)
def test_client_errors_are_not_retried_and_read_well(
    server: FakeOpenAIServer,
    registry: ModelRegistry,
    scenario: str,
    error_type: type[ProviderError],
    words: str,
) -> None:
    server.scenario(scenario)

    _, error = run_until_error(registry.get_model("nemotron"))

    assert type(error) is error_type
    assert isinstance(error, UserFacingError)
    assert words in error.message
    assert API_KEY not in error.message
    assert len(server.requests) == 1


def test_rate_limit_carries_retry_after(server: FakeOpenAIServer, registry: ModelRegistry) -> None:
    server.scenario("rate_limited")
    _, error = run_until_error(registry.get_model("nemotron"))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 7
    assert error.status_code == 429


def test_a_500_is_retried_then_succeeds(server: FakeOpenAIServer, registry: ModelRegistry) -> None:
    server.scenario("flaky")

    events = run(registry.get_model("nemotron"))

    assert json.loads(text_of(events, ContentDelta)) == VALID_PROMPT
    assert len(server.requests) == 2


def test_a_provider_that_stays_down_fails_cleanly_after_the_retries(
    server: FakeOpenAIServer, registry: ModelRegistry
) -> None:
    server.scenario("down")

    events, error = run_until_error(registry.get_model("nemotron"))

    assert events == []
    assert isinstance(error, ProviderUnavailableError)
    assert error.message == (
        "OpenRouter is not available right now (HTTP 503, 3 tries). "
        "Try again later or pick another model."
    )
    assert len(server.requests) == FAST_RETRY.attempts


def test_silence_becomes_a_timeout(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.scenario("slow")
    monkeypatch.setenv("OPENROUTER_API_KEY", API_KEY)
    monkeypatch.setenv("OPENROUTER_BASE_URL", server.url)
    reset_settings()
    models = load_builtin_models(
        get_settings(), registry=ModelRegistry(), timeout=httpx.Timeout(2.0, read=0.2)
    )

    _, error = run_until_error(models.get_model("nemotron"))

    assert isinstance(error, ProviderTimeoutError)
    assert "did not answer within 0.2 seconds" in error.message
    assert len(server.requests) == 1


def test_a_stream_cut_after_content_is_not_retried(
    server: FakeOpenAIServer, registry: ModelRegistry
) -> None:
    server.scenario("truncated")

    events, error = run_until_error(registry.get_model("nemotron"))

    assert isinstance(error, ProviderUnavailableError)
    assert "stopped answering part-way" in error.message
    assert text_of(events, ContentDelta)  # the user saw some of it...
    assert len(server.requests) == 1  # ...so it was not asked again (it would show twice)


def test_a_stream_cut_before_content_is_retried(
    server: FakeOpenAIServer, registry: ModelRegistry
) -> None:
    server.script(Reply(events=stream_events()[:2], cut="drop"), ok())

    events = run(registry.get_model("nemotron"))

    assert text_of(events, ContentDelta) == VALID_CONTENT
    assert len(server.requests) == 2


def test_a_stream_that_ends_without_done_or_finish_reason_counts_as_broken(
    server: FakeOpenAIServer, registry: ModelRegistry
) -> None:
    server.script(Reply(events=stream_events()[:2], cut="eof"))

    _, error = run_until_error(registry.get_model("nemotron"))

    assert isinstance(error, ProviderUnavailableError)
    assert "the stream ended early" in error.message
    assert len(server.requests) == 3


def test_a_finish_reason_without_done_is_a_complete_answer(
    server: FakeOpenAIServer, registry: ModelRegistry
) -> None:
    server.script(Reply(events=stream_events(done=False)))
    events = run(registry.get_model("nemotron"))
    assert events[-1] == StreamEnd("stop")
    assert text_of(events, ContentDelta) == VALID_CONTENT


def test_a_mid_stream_error_chunk_raises(server: FakeOpenAIServer, registry: ModelRegistry) -> None:
    server.scenario("mid_stream_error")

    events, error = run_until_error(registry.get_model("nemotron"))

    assert isinstance(error, ProviderUnavailableError)  # a 502 after text: no retry
    assert text_of(events, ReasoningDelta)
    assert len(server.requests) == 1


def test_a_mid_stream_error_before_any_text_is_retried(
    server: FakeOpenAIServer, registry: ModelRegistry
) -> None:
    early_error = mid_stream_error("server_error")
    early_error.events = early_error.events[-1:]
    server.script(early_error, ok())

    events = run(registry.get_model("nemotron"))

    assert text_of(events, ContentDelta) == VALID_CONTENT
    assert len(server.requests) == 2


def test_a_mid_stream_error_the_user_can_act_on_keeps_its_meaning(
    server: FakeOpenAIServer, registry: ModelRegistry
) -> None:
    server.script(mid_stream_error(402, "Insufficient credits"))
    _, error = run_until_error(registry.get_model("nemotron"))
    assert isinstance(error, ProviderPaymentError)


def test_error_messages_never_leak_the_key_or_a_whole_body(
    server: FakeOpenAIServer, registry: ModelRegistry
) -> None:
    server.script(error_reply(400, f"Bad request for key {API_KEY}: " + "x" * 5000))

    _, error = run_until_error(registry.get_model("nemotron"))

    assert isinstance(error, ProviderError)
    assert API_KEY not in error.message
    assert "[key]" in error.message
    assert len(error.message) < 300


def test_a_wrong_base_url_path_reads_as_model_not_found(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", API_KEY)
    monkeypatch.setenv("OPENROUTER_BASE_URL", server.url + "/nope/")
    reset_settings()
    models = load_builtin_models(get_settings(), registry=ModelRegistry(), retry=FAST_RETRY)
    _, error = run_until_error(models.get_model("nemotron"))
    assert isinstance(error, ModelNotFoundError)


def test_an_unreachable_provider_is_retried_then_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with FakeOpenAIServer() as gone:
        url = gone.url  # a port that was just free, now closed again
    monkeypatch.setenv("OPENROUTER_API_KEY", API_KEY)
    monkeypatch.setenv("OPENROUTER_BASE_URL", url)
    reset_settings()
    models = load_builtin_models(get_settings(), registry=ModelRegistry(), retry=FAST_RETRY)

    _, error = run_until_error(models.get_model("nemotron"))

    assert isinstance(error, ProviderUnavailableError)
    assert "connection failed" in error.message


# -- the model's content: partial parsing, repair, schema -------------------------------------


def test_partial_parser_follows_the_stream_field_by_field(
    server: FakeOpenAIServer, registry: ModelRegistry
) -> None:
    parser = PartialJSONParser()
    snapshots = [
        parser.feed(e.text)
        for e in run(registry.get_model("nemotron"))
        if isinstance(e, ContentDelta)
    ]

    assert snapshots[-1] == VALID_PROMPT
    assert parser.completed_keys == tuple(VALID_PROMPT)
    partial = [s for s in snapshots if s and s != VALID_PROMPT]
    assert len(partial) > 20  # the UI really does fill in gradually


def test_invalid_json_content_streams_then_fails_repair(
    server: FakeOpenAIServer, registry: ModelRegistry
) -> None:
    server.scenario("invalid_json")
    content = text_of(run(registry.get_model("nemotron")), ContentDelta)

    parser = PartialJSONParser()
    assert parser.feed(content) is None
    with pytest.raises(InvalidOutputError, match="did not contain usable JSON"):
        repair_json(content)


def test_content_that_fails_the_schema_is_explained_field_by_field(
    server: FakeOpenAIServer, registry: ModelRegistry
) -> None:
    server.scenario("schema_invalid")
    content = text_of(run(registry.get_model("nemotron")), ContentDelta)
    assert content == SCHEMA_INVALID_CONTENT

    data, notes = repair_json(content)
    assert notes == []
    data, coerced = coerce_to_schema(data, load_schema())
    assert "subjects: put the single value in a list." in coerced
    paths = {e.path for e in validate_prompt(data)}
    assert {"scene", "subjects[0]", "color_palette[0].hex", "lighting.contrast"} <= paths
    assert "composition" in paths  # missing


# -- OpenAI-compatible endpoints (Ollama, vLLM, LM Studio) ------------------------------------


@pytest.fixture
def compatible(server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> ModelRegistry:
    monkeypatch.setenv("OPENAI_COMPATIBLE_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_COMPATIBLE_MODELS", "qwen2.5vl:7b, gpt-4o-mini")
    reset_settings()
    return load_builtin_models(get_settings(), registry=ModelRegistry(), retry=FAST_RETRY)


def test_openai_compatible_models_come_from_settings(compatible: ModelRegistry) -> None:
    ids = [info.model_id for info in compatible.list_models()]
    assert "openai-compatible/qwen2.5vl:7b" in ids
    assert "openai-compatible/gpt-4o-mini" in ids
    assert compatible.get_model("qwen2.5vl:7b").info.model_id == "openai-compatible/qwen2.5vl:7b"
    # A bare name that is already an OpenRouter alias keeps pointing at OpenRouter.
    assert compatible.get_model("gpt-4o-mini").info.model_id == "openai/gpt-4o-mini"
    assert compatible.get_model("openai-compatible/qwen2.5vl:7b").is_available()


def test_openai_compatible_sends_no_key_and_reads_reasoning_content(
    server: FakeOpenAIServer, compatible: ModelRegistry
) -> None:
    server.script(Reply(events=stream_events(reasoning_field="reasoning_content")))

    events = run(compatible.get_model("qwen2.5vl:7b"), describe_request(reasoning_effort="low"))

    assert text_of(events, ReasoningDelta) == REASONING
    assert text_of(events, ContentDelta) == VALID_CONTENT
    [sent] = server.requests
    assert "authorization" not in sent.headers
    assert sent.body["model"] == "qwen2.5vl:7b"
    assert sent.body["reasoning_effort"] == "low"
    assert "usage" not in sent.body and "reasoning" not in sent.body


def test_openai_compatible_sends_its_key_when_set(
    server: FakeOpenAIServer, compatible: ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", "sk-local-123")
    reset_settings()
    models = load_builtin_models(get_settings(), registry=ModelRegistry())
    server.scenario("unauthorized")

    _, error = run_until_error(models.get_model("qwen2.5vl:7b"))

    assert server.requests[0].headers["authorization"] == "Bearer sk-local-123"
    assert isinstance(error, ProviderAuthError)
    assert "OPENAI_COMPATIBLE_API_KEY" in error.message


def test_think_tags_in_content_become_reasoning(
    server: FakeOpenAIServer, compatible: ModelRegistry
) -> None:
    content = "<think>Warm light, a boat.</think>\n" + VALID_CONTENT
    server.script(ok(content, reasoning="", chunk_size=3))

    events = run(compatible.get_model("qwen2.5vl:7b"))

    assert text_of(events, ReasoningDelta) == "Warm light, a boat."
    assert text_of(events, ContentDelta) == VALID_CONTENT


def test_a_server_that_ignores_stream_true_still_works(
    server: FakeOpenAIServer, compatible: ModelRegistry
) -> None:
    whole = {
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "{}"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1},
    }
    server.script(Reply(body=json.dumps(whole).encode()))

    events = run(compatible.get_model("qwen2.5vl:7b"))

    assert events == [ContentDelta("{}"), Usage(3, 1), StreamEnd("stop")]


# -- the registry ----------------------------------------------------------------------------


class EchoModel(Model):
    """A fake provider, registered the way the offline analyzer is."""

    info = ModelInfo(
        model_id="test/echo",
        provider="test",
        display_name="Echo",
        aliases=("echo",),
        needs_key=False,
        vision=False,
    )

    async def stream(
        self, request: ChatRequest, *, client: httpx.AsyncClient | None = None
    ) -> AsyncIterator[StreamEvent]:
        self.check_request(request)
        yield ContentDelta(request.messages[-1].text)
        yield StreamEnd("stop")


def test_registry_resolves_ids_and_aliases_case_insensitively() -> None:
    registry = ModelRegistry()
    registry.register(EchoModel())

    assert registry.get_model("test/echo").info.display_name == "Echo"
    assert registry.get_model(" ECHO ").info.model_id == "test/echo"
    assert "echo" in registry and "nope" not in registry
    assert run(registry.get_model("echo"), ChatRequest((ChatMessage("user", "hi"),))) == [
        ContentDelta("hi"),
        StreamEnd("stop"),
    ]


def test_unknown_model_lists_the_choices() -> None:
    registry = load_builtin_models(get_settings(), registry=ModelRegistry())
    with pytest.raises(UnknownModelError) as caught:
        registry.get_model("gpt-9")
    assert caught.value.message == (
        "Unknown model 'gpt-9'. Choose one of: nvidia/nemotron-nano-12b-v2-vl:free, "
        "google/gemini-2.5-flash, openai/gpt-4o-mini."
    )
    with pytest.raises(UnknownModelError, match="No models are set up"):
        ModelRegistry().get_model("x")


def test_registering_a_taken_name_needs_replace() -> None:
    registry = ModelRegistry()
    registry.register(EchoModel())
    with pytest.raises(ValueError, match="taken by test/echo"):
        registry.register(EchoModel())

    class Other(EchoModel):
        info = ModelInfo(
            model_id="test/other", provider="test", display_name="Other", aliases=("echo",)
        )

    registry.register(Other(), replace=True)
    assert registry.get_model("echo").info.model_id == "test/other"
    assert registry.get_model("test/echo").info.model_id == "test/echo"
    registry.register(EchoModel(), replace=True)
    assert len(registry) == 2
    assert registry.get_model("echo").info.model_id == "test/echo"


def test_load_builtin_models_is_idempotent_and_lists_availability(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = ModelRegistry()
    load_builtin_models(get_settings(), registry=registry)
    load_builtin_models(get_settings(), registry=registry)
    assert [m.model_id for m in registry.list_models()] == [
        DEFAULT_MODEL_ID,
        "google/gemini-2.5-flash",
        "openai/gpt-4o-mini",
    ]
    assert registry.list_models(available_only=True) == []  # no key in tests
    registry.register(EchoModel())
    assert [m.model_id for m in registry.list_models(available_only=True)] == ["test/echo"]
    registry.clear()
    assert registry.list_models() == []


def test_the_default_registry_can_be_reset() -> None:
    reset_registry()
    get_registry().register(EchoModel())
    assert get_registry().get_model("echo")
    reset_registry()
    assert len(get_registry()) == 0


def test_a_model_without_vision_refuses_images() -> None:
    _, error = run_until_error(EchoModel(), describe_request())
    assert isinstance(error, InvalidInputError)
    assert "cannot see images" in error.message


# -- wire-format helpers ---------------------------------------------------------------------


def test_sse_decoder_handles_comments_multiline_data_and_other_fields() -> None:
    decoder = SSEDecoder()
    lines = [": OPENROUTER PROCESSING", "", "event: message", "id: 7", 'data: {"a":', "data:1}", ""]
    assert [decoder.feed_line(line) for line in lines] == [
        None,
        None,
        None,
        None,
        None,
        None,
        '{"a":\n1}',
    ]
    assert decoder.feed_line("data: [DONE]") is None
    assert decoder.close() == "[DONE]"


def test_think_splitter_holds_back_split_tags() -> None:
    splitter = ThinkSplitter()
    text = '  <think>a < b</think>{"x": "<think>"}'
    events: list[StreamEvent] = []
    for ch in text:
        events += splitter.feed(ch)
    events += splitter.flush()
    assert text_of(events, ReasoningDelta) == "a < b"
    assert text_of(events, ContentDelta) == '{"x": "<think>"}'

    plain = ThinkSplitter()
    assert plain.feed("<th") == []
    assert plain.feed("e answer") == [ContentDelta("<the answer")]


def test_retry_after_accepts_seconds_and_dates() -> None:
    assert parse_retry_after("12") == 12
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (parse_retry_after(later) or 0) <= 31


def test_retry_policy_backs_off_exponentially_with_a_cap() -> None:
    policy = RetryPolicy(attempts=5, base_delay=0.5, max_delay=3.0)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 3.0]


# -- provider plugins ------------------------------------------------------------------------


class EchoPlugin:
    """A third-party provider: one hook implementation, nothing else."""

    @hookimpl
    def register_models(self, register: Register) -> None:
        register(EchoModel())


def test_a_plugin_registers_its_models_through_the_hook() -> None:
    registry = load_models(
        ProviderContext(get_settings()), registry=ModelRegistry(), plugins=(EchoPlugin(),)
    )

    assert [m.model_id for m in registry.list_models()] == ["test/echo"]
    assert run(registry.get_model("echo"), ChatRequest((ChatMessage("user", "hi"),))) == [
        ContentDelta("hi"),
        StreamEnd("stop"),
    ]


def test_plugins_run_in_the_order_given_and_loading_again_replaces() -> None:
    plugins = (
        "app.services.analyzer.providers.local",
        EchoPlugin(),
        "app.services.analyzer.providers.openrouter",
    )
    registry = ModelRegistry()
    for _ in range(2):
        load_models(ProviderContext(get_settings()), registry=registry, plugins=plugins)

    assert [m.model_id for m in registry.list_models()] == [
        "local/jsoncraft-vision",
        "test/echo",
        DEFAULT_MODEL_ID,
        "google/gemini-2.5-flash",
        "openai/gpt-4o-mini",
    ]


def test_the_hook_hands_plugins_the_settings_timeout_and_retry() -> None:
    seen: list[ProviderContext] = []

    class Spy:
        @hookimpl
        def register_models(self, context: ProviderContext) -> None:
            seen.append(context)

    timeout = httpx.Timeout(3.0)
    load_models(
        ProviderContext(get_settings(), timeout=timeout, retry=FAST_RETRY),
        registry=ModelRegistry(),
        plugins=(Spy(),),
    )
    [context] = seen
    assert context.settings is get_settings()
    assert (context.timeout, context.retry) == (timeout, FAST_RETRY)


class FakeImageModel:
    """An image-generation model: another base class, another kind, the same hook."""

    kind = "image"

    def __init__(self, info: ModelInfo) -> None:
        self.info = info

    def unavailable_reason(self) -> str | None:
        return None

    def is_available(self) -> bool:
        return True


class ImagePlugin:
    @hookimpl
    def register_models(self, register: Register) -> None:
        register(
            FakeImageModel(
                ModelInfo(
                    model_id="test/flux",
                    provider="test",
                    display_name="Flux",
                    aliases=("echo",),  # another kind's names are its own
                )
            )
        )


def test_another_kind_of_model_registers_through_the_same_hook() -> None:
    registry = load_models(
        ProviderContext(get_settings()),
        registry=ModelRegistry(),
        plugins=(EchoPlugin(), ImagePlugin()),
    )

    image = registry.get_model("test/flux", kind=FakeImageModel)
    assert isinstance(image, FakeImageModel)
    assert registry.get_model("ECHO", kind=FakeImageModel) is image
    assert registry.get_model("echo").info.model_id == "test/echo"
    assert [m.model_id for m in registry.list_models(kind="image")] == ["test/flux"]
    assert [m.model_id for m in registry.list_models()] == ["test/echo"]
    assert registry.models(kind=FakeImageModel) == [image]
    with pytest.raises(UnknownModelError, match="Did you mean: test/echo"):
        registry.get_model("test/flux")  # not an analysis model


def test_installed_packages_add_plugins_through_an_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "jsoncraft_echo_plugin.py").write_text(
        "from app.services.analyzer.providers import Model, ModelInfo, hookimpl\n\n"
        "class Echo(Model):\n"
        "    info = ModelInfo(model_id='third-party/echo', provider='x', display_name='E')\n\n"
        "    async def stream(self, request, *, client=None):\n"
        "        yield None\n\n"
        "@hookimpl\n"
        "def register_models(register):\n"
        "    register(Echo())\n"
    )
    dist = tmp_path / "jsoncraft_echo_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: jsoncraft-echo-plugin\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text("[jsoncraft]\necho = jsoncraft_echo_plugin\n")
    monkeypatch.syspath_prepend(tmp_path)
    entry_point_plugins.cache_clear()
    try:
        registry = load_models(
            ProviderContext(get_settings()),
            registry=ModelRegistry(),
            plugins=BUILTIN_PLUGINS,
            entry_points=True,
        )
        without = load_models(
            ProviderContext(get_settings()), registry=ModelRegistry(), plugins=BUILTIN_PLUGINS
        )
    finally:
        entry_point_plugins.cache_clear()

    ids = [m.model_id for m in registry.list_models()]
    assert ids[0] == "local/jsoncraft-vision"  # built-ins first, third parties after
    assert ids[-1] == "third-party/echo"
    assert "third-party/echo" not in [m.model_id for m in without.list_models()]


# -- options: a typed model per provider, unknown names refused -------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"temperature": True}, "temperature must be a number from 0 to 2."),
        ({"top_p": "0.5"}, "top_p must be a number from 0 to 1."),
        ({"seed": -1}, "seed must be a whole number of at least 0."),
        ({"max_tokens": 12.5}, "max_tokens must be a whole number of at least 1."),
        ({"json_mode": "yes"}, "json_mode must be true or false."),
        (
            {"temprature": 0.5, "colour": "red"},
            "Unknown option colour, temprature. Known options: json_mode, max_tokens, "
            "reasoning_effort, reasoning_enabled, reasoning_max_tokens, seed, temperature, top_p.",
        ),
    ],
)
def test_openrouter_options_are_typed_and_strict(
    server: FakeOpenAIServer, registry: ModelRegistry, options: dict[str, Any], message: str
) -> None:
    _, error = run_until_error(registry.get_model("nemotron"), describe_request(**options))
    assert isinstance(error, InvalidInputError)
    assert error.message == message
    assert server.requests == []


@pytest.mark.parametrize(
    "options_class", [Options, ChatOptions, OpenRouterOptions, OpenAICompatibleOptions]
)
def test_every_options_model_forbids_unknown_names(options_class: type[Options]) -> None:
    with pytest.raises(InvalidInputError, match="Unknown option nope"):
        options_class.parse({"nope": 1})
    assert options_class.parse({"task": "describe"}).task == "describe"


def test_openai_compatible_refuses_openrouter_only_options_and_says_so(
    server: FakeOpenAIServer, compatible: ModelRegistry
) -> None:
    request = describe_request(reasoning_max_tokens=500)
    _, error = run_until_error(compatible.get_model("qwen2.5vl:7b"), request)
    assert isinstance(error, InvalidInputError)
    assert error.message.startswith("This endpoint only takes reasoning_effort")
    assert server.requests == []


def test_the_offline_model_takes_no_options_but_hints() -> None:
    request = ChatRequest((ChatMessage("user", "hi", image=IMAGE),), options={"temperature": 1})
    _, error = run_until_error(LocalModel(), request)
    assert isinstance(error, InvalidInputError)
    assert error.message == "Unknown option temperature. This model takes none."


# -- the shared HTTP client ------------------------------------------------------------------


def test_calls_without_a_client_share_the_loops_connection(
    server: FakeOpenAIServer, registry: ModelRegistry
) -> None:
    model = registry.get_model("nemotron")

    async def three_calls() -> None:
        for _ in range(3):
            await _collect(model.stream(describe_request()), [])

    asyncio.run(three_calls())
    asyncio.run(three_calls())

    ports = [r.client_port for r in server.requests]
    assert len(ports) == 6
    # One kept-alive connection per loop: the second loop never reuses the first's.
    assert len(set(ports[:3])) == 1 and len(set(ports[3:])) == 1
    assert ports[0] != ports[3]

"""A loopback server that speaks OpenRouter's (and OpenAI's) streaming chat-completions protocol.

It answers `POST .../chat/completions` with real server-sent events over chunked HTTP/1.1:
reasoning deltas with `reasoning_details`, content split mid-token, `: OPENROUTER PROCESSING`
keep-alive comments, a final usage chunk with `cost`, and `data: [DONE]`. Every request is
recorded (headers and JSON body) so tests can check what the client sent, and each test
decides how the server misbehaves:

    server.scenario("flaky")                 # one 500, then a good stream
    server.script(error_reply(401), ok())    # or any sequence; the last reply repeats

A request asking for an image (`"modalities": ["image", "text"]`, as OpenRouter's image models
take) is answered like FakeOpenRouterImagesServer does (one PNG as a data URL, not streamed),
without using up the script, so one fake serves the analyzer and /generate alike.

`GET .../models` answers with OpenRouter's catalogue (`openrouter_catalogue()`: a few hundred
generated models, text-only and vision, paid and ":free") or, after
`server.serve_models(openai_model_list([...]))`, OpenAI's list shape; `serve_models(Reply(...))`
makes it misbehave like the chat endpoint.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.utils.fakes import loopback
from tests.utils.fakes.loopback import LoopbackHandler, ScriptedServer
from tests.utils.fakes.openrouter_images_server import FakeOpenRouterImagesServer

VALID_PROMPT: dict[str, Any] = {
    "schema_version": "1.0",
    "scene": "A small red sailing boat on a calm sea at sunset",
    "subjects": [
        {"description": "a small red sailing boat", "type": "object", "position": "center"}
    ],
    "style": {"medium": "photograph", "genre": "seascape"},
    "color_palette": [
        {"hex": "#e8a33d", "name": "amber", "proportion": 0.4},
        {"hex": "#1d3557", "name": "deep blue", "proportion": 0.35},
    ],
    "lighting": {"conditions": "golden hour", "direction": "back", "contrast": "medium"},
    "composition": {"aspect_ratio": "16:9", "orientation": "landscape"},
    "mood": "serene",
    "tags": ["sunset", "sea", "boat"],
}
VALID_CONTENT = json.dumps(VALID_PROMPT, indent=2)
REASONING = "The image shows a boat. The light is warm, so golden hour."
# Fails the schema in several ways a model might: empty scene, a string where a list of
# subjects belongs, a colour name instead of hex, an unknown contrast, a missing field.
SCHEMA_INVALID_CONTENT = json.dumps(
    {
        "schema_version": "1.0",
        "scene": "",
        "subjects": "a boat",
        "style": {"medium": "photograph"},
        "color_palette": [{"hex": "orange"}],
        "lighting": {"contrast": "very"},
    }
)
INVALID_JSON_CONTENT = "I could not analyse this image, sorry! Try another one."


@dataclass
class Reply:
    """One response. `events` are raw SSE blocks, each written as its own HTTP chunk."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # a plain (non-streamed) body, for errors
    events: list[str] = field(default_factory=list)
    stall: float = 0.0  # seconds of silence after the headers (timeouts)
    chunk_delay: float = 0.0
    # "" ends the body properly; "drop" closes the socket mid-chunk (the client sees a
    # broken transfer); "eof" ends the body cleanly but early (no [DONE], no finish_reason).
    cut: str = ""


@dataclass(frozen=True)
class RecordedRequest(loopback.RecordedRequest):
    # The client's port: requests sent over one kept-alive connection share it.
    client_port: int | None = None


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    payload = {
        "id": "gen-fake-1",
        "provider": "Fake",
        "model": model,
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", **delta},
                "finish_reason": finish,
                "native_finish_reason": finish,
                "logprobs": None,
            }
        ],
        **extra,
    }
    return f"data: {json.dumps(payload)}\n\n"


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def stream_events(
    content: str = VALID_CONTENT,
    *,
    model: str = "fake/model",
    reasoning: str = REASONING,
    reasoning_field: str = "reasoning",
    chunk_size: int = 7,
    finish_reason: str | None = "stop",
    usage: bool = True,
    done: bool = True,
    cost: float | None = 0.000417,
) -> list[str]:
    """The SSE blocks of a well-formed OpenRouter stream."""
    events = [": OPENROUTER PROCESSING\n\n", ": OPENROUTER PROCESSING\n\n"]
    for piece in _pieces(reasoning, 9):
        delta: dict[str, Any] = {"content": "", reasoning_field: piece}
        if reasoning_field == "reasoning":
            delta["reasoning_details"] = [
                {"type": "reasoning.text", "text": piece, "format": "unknown", "index": 0}
            ]
        events.append(_chunk(model, delta))
    # Content split at a fixed width cuts through tokens, escapes and multi-byte text.
    events += [_chunk(model, {"content": piece}) for piece in _pieces(content, chunk_size)]
    events.append(_chunk(model, {"content": ""}, finish_reason))
    if usage:
        events.append(
            "data: "
            + json.dumps(
                {
                    "id": "gen-fake-1",
                    "object": "chat.completion.chunk",
                    "choices": [],
                    "usage": {
                        "prompt_tokens": 1234,
                        "completion_tokens": 321,
                        "total_tokens": 1555,
                        **({"cost": cost} if cost is not None else {}),
                        "completion_tokens_details": {"reasoning_tokens": 20},
                    },
                }
            )
            + "\n\n"
        )
    if done:
        events.append("data: [DONE]\n\n")
    return events


def ok(content: str = VALID_CONTENT, **kwargs: Any) -> Reply:
    return Reply(events=stream_events(content, **kwargs))


def error_reply(status: int, message: str = "", *, headers: dict[str, str] | None = None) -> Reply:
    body = {"error": {"code": status, "message": message or f"fake error {status}"}}
    return Reply(status=status, headers=headers or {}, body=json.dumps(body).encode())


def mid_stream_error(code: int | str = 502, message: str = "Provider disconnected") -> Reply:
    """OpenRouter's way to fail after the 200: an `error` chunk with finish_reason "error"."""
    events = stream_events(done=False, usage=False, finish_reason=None)[:-1]
    events = events[: len(events) // 2]
    events.append(
        _chunk(
            "fake/model",
            {"content": ""},
            "error",
            error={"code": code, "message": message},
        )
    )
    return Reply(events=events)


# -- the model catalogue ---------------------------------------------------------------------

# What OpenRouter really lists for the seed's model (ids, modalities and parameters as served).
NEMOTRON_VL = "nvidia/nemotron-nano-12b-v2-vl"
_VENDORS = ("acme", "zenith", "orbit", "lumen", "quanta", "nimbus", "vertex", "helix")
_PARAMS = ["max_tokens", "temperature", "top_p", "seed", "stop"]


def catalogue_model(
    model_id: str,
    name: str,
    *,
    inputs: tuple[str, ...] = ("text",),
    outputs: tuple[str, ...] = ("text",),
    prompt: str = "0.0000002",
    completion: str = "0.0000006",
    image: str = "0",
    params: tuple[str, ...] = (),
    context: int = 131072,
) -> dict[str, Any]:
    """One entry, with every field OpenRouter's `/api/v1/models` sends."""
    return {
        "id": model_id,
        "canonical_slug": model_id.split(":")[0] + "-20250101",
        "hugging_face_id": "",
        "name": name,
        "created": 1_735_689_600,
        "description": f"{name}: a generated model for tests.",
        "context_length": context,
        "architecture": {
            "modality": "+".join(inputs) + "->" + "+".join(outputs),
            "input_modalities": list(inputs),
            "output_modalities": list(outputs),
            "tokenizer": "Other",
            "instruct_type": None,
        },
        "pricing": {
            "prompt": prompt,
            "completion": completion,
            "request": "0",
            "image": image,
            "web_search": "0",
            "internal_reasoning": "0",
        },
        "top_provider": {
            "context_length": context,
            "max_completion_tokens": 16384,
            "is_moderated": False,
        },
        "per_request_limits": None,
        "supported_parameters": [*_PARAMS, *params],
        "default_parameters": {},
    }


def openrouter_catalogue(size: int = 320) -> dict[str, Any]:
    """`{"data": [...]}` like OpenRouter's: the seed's model (paid and :free), the app's
    built-in three, then generated vendors' text-only, vision and image-output models."""
    reasoning_vl = ("reasoning", "include_reasoning", "response_format", "structured_outputs")
    data = [
        catalogue_model(
            NEMOTRON_VL,
            "NVIDIA: Nemotron Nano 12B 2 VL",
            inputs=("image", "text", "video"),
            params=reasoning_vl,
        ),
        catalogue_model(
            f"{NEMOTRON_VL}:free",
            "NVIDIA: Nemotron Nano 12B 2 VL (free)",
            inputs=("image", "text", "video"),
            prompt="0",
            completion="0",
            params=("reasoning", "include_reasoning"),
        ),
        catalogue_model(
            "google/gemini-2.5-flash",
            "Google: Gemini 2.5 Flash",
            inputs=("text", "image", "file", "audio"),
            prompt="0.0000003",
            completion="0.0000025",
            image="0.001238",
            params=reasoning_vl,
        ),
        catalogue_model(
            "openai/gpt-4o-mini",
            "OpenAI: GPT-4o-mini",
            inputs=("text", "image", "file"),
            prompt="0.00000015",
            completion="0.0000006",
            image="0.000217",
            params=("response_format", "structured_outputs"),
        ),
        catalogue_model(
            "openrouter/auto",
            "Auto Router",
            inputs=("text", "image"),
            prompt="-1",
            completion="-1",
        ),
    ]
    for i in range(size - len(data)):
        vendor = _VENDORS[i % len(_VENDORS)]
        kind = i % 4  # 0, 1: text only; 2: vision; 3: vision with structured outputs
        vision = kind >= 2
        data.append(
            catalogue_model(
                f"{vendor}/model-{i:03d}" + ("-vl" if vision else ""),
                f"{vendor.title()}: Model {i:03d}" + (" Vision" if vision else ""),
                inputs=("text", "image") if vision else ("text",),
                outputs=("image",) if i % 40 == 2 else ("text",),  # image generators
                prompt=f"{(i % 9 + 1) / 10_000_000:.10f}",
                completion=f"{(i % 7 + 1) * 4 / 10_000_000:.10f}",
                params=("structured_outputs", "response_format") if kind == 3 else (),
            )
        )
    return {"data": data}


def openai_model_list(ids: list[str]) -> dict[str, Any]:
    """What OpenAI, Ollama, LM Studio and vLLM answer at `GET /v1/models`."""
    return {
        "object": "list",
        "data": [
            {"id": i, "object": "model", "created": 1_700_000_000, "owned_by": "library"}
            for i in ids
        ],
    }


def json_reply(payload: Any, status: int = 200) -> Reply:
    return Reply(status=status, body=json.dumps(payload).encode())


SCENARIOS = {
    "ok": lambda: [ok()],
    "unauthorized": lambda: [error_reply(401, "No auth credentials found")],
    "payment_required": lambda: [error_reply(402, "Insufficient credits")],
    "model_not_found": lambda: [error_reply(404, "No endpoints found for fake/model.")],
    "rate_limited": lambda: [
        error_reply(429, "Rate limit exceeded: free-models-per-min", headers={"Retry-After": "7"})
    ],
    "flaky": lambda: [error_reply(500, "Internal Server Error"), ok()],
    "down": lambda: [error_reply(503, "Service Unavailable")],
    "slow": lambda: [Reply(events=stream_events(), stall=2.0)],
    "truncated": lambda: [Reply(events=stream_events()[:25], cut="drop")],
    "ended_early": lambda: [Reply(events=stream_events()[:3], cut="eof")],
    "invalid_json": lambda: [ok(INVALID_JSON_CONTENT)],
    "schema_invalid": lambda: [ok(SCHEMA_INVALID_CONTENT)],
    "mid_stream_error": lambda: [mid_stream_error()],
}


class FakeOpenAIServer(ScriptedServer):
    """Start with `with FakeOpenAIServer() as server:`; `server.url` is the API base URL."""

    requests: list[RecordedRequest]
    _replies: list[Reply]

    def __init__(self) -> None:
        super().__init__(ok())
        self._models_reply: Reply = json_reply(openrouter_catalogue())
        self._stop = threading.Event()
        # Clients that hang up (timeouts, cut streams) are part of the tests, not errors.
        self._httpd.handle_error = lambda *_: None  # type: ignore[method-assign]

    @property
    def url(self) -> str:
        return super().url + "/api/v1"

    def scenario(self, name: str) -> None:
        self.script(*SCENARIOS[name]())

    def serve_models(self, reply: Reply | dict[str, Any]) -> None:
        """What `GET .../models` answers from now on (a payload, or any Reply)."""
        with self._lock:
            self._models_reply = reply if isinstance(reply, Reply) else json_reply(reply)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()  # wakes handlers that are stalling on purpose
        super().__exit__(*exc)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(LoopbackHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.requests.append(self._record(None))
                if self.path.split("?")[0] != "/api/v1/models":
                    self._send(404, b'{"error": {"message": "Not Found"}}')
                    return
                with server._lock:
                    reply = server._models_reply
                self._respond(reply)

            def do_POST(self) -> None:  # noqa: N802
                body = self._read_json()
                server.requests.append(self._record(body))
                if self.path != "/api/v1/chat/completions":
                    self._send(404, b'{"error": {"message": "Not Found"}}')
                    return
                if isinstance(body, dict) and "image" in (body.get("modalities") or []):
                    answer = FakeOpenRouterImagesServer.answer_with_image(body)
                    self._send(200, json.dumps(answer).encode())
                    return
                self._respond(server._next(server._replies))

            def _record(self, body: Any) -> RecordedRequest:
                r = super()._record(body)
                return RecordedRequest(r.method, r.path, r.headers, r.body, self.client_address[1])

            def _respond(self, reply: Reply) -> None:
                if reply.body is not None:
                    if reply.stall and server._stop.wait(reply.stall):
                        return
                    self._send(reply.status, reply.body, headers=reply.headers)
                    return
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Transfer-Encoding", "chunked")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.flush()
                if reply.stall and server._stop.wait(reply.stall):
                    return
                for event in reply.events:
                    data = event.encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                    if reply.chunk_delay:
                        time.sleep(reply.chunk_delay)
                if reply.cut == "drop":
                    # Promise a chunk, send half of it, and hang up.
                    self.wfile.write(b'40\r\ndata: {"choi')
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        return Handler


def serve() -> Iterator[FakeOpenAIServer]:
    """Generator for a pytest fixture: `yield from serve()`."""
    with FakeOpenAIServer() as server:
        yield server

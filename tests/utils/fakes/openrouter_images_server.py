"""A loopback server that speaks OpenRouter's chat completions for image models.

    POST /api/v1/chat/completions   Authorization: Bearer <key>
         {"model", "messages", "modalities": ["image", "text"], "image_config": {"aspect_ratio"}}
    -> 200 {"id", "model", "choices": [{"message": {"role": "assistant", "content": "...",
            "images": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}]}}]}

Without "image" in `modalities` the model answers in text only, as OpenRouter's do. The image
is a real PNG in the asked aspect ratio. Each test scripts the replies (the last repeats):

    server.script(error(402), ok())         # HTTP errors
    server.script(in_body_error(502), ok()) # 200 with {"error": {...}}, as OpenRouter sends
    server.script(text_only())              # the model answered without an image
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from PIL import Image

from tests.utils.fakes.loopback import LoopbackHandler, RecordedRequest, ScriptedServer

KEY = "openrouter-images-test-key"
PATH = "/api/v1/chat/completions"
SIDE = 256  # the long side of the images it draws


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # sent as is instead of an image answer
    with_image: bool = True


def ok() -> Reply:
    return Reply()


def text_only() -> Reply:
    return Reply(with_image=False)


def error(status: int, message: str = "", *, headers: dict[str, str] | None = None) -> Reply:
    body = {"error": {"code": status, "message": message or f"error {status}"}}
    return Reply(status=status, headers=headers or {}, body=json.dumps(body).encode())


def in_body_error(code: int | str, message: str = "Provider returned error") -> Reply:
    return Reply(body=json.dumps({"error": {"code": code, "message": message}}).encode())


def png_for(aspect: str, seed: int) -> bytes:
    w, h = (int(part) for part in aspect.split(":"))
    size = (SIDE, round(SIDE * h / w)) if w >= h else (round(SIDE * w / h), SIDE)
    buf = io.BytesIO()
    Image.new("RGB", size, (seed * 37 % 256, 90, 160)).save(buf, "PNG")
    return buf.getvalue()


class FakeOpenRouterImagesServer(ScriptedServer):
    """`with FakeOpenRouterImagesServer() as server:`; `server.base_url` is OPENROUTER_BASE_URL."""

    requests: list[RecordedRequest]
    _replies: list[Reply]

    def __init__(self) -> None:
        super().__init__(ok())

    @property
    def base_url(self) -> str:
        return self.url + "/api/v1"

    @staticmethod
    def answer_with_image(body: dict[str, Any]) -> dict[str, Any]:
        """The 200 answer to `body` (an image when `modalities` asks for one)."""
        return FakeOpenRouterImagesServer._answer(body, with_image=True)

    @staticmethod
    def _answer(body: dict[str, Any], with_image: bool) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "Here is your image."}
        if with_image and "image" in (body.get("modalities") or []):
            aspect = (body.get("image_config") or {}).get("aspect_ratio", "1:1")
            data = png_for(aspect, int(body.get("seed") or 0))
            url = "data:image/png;base64," + base64.b64encode(data).decode()
            message["images"] = [{"type": "image_url", "image_url": {"url": url}}]
        else:
            message["content"] = "I can only describe it: a red boat at sunset."
        return {
            "id": f"gen-{uuid.uuid4().hex[:12]}",
            "model": body.get("model"),
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 1290, "cost": 0.039},
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(LoopbackHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self._read_json(keep_text=False)
                server.requests.append(self._record(body))
                if self.path != PATH:
                    self._send(404, b'{"error": {"code": 404, "message": "Not Found"}}')
                    return
                if self.headers.get("Authorization") != f"Bearer {KEY}":
                    self._send(401, b'{"error": {"code": 401, "message": "No auth credentials"}}')
                    return
                reply = server._next(server._replies)
                if reply.body is not None:
                    self._send(reply.status, reply.body, headers=reply.headers)
                    return
                answer = server._answer(body if isinstance(body, dict) else {}, reply.with_image)
                self._send(200, json.dumps(answer).encode())

        return Handler


def serve() -> Iterator[FakeOpenRouterImagesServer]:
    """Generator for a pytest fixture: `yield from serve()`."""
    with FakeOpenRouterImagesServer() as server:
        yield server

"""A loopback server that speaks Together AI's image API and its CDN.

    POST /v1/images/generations   Authorization: Bearer <key>
         {"model", "prompt", "width", "height", "steps", "n", "seed", "response_format"}
    -> 200 {"id", "model", "object": "list", "data": [{"index", "url"} | {"index", "b64_json"}]}
    GET  /cdn/<name>.png          the images behind those URLs: 403 without a User-Agent, as
                                  Together's CDN does

Images are real PNGs of the asked size, coloured by the seed, so a test can check what came
back. Each test scripts the replies of the API and of the CDN, in order (the last repeats):

    server.script(error(429, headers={"x-ratelimit-reset": "7"}), ok())
    server.script_downloads(DROP, SERVE)   # the first download breaks mid-body
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

KEY = "together-test-key"
PATH = "/v1/images/generations"
SERVE = "serve"  # a download answered in full
DROP = "drop"  # a download whose body stops half-way (the connection closes)


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # sent as is instead of images


def ok() -> Reply:
    return Reply()


def error(status: int, message: str = "", *, headers: dict[str, str] | None = None) -> Reply:
    body = {"error": {"message": message or f"error {status}", "type": "invalid_request_error"}}
    return Reply(status=status, headers=headers or {}, body=json.dumps(body).encode())


def png(width: int, height: int, seed: int) -> bytes:
    """A real PNG of that size, in a colour the seed picks."""
    colour = (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256)
    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, "PNG")
    return buf.getvalue()


class FakeTogetherServer(ScriptedServer):
    """`with FakeTogetherServer() as server:`; `server.base_url` is TOGETHER_BASE_URL."""

    requests: list[RecordedRequest]
    _replies: list[Reply]

    def __init__(self) -> None:
        super().__init__(ok())
        self._downloads: list[int | str] = [SERVE]
        self._files: dict[str, bytes] = {}

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def script_downloads(self, *outcomes: int | str) -> None:
        """What the CDN does for each download: SERVE, DROP, or an HTTP status."""
        with self._lock:
            self._downloads = list(outcomes)

    def _generate(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        width, height = body.get("width", 1024), body.get("height", 1024)
        if not isinstance(width, int) or not isinstance(height, int):
            return 400, {"error": {"message": "width and height must be integers"}}
        if width % 16 or height % 16:
            return 400, {"error": {"message": "width and height must be multiples of 16"}}
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            return 400, {"error": {"message": "prompt is required"}}
        seed = body.get("seed", 0)
        data = []
        for index in range(int(body.get("n", 1))):
            image = png(width, height, seed + index)
            if body.get("response_format") == "base64":
                data.append({"index": index, "b64_json": base64.b64encode(image).decode()})
            else:
                name = f"/cdn/{uuid.uuid4().hex}.png"
                self._files[name] = image
                data.append({"index": index, "url": self.url + name})
        answer = {"id": f"tg-{uuid.uuid4().hex[:16]}", "model": body.get("model"),
                  "object": "list", "data": data}  # fmt: skip
        return 200, answer

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(LoopbackHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.requests.append(self._record(None))
                data = server._files.get(self.path)
                if data is None:
                    self._send(404, b"not found", "text/plain")
                    return
                if not self.headers.get("User-Agent"):
                    self._send(403, b"<html>403 Forbidden</html>", "text/html")
                    return
                outcome = server._next(server._downloads)
                if outcome == DROP:
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if isinstance(outcome, int):
                    self._send(outcome, b"unavailable", "text/plain")
                    return
                self._send(200, data, "image/png")

            def do_POST(self) -> None:  # noqa: N802
                body = self._read_json()
                server.requests.append(self._record(body))
                if self.path != PATH:
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                if self.headers.get("Authorization") != f"Bearer {KEY}":
                    self._send(401, b'{"error": {"message": "Invalid API key provided"}}')
                    return
                reply = server._next(server._replies)
                if reply.body is not None:
                    self._send(reply.status, reply.body, headers=reply.headers)
                    return
                status, answer = server._generate(body if isinstance(body, dict) else {})
                self._send(status, json.dumps(answer).encode())

        return Handler


def serve() -> Iterator[FakeTogetherServer]:
    """Generator for a pytest fixture: `yield from serve()`."""
    with FakeTogetherServer() as server:
        yield server

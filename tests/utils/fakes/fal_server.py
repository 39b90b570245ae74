"""A loopback server that speaks Fal.ai's synchronous REST API for `fal-ai/imageutils/rembg`.

    POST /fal-ai/imageutils/rembg   Authorization: Key <key>   {"image_url": "data:...", ...}
    -> 200 {"image": {"url": ..., "content_type": "image/png", "width": w, "height": h}}

It really cuts the image: the returned PNG is the input with its left half transparent, so a
test can check that the alpha came back onto the right pixels. The result is sent inline as a
data URL (what `sync_mode` asks for) or, with `result="url"`, as a link to this same server, the
way Fal's CDN serves results. Each test scripts the replies:

    server.script(error(401), ok())   # in order; the last one repeats
"""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image

KEY = "fal-test-key"
PATH = "/fal-ai/imageutils/rembg"


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # sent as is instead of a cut-out
    result: str = "data"  # "data": inline data URL; "url": a link to GET from this server


def ok(result: str = "data") -> Reply:
    return Reply(result=result)


def error(status: int, message: str = "", *, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps({"detail": message or f"error {status}"}).encode()
    return Reply(status=status, headers=headers or {}, body=body)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any


def cut_left_half(png: bytes) -> bytes:
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    alpha = Image.new("L", image.size, 255)
    alpha.paste(0, (0, 0, image.width // 2, image.height))
    image.putalpha(alpha)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


class FakeFalServer:
    """`with FakeFalServer() as server:`; `server.url` is the base URL (FAL_BASE_URL)."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._replies: list[Reply] = [ok()]
        self._results: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._replies = list(replies)

    def __enter__(self) -> FakeFalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.requests.append(self._record(None))
                data = server._results.get(self.path)
                if data is None:
                    self._send(404, b"not found", "text/plain")
                    return
                self._send(200, data, "image/png")

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                server.requests.append(self._record(body))
                if self.path != PATH:
                    self._send(404, b'{"detail": "Application not found"}')
                    return
                reply = server._next_reply()
                if reply.body is not None:
                    self._send(reply.status, reply.body, headers=reply.headers)
                    return
                if self.headers.get("Authorization") != f"Key {KEY}":
                    self._send(401, b'{"detail": "Invalid key"}')
                    return
                header, _, encoded = str(body.get("image_url", "")).partition(",")
                cut = cut_left_half(base64.b64decode(encoded))
                width, height = Image.open(io.BytesIO(cut)).size
                if reply.result == "url":
                    path = f"/files/result-{len(server._results)}.png"
                    server._results[path] = cut
                    url = server.url + path
                else:
                    url = "data:image/png;base64," + base64.b64encode(cut).decode()
                answer = {
                    "image": {
                        "url": url,
                        "content_type": "image/png",
                        "file_name": "result.png",
                        "width": width,
                        "height": height,
                    }
                }
                self._send(200, json.dumps(answer).encode())

            def _record(self, body: Any) -> RecordedRequest:
                headers = {k.lower(): v for k, v in self.headers.items()}
                return RecordedRequest(self.command, self.path, headers, body)

            def _send(
                self,
                status: int,
                body: bytes,
                content_type: str = "application/json",
                headers: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler


def serve() -> Iterator[FakeFalServer]:
    """Generator for a pytest fixture: `yield from serve()`."""
    with FakeFalServer() as server:
        yield server

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
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from PIL import Image

from tests.utils.fakes.loopback import LoopbackHandler, RecordedRequest, ScriptedServer

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


def cut_left_half(png: bytes) -> bytes:
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    alpha = Image.new("L", image.size, 255)
    alpha.paste(0, (0, 0, image.width // 2, image.height))
    image.putalpha(alpha)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


class FakeFalServer(ScriptedServer):
    """`with FakeFalServer() as server:`; `server.url` is the base URL (FAL_BASE_URL)."""

    requests: list[RecordedRequest]
    _replies: list[Reply]

    def __init__(self) -> None:
        super().__init__(ok())
        self._results: dict[str, bytes] = {}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(LoopbackHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.requests.append(self._record(None))
                data = server._results.get(self.path)
                if data is None:
                    self._send(404, b"not found", "text/plain")
                    return
                self._send(200, data, "image/png")

            def do_POST(self) -> None:  # noqa: N802
                body = self._read_json()
                server.requests.append(self._record(body))
                if self.path != PATH:
                    self._send(404, b'{"detail": "Application not found"}')
                    return
                reply = server._next(server._replies)
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

        return Handler


def serve() -> Iterator[FakeFalServer]:
    """Generator for a pytest fixture: `yield from serve()`."""
    with FakeFalServer() as server:
        yield server

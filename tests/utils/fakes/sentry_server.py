"""A loopback Sentry ingest endpoint: accepts the SDK's envelope `POST /api/<project>/envelope/`
(gzip compressed, as the SDK sends it without brotli installed) and keeps the events it carried."""

from __future__ import annotations

import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.utils.fakes.loopback import LoopbackHandler, LoopbackServer

PROJECT_ID = "42"
PUBLIC_KEY = "0123456789abcdef0123456789abcdef"


class SentryServer(LoopbackServer):
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._arrived = threading.Condition()
        super().__init__()

    @property
    def dsn(self) -> str:
        return self.url.replace("http://", f"http://{PUBLIC_KEY}@") + f"/{PROJECT_ID}"

    def wait_for_event(self, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not self.events:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no event reached the fake Sentry")
                self._arrived.wait(left)
            return self.events[0]

    def _receive(self, envelope: bytes) -> None:
        events = [payload for kind, payload in _items(envelope) if kind == "event"]
        with self._arrived:
            self.events.extend(events)
            self._arrived.notify_all()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(LoopbackHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = self.headers.get("Content-Encoding")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding:  # brotli, when installed; not here
                    self._json(415, {"detail": f"no {encoding} here"})
                    return
                if self.path != f"/api/{PROJECT_ID}/envelope/":
                    self._json(404, {"detail": "unknown project"})
                    return
                auth = self.headers.get("X-Sentry-Auth", "")
                if f"sentry_key={PUBLIC_KEY}" not in auth:
                    self._json(401, {"detail": "bad key"})
                    return
                server._receive(body)
                self._json(200, {"id": "accepted"})

        return Handler


def _items(envelope: bytes) -> list[tuple[str, Any]]:
    """(type, payload) of each item: a header line, then `length` bytes or one line."""
    _header, _, rest = envelope.partition(b"\n")
    items = []
    while rest.strip():
        item_header_line, _, rest = rest.partition(b"\n")
        item_header = json.loads(item_header_line)
        if "length" in item_header:
            payload, rest = rest[: item_header["length"]], rest[item_header["length"] + 1 :]
        else:
            payload, _, rest = rest.partition(b"\n")
        kind = item_header.get("type", "")
        items.append((kind, json.loads(payload) if kind in ("event", "transaction") else payload))
    return items

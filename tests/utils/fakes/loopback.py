"""What every loopback fake server shares: a threaded HTTP server on 127.0.0.1 (a free port)
in a daemon thread, started and stopped by `with` (LoopbackServer), scripted replies
(ScriptedServer), and a handler base that records requests and sends bodies (LoopbackHandler).

    class FakeThing(ScriptedServer):
        def __init__(self) -> None:
            super().__init__(ok())            # the reply served until a test scripts others

        def _handler_class(self) -> type[BaseHTTPRequestHandler]:
            server = self

            class Handler(LoopbackHandler):
                def do_POST(self) -> None:
                    body = self._read_json()
                    server.requests.append(self._record(body))
                    self._json(200, {"ok": True})

            return Handler
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any


class LoopbackServer(ABC):
    """`with Fake() as server:` serves on `server.url` until the block ends."""

    def __init__(self) -> None:
        self.requests: list[Any] = []
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

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @abstractmethod
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        """The request handler, a closure over this server."""


class ScriptedServer(LoopbackServer):
    """A loopback server whose replies each test scripts, in order (the last one repeats)."""

    def __init__(self, default_reply: Any) -> None:
        self._replies: list[Any] = [default_reply]
        super().__init__()

    def script(self, *replies: Any) -> None:
        """Serve these replies in order; the last one repeats."""
        with self._lock:
            self._replies = list(replies)

    def _next(self, queue: list[T]) -> T:
        """The next scripted reply of `queue`; the last one stays."""
        with self._lock:
            return queue.pop(0) if len(queue) > 1 else queue[0]


class LoopbackHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, no access log, and the helpers every fake's handler uses."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _read_json(self, *, keep_text: bool = True) -> Any:
        """The request's JSON body; if it is not JSON, its text (or None without keep_text)."""
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace") if keep_text else None

    def _record(self, body: Any) -> RecordedRequest:
        headers = {k.lower(): v for k, v in self.headers.items()}
        return RecordedRequest(self.command, self.path, headers, body)

    def _json(self, status: int, answer: Any) -> None:
        self._send(status, json.dumps(answer).encode())

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

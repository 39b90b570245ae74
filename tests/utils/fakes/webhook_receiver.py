"""A loopback webhook receiver: records every POST (raw body and headers) and answers as scripted.

    with WebhookReceiver() as receiver:
        receiver.script(Reply(500), Reply(200))        # first attempt fails, the rest succeed
        ...
        Webhook(secret).verify(r.body, r.headers)      # for r in receiver.requests

`Reply(hold=event)` keeps the connection open without answering until the event is set (a
receiver that hangs, to kill a worker mid-delivery). `receiver.decide` may pick replies per
request instead of the script (the benchmark fails the first attempt of some messages).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.utils.fakes.loopback import LoopbackHandler, ScriptedServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: str  # exactly as sent


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"ok":true}'
    headers: dict[str, str] = field(default_factory=dict)
    hold: threading.Event | None = None


class WebhookReceiver(ScriptedServer):
    def __init__(self) -> None:
        super().__init__(Reply())
        self.decide: Callable[[Received], Reply] | None = None
        self.arrived = threading.Condition()

    def ids(self) -> list[str]:
        return [r.headers.get("webhook-id", "") for r in list(self.requests)]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Block until `count` requests arrived (no sleeps: woken by each arrival)."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.requests) >= count, timeout=timeout):
                raise AssertionError(f"expected {count} webhook requests, got {len(self.requests)}")
        return list(self.requests)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(LoopbackHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received = Received(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=raw.decode("utf-8"),
                )
                reply = server.decide(received) if server.decide else server._next(server._replies)
                with server.arrived:
                    server.requests.append(received)
                    server.arrived.notify_all()
                if reply.hold is not None:
                    reply.hold.wait(timeout=60)
                    return  # hang up without an answer
                self._send(reply.status, reply.body, headers=reply.headers)

        return Handler

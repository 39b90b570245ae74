"""A loopback PostHog: accepts the SDK's batch POST (`/batch/`, gzip-compressed when the
client says so) as PostHog's capture endpoint does, and keeps every event it received.

    with FakePostHog() as posthog:
        ... POSTHOG_HOST=posthog.url ...
        posthog.events   # [{"event": "signed_up", "distinct_id": "1", "properties": {...}}]
"""

from __future__ import annotations

import gzip
import json
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.utils.fakes.loopback import LoopbackHandler, LoopbackServer, RecordedRequest


class FakePostHog(LoopbackServer):
    @property
    def events(self) -> list[dict[str, Any]]:
        return [e for r in list(self.requests) for e in r.body.get("batch", [])]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(LoopbackHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
                try:
                    body = json.loads(raw)
                except ValueError:
                    self._json(400, {"type": "validation_error", "detail": "Malformed JSON"})
                    return
                if self.path.rstrip("/") != "/batch" or not body.get("api_key"):
                    self._json(401, {"type": "authentication_error", "detail": "No API key"})
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append(RecordedRequest("POST", self.path, headers, body))
                self._json(200, {"status": 1})

        return Handler

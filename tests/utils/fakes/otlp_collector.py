"""A loopback OpenTelemetry collector: accepts OTLP/HTTP `POST /v1/traces` (protobuf, gzip or
not), decodes it with opentelemetry-proto and keeps the spans it received."""

from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.utils.fakes.loopback import LoopbackHandler, LoopbackServer


@dataclass(frozen=True)
class ReceivedSpan:
    service_name: str
    name: str
    trace_id: str  # 32 hex
    span_id: str  # 16 hex
    attributes: dict[str, Any]
    linked_span_ids: list[str]


class OtlpCollector(LoopbackServer):
    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self._arrived = threading.Condition()
        super().__init__()

    def wait_for(self, name: str, timeout: float = 15.0) -> ReceivedSpan:
        """The first span named `name`, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = [s for s in self.spans if s.name == name]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no span {name!r}; got {[s.name for s in self.spans]}")
                self._arrived.wait(left)

    def _receive(self, body: bytes) -> None:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        received = []
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            received.extend(
                ReceivedSpan(
                    service_name=resource.get("service.name", ""),
                    name=span.name,
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    attributes={a.key: _value(a.value) for a in span.attributes},
                    linked_span_ids=[link.span_id.hex() for link in span.links],
                )
                for scope_spans in resource_spans.scope_spans
                for span in scope_spans.spans
            )
        with self._arrived:
            self.spans.extend(received)
            self._arrived.notify_all()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(LoopbackHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self._send(404, b"", "text/plain")
                    return
                if self.headers.get("Content-Type") != "application/x-protobuf":
                    self._send(415, b"", "text/plain")
                    return
                server._receive(body)
                answer = ExportTraceServiceResponse().SerializeToString()
                self._send(200, answer, "application/x-protobuf")

        return Handler


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None

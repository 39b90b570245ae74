"""Fal's queue running `fal-ai/flux-lora-fast-training`, with signed webhooks (loopback).

Everything FakeFalQueueServer speaks (image models, URL quirks, cancel), plus trainings:

    POST /fal-ai/flux-lora-fast-training[?fal_webhook=URL]
         {"images_data_url", "trigger_word", "steps", "is_style"}
      -> the zip is fetched from images_data_url at once (a failed fetch fails the training,
         as at Fal); `server.zips[request_id]` keeps the names of the photos inside
    GET  status_url    IN_QUEUE -> IN_PROGRESS -> COMPLETED, moved on by the clock: one step
                       every `step_seconds` (`finish = False`: never completes)
    GET  response_url  {"diffusers_lora_file": {"url", ...}, "config_file": {"url", ...}}
    GET  /.well-known/jwks.json   the ED25519 public key the webhooks are signed with

On completion it POSTs the outcome to the submit's `fal_webhook` URL, signed the way Fal signs
(headers X-Fal-Webhook-Request-Id / -User-Id / -Timestamp / -Signature over
"{request_id}\n{user_id}\n{timestamp}\n{sha256(body) hex}"), unless `lose_webhooks` is set.
`fail_with = "..."` makes trainings end in that error.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.utils.fakes.fal_queue_server import KEY, FakeFalQueueServer, app_id

TRAINING = "fal-ai/flux-lora-fast-training"
USER_ID = "fake-fal-user"
__all__ = ["KEY", "TRAINING", "USER_ID", "FakeFalTrainingServer", "serve", "sign"]


@dataclass
class Training:
    request_id: str
    arguments: dict[str, Any]
    webhook_url: str | None
    steps: list[dict[str, Any]]
    status: dict[str, Any] = field(default_factory=lambda: {"status": "IN_QUEUE"})
    next_at: float = 0.0
    completed: bool = False
    cancelled: bool = False
    error: str | None = None


def sign(key: Ed25519PrivateKey, body: bytes, *, request_id: str, timestamp: int) -> dict[str, str]:
    """The headers Fal sends with a webhook `body`, signed by `key`."""
    message = "\n".join(
        [request_id, USER_ID, str(timestamp), hashlib.sha256(body).hexdigest()]
    ).encode()
    return {
        "Content-Type": "application/json",
        "X-Fal-Webhook-Request-Id": request_id,
        "X-Fal-Webhook-User-Id": USER_ID,
        "X-Fal-Webhook-Timestamp": str(timestamp),
        "X-Fal-Webhook-Signature": key.sign(message).hex(),
    }


class FakeFalTrainingServer(FakeFalQueueServer):
    def __init__(self) -> None:
        super().__init__()
        self.signing_key = Ed25519PrivateKey.generate()
        self.trainings: dict[str, Training] = {}
        self.zips: dict[str, list[str]] = {}  # request id -> photo names fetched
        self.step_seconds = 0.2
        self.lose_webhooks = False
        self.fail_with: str | None = None
        self.webhook_replies: list[int] = []  # our receiver's answers
        self._stop = threading.Event()
        self._clock = threading.Thread(target=self._tick, daemon=True)

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/.well-known/jwks.json"

    def __enter__(self) -> FakeFalTrainingServer:
        super().__enter__()
        self._clock.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._clock.join(timeout=5)
        super().__exit__(*exc)

    def jwks(self) -> dict[str, Any]:
        raw = self.signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "fake", "use": "sig"}]}

    # -- the training's life ---------------------------------------------------------------
    def _start(self, body: dict[str, Any], webhook_url: str | None) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        steps = [{"status": "IN_QUEUE", "queue_position": p} for p in self.queue_positions]
        steps += [{"status": "IN_PROGRESS", "logs": []}] * self.running_polls
        training = Training(request_id, body, webhook_url, steps, next_at=time.monotonic())
        training.error = self._fetch_zip(request_id, str(body["images_data_url"]))
        with self._lock:
            self.trainings[request_id] = training
        base = f"{self.url}/{app_id(TRAINING)}/requests/{request_id}"
        return {"status": "IN_QUEUE", "request_id": request_id, "response_url": base,
                "status_url": base + "/status", "cancel_url": base + "/cancel",
                "queue_position": 0}  # fmt: skip

    def _fetch_zip(self, request_id: str, url: str) -> str | None:
        try:
            answer = httpx.get(url, timeout=10)
            answer.raise_for_status()
            with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
                self.zips[request_id] = archive.namelist()
        except (httpx.HTTPError, zipfile.BadZipFile) as e:
            return f"Failed to download images_data_url: {e}"
        return None

    def _tick(self) -> None:
        while not self._stop.wait(0.02):
            with self._lock:
                due = [t for t in self.trainings.values() if not t.completed]
            for training in due:
                if training.cancelled or time.monotonic() < training.next_at:
                    continue
                training.next_at = time.monotonic() + self.step_seconds
                if training.steps:
                    training.status = training.steps.pop(0)
                elif self.finish or training.error:
                    self._complete(training)

    def _complete(self, training: Training) -> None:
        training.completed = True
        training.error = training.error or self.fail_with
        training.status = {"status": "COMPLETED", "logs": []}
        if training.error:
            training.status["error"] = training.error
        if training.webhook_url and not self.lose_webhooks:
            self._deliver(training)

    def _deliver(self, training: Training) -> None:
        if training.error:
            event = {"request_id": training.request_id, "gateway_request_id": training.request_id,
                     "status": "ERROR", "error": training.error,
                     "payload": {"detail": training.error}}  # fmt: skip
        else:
            event = {"request_id": training.request_id, "gateway_request_id": training.request_id,
                     "status": "OK", "payload": self._output(training)}  # fmt: skip
        body = json.dumps(event).encode()
        headers = sign(self.signing_key, body, request_id=training.request_id,
                       timestamp=int(time.time()))  # fmt: skip
        try:
            reply = httpx.post(str(training.webhook_url), content=body, headers=headers, timeout=10)
            self.webhook_replies.append(reply.status_code)
        except httpx.HTTPError:
            self.webhook_replies.append(0)

    def _output(self, training: Training) -> dict[str, Any]:
        base = f"{self.url}/files/{training.request_id}"
        return {
            "diffusers_lora_file": {"url": f"{base}/pytorch_lora_weights.safetensors",
                                    "content_type": "application/octet-stream",
                                    "file_name": "pytorch_lora_weights.safetensors",
                                    "file_size": 89_745_224},
            "config_file": {"url": f"{base}/config.json", "content_type": "application/json",
                            "file_name": "config.json", "file_size": 1024},
        }  # fmt: skip

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self
        base = super()._handler_class()

        class Handler(base):  # type: ignore[valid-type,misc]
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                if path == "/.well-known/jwks.json":
                    self._json(200, server.jwks())
                    return
                training, tail = self._training()
                if tail == "refused":
                    return
                if training is None:
                    super().do_GET()
                    return
                server.requests.append(self._record(None))
                if tail == "/status":
                    self._json(200, training.status)
                elif not training.completed:
                    self._json(400, {"detail": "Request is still in progress"})
                elif training.cancelled or training.error:
                    self._json(422, {"detail": training.error or "Request was cancelled"})
                else:
                    self._json(200, server._output(training))

            def do_PUT(self) -> None:  # noqa: N802
                training, tail = self._training()
                if tail == "refused":
                    return
                if training is None:
                    super().do_PUT()
                    return
                server.requests.append(self._record(None))
                if tail != "/cancel":
                    self._json(405, {"detail": "Method not allowed"})
                elif training.completed:
                    self._json(400, {"status": "ALREADY_COMPLETED"})
                else:
                    training.cancelled = training.completed = True
                    training.error = "Request was cancelled"
                    training.status = {"status": "COMPLETED", "error": training.error}
                    self._json(202, {"status": "CANCELLATION_REQUESTED"})

            def do_POST(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                if parts.path.strip("/") != TRAINING:
                    super().do_POST()
                    return
                body = self._read_json(keep_text=False)
                server.requests.append(self._record(body))
                if self.headers.get("Authorization") != f"Key {KEY}":
                    self._json(401, {"detail": "Invalid Key"})
                    return
                reply = server._next(server._replies)
                if reply.body is not None:
                    self._send(reply.status, reply.body, headers=reply.headers)
                    return
                if not isinstance(body, dict) or not body.get("images_data_url"):
                    self._json(422, {"detail": [{"loc": ["body", "images_data_url"],
                                                 "msg": "field required"}]})  # fmt: skip
                    return
                webhook = parse_qs(parts.query).get("fal_webhook", [None])[0]
                self._json(200, server._start(body, webhook))

            def _training(self) -> tuple[Training | None, str]:
                path = self.path.split("?")[0]
                prefix = f"/{app_id(TRAINING)}/requests/"
                if not path.startswith(prefix):
                    return None, ""
                request_id, _, tail = path.removeprefix(prefix).partition("/")
                with server._lock:
                    found = server.trainings.get(request_id)
                if found is not None and self.headers.get("Authorization") != f"Key {KEY}":
                    self._json(401, {"detail": "Invalid Key"})
                    return None, "refused"
                return found, f"/{tail}" if tail else ""

        return Handler


def serve() -> Iterator[FakeFalTrainingServer]:
    with FakeFalTrainingServer() as server:
        yield server

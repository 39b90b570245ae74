"""A loopback server that speaks Fal.ai's queue API, URL quirks included.

    POST /<model_id>                 Authorization: Key <key>   {"prompt", "image_size", ...}
    -> 200 {"request_id", "status_url", "response_url", "cancel_url", "queue_position"}
    GET  status_url     {"status": "IN_QUEUE", "queue_position": n} -> "IN_PROGRESS" -> "COMPLETED"
    GET  response_url   {"images": [{"url", "width", "height", "content_type"}], "seed",
                         "has_nsfw_concepts": [...], "prompt"}
    PUT  cancel_url     202 {"status": "CANCELLATION_REQUESTED"}
                        | 400 {"status": "ALREADY_COMPLETED"}
    GET  /files/<name>.png   the images: 403 without a User-Agent

Like the real queue, the returned URLs are built from the app id (the model id without its
last path part: `fal-ai/flux/dev` -> `/fal-ai/flux/requests/<id>`), so a client that rebuilds
them from the model id gets 404. Each status poll moves a request one step along
`server.queue_positions` (its places in the queue), then `running_polls` polls of
IN_PROGRESS, then COMPLETED; `server.finish = False` keeps requests waiting forever.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from PIL import Image

from tests.utils.fakes.loopback import LoopbackHandler, RecordedRequest, ScriptedServer

KEY = "fal-queue-test-key"
PRESETS = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
_REQUEST_PATH = re.compile(
    r"^/(?P<app>[^/]+/[^/]+)/requests/(?P<id>[0-9a-f-]+)(?P<tail>/status|/cancel)?$"
)  # noqa: E501


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # sent as is instead of the queue's answer


def ok() -> Reply:
    return Reply()


def error(status: int, detail: str = "", *, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps({"detail": detail or f"error {status}"}).encode()
    return Reply(status=status, headers=headers or {}, body=body)


@dataclass
class Queued:
    app_id: str
    model_id: str
    arguments: dict[str, Any]
    steps: list[dict[str, Any]]  # the statuses still to show, one per poll
    cancelled: bool = False
    completed: bool = False
    output: Any = None  # the result of a text endpoint; None: images


def png(width: int, height: int, seed: int) -> bytes:
    colour = (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256)
    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, "PNG")
    return buf.getvalue()


def app_id(model_id: str) -> str:
    """What the queue keeps of a model id in its URLs: the owner and the app."""
    return "/".join(model_id.strip("/").split("/")[:2])


class FakeFalQueueServer(ScriptedServer):
    """`with FakeFalQueueServer() as server:`; `server.url` is FAL_QUEUE_URL."""

    requests: list[RecordedRequest]
    _replies: list[Reply]  # to submits

    def __init__(self) -> None:
        super().__init__(ok())
        self.queued: dict[str, Queued] = {}
        self.queue_positions: list[int] = [2, 1, 0]
        self.running_polls = 1
        self.finish = True
        self.nsfw: list[bool] | None = None  # has_nsfw_concepts per image; default all False
        # Results of text endpoints (vision LLMs), one per submit (the last repeats); none: images.
        self.outputs: list[Any] = []
        self._polls: list[Reply] = [ok()]
        self._files: dict[str, bytes] = {}

    def script(self, *replies: Reply) -> None:
        """Replies to submits, in order; ok() means "queue it"."""
        super().script(*replies)

    def script_polls(self, *replies: Reply) -> None:
        """Replies to status polls, in order; ok() means "the next status"."""
        with self._lock:
            self._polls = list(replies)

    def _submit(self, model_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        steps = [{"status": "IN_QUEUE", "queue_position": p} for p in self.queue_positions]
        steps += [{"status": "IN_PROGRESS", "logs": []}] * self.running_polls
        output = self._next(self.outputs) if self.outputs else None
        queued = Queued(app_id(model_id), model_id, arguments, steps, output=output)
        self.queued[request_id] = queued
        base = f"{self.url}/{app_id(model_id)}/requests/{request_id}"
        return {
            "status": "IN_QUEUE",
            "request_id": request_id,
            "response_url": base,
            "status_url": base + "/status",
            "cancel_url": base + "/cancel",
            "queue_position": self.queue_positions[0] if self.queue_positions else 0,
        }

    def _status(self, queued: Queued) -> dict[str, Any]:
        if queued.completed or queued.cancelled or (queued.steps == [] and self.finish):
            queued.completed = True
            answer: dict[str, Any] = {"status": "COMPLETED", "logs": []}
            if queued.cancelled:
                answer["error"] = "Request was cancelled"
            return answer
        if len(queued.steps) > 1 or (queued.steps and self.finish):
            return queued.steps.pop(0)
        return queued.steps[0] if queued.steps else {"status": "IN_PROGRESS", "logs": []}

    def _result(self, queued: Queued) -> Any:
        if queued.output is not None:
            return queued.output
        args = queued.arguments
        size = args.get("image_size", "landscape_4_3")
        width, height = PRESETS[size] if isinstance(size, str) else (size["width"], size["height"])
        seed = args.get("seed", 42)
        images = []
        for index in range(int(args.get("num_images", 1))):
            name = f"/files/{uuid.uuid4().hex}.png"
            self._files[name] = png(width, height, seed + index)
            images.append({"url": self.url + name, "width": width, "height": height,
                           "content_type": "image/png"})  # fmt: skip
        nsfw = self.nsfw if self.nsfw is not None else [False] * len(images)
        return {"images": images, "seed": seed, "has_nsfw_concepts": nsfw,
                "prompt": args.get("prompt"), "timings": {"inference": 0.01}}  # fmt: skip

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(LoopbackHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.requests.append(self._record(None))
                if self.path.startswith("/files/"):
                    self._file()
                    return
                queued, tail = self._queued()
                if queued is None or tail == "/cancel":
                    return
                if tail == "/status":
                    reply = server._next(server._polls)
                    if reply.body is not None:
                        self._send(reply.status, reply.body, headers=reply.headers)
                        return
                    self._json(200, server._status(queued))
                elif not queued.completed:
                    self._json(400, {"detail": "Request is still in progress"})
                elif queued.cancelled:
                    self._json(400, {"detail": "Request was cancelled"})
                else:
                    self._json(200, server._result(queued))

            def do_PUT(self) -> None:  # noqa: N802
                server.requests.append(self._record(None))
                queued, tail = self._queued()
                if queued is None:
                    return
                if tail != "/cancel":
                    self._json(405, {"detail": "Method not allowed"})
                elif queued.completed:
                    self._json(400, {"status": "ALREADY_COMPLETED"})
                else:
                    queued.cancelled = queued.completed = True
                    self._json(202, {"status": "CANCELLATION_REQUESTED"})

            def do_POST(self) -> None:  # noqa: N802
                body = self._read_json(keep_text=False)
                server.requests.append(self._record(body))
                if not self._authorised():
                    return
                reply = server._next(server._replies)
                if reply.body is not None:
                    self._send(reply.status, reply.body, headers=reply.headers)
                    return
                if not isinstance(body, dict) or not body.get("prompt"):
                    self._json(422, {"detail": [{"loc": ["body", "prompt"],
                                                 "msg": "field required"}]})  # fmt: skip
                    return
                self._json(200, server._submit(self.path, body))

            def _queued(self) -> tuple[Queued | None, str]:
                if not self._authorised():
                    return None, ""
                match = _REQUEST_PATH.match(self.path.split("?")[0])
                queued = server.queued.get(match["id"]) if match else None
                if match is None or queued is None or queued.app_id != match["app"]:
                    self._json(404, {"detail": "Not Found"})
                    return None, ""
                return queued, match["tail"] or ""

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") == f"Key {KEY}":
                    return True
                self._json(401, {"detail": "Invalid Key"})
                return False

            def _file(self) -> None:
                data = server._files.get(self.path)
                if data is None:
                    self._send(404, b"not found", "text/plain")
                elif not self.headers.get("User-Agent"):
                    self._send(403, b"forbidden", "text/plain")
                else:
                    self._send(200, data, "image/png")

        return Handler


def serve() -> Iterator[FakeFalQueueServer]:
    """Generator for a pytest fixture: `yield from serve()`."""
    with FakeFalQueueServer() as server:
        yield server

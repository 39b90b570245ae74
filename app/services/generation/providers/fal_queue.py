"""Fal.ai's queue: submit a request, follow it, fetch its result, or cancel it.

    POST {FAL_QUEUE_URL}/{model_id}   Authorization: Key {FAL_KEY}   {input...}
    -> {"request_id", "status_url", "response_url", "cancel_url", "queue_position"?}
    GET  status_url    -> {"status": "IN_QUEUE", "queue_position": 2} | "IN_PROGRESS" | "COMPLETED"
    GET  response_url  -> the model's output
    PUT  cancel_url    -> 202 {"status": "CANCELLATION_REQUESTED"} | 400 "ALREADY_COMPLETED"

Only the URLs returned at submit are used: the queue drops the model id's last path part
from them (`fal-ai/flux/dev` -> `.../fal-ai/flux/requests/{id}/status`), so URLs rebuilt from
the model id would point nowhere. A `QueuedRequest` is plain data: a job can store it, and
any process can poll or cancel it later. Image models, the analyzer's Fal vision models and
LoRA training all go through this one client.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from app.services.analyzer.providers.openai_chat import DEFAULT_RETRY, RetryPolicy
from app.services.core.errors import (
    InvalidOutputError,
    MissingKeyError,
    ProviderError,
    ProviderTimeoutError,
)
from app.services.core.http import shared_client
from app.services.generation.providers.base import report
from app.services.generation.providers.transport import Endpoint, request_json
from app.services.generation.types import Progress, ProgressCallback
from app.settings import Settings

LABEL = "Fal.ai"
KEY_ENV_VAR = "FAL_KEY"
# Each queue call answers at once; the wait for the model is spent polling.
TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=30.0, pool=10.0)
MISSING_KEY = f"Set {KEY_ENV_VAR} to use Fal.ai models, or pick another model."


@dataclass(frozen=True)
class QueuedRequest:
    model_id: str
    request_id: str
    status_url: str
    response_url: str
    cancel_url: str


class FalQueue:
    """One Fal account's queue. Without a `client`, the running loop's shared one is used."""

    def __init__(
        self,
        *,
        settings: Settings,
        retry: RetryPolicy = DEFAULT_RETRY,
        timeout: httpx.Timeout = TIMEOUT,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._settings = settings
        self._retry = retry
        self._timeout = timeout
        self._client = client

    def api_key(self) -> str | None:
        secret = self._settings.fal_key
        value = secret.get_secret_value().strip() if secret is not None else ""
        return value or None

    async def submit(
        self, model_id: str, arguments: dict[str, Any], *, webhook_url: str | None = None
    ) -> QueuedRequest:
        """Queue a request. With `webhook_url`, Fal also POSTs the outcome there, signed."""
        url = f"{self._settings.fal_queue_url.rstrip('/')}/{model_id.strip('/')}"
        if webhook_url:
            url += "?" + urlencode({"fal_webhook": webhook_url})
        answer = await self._call("POST", url, model_id, body=arguments)
        fields = {}
        for name in ("request_id", "status_url", "response_url", "cancel_url"):
            value = answer.get(name) if isinstance(answer, dict) else None
            if not isinstance(value, str) or not value:
                raise InvalidOutputError(f"{LABEL} accepted the request but sent no {name}.")
            fields[name] = value
        return QueuedRequest(model_id=model_id, **fields)

    async def status(self, queued: QueuedRequest) -> dict[str, Any]:
        answer = await self._call("GET", queued.status_url, queued.model_id)
        if not isinstance(answer, dict) or not isinstance(answer.get("status"), str):
            raise InvalidOutputError(f"{LABEL} sent a status we cannot read.")
        return answer

    async def wait(
        self,
        queued: QueuedRequest,
        *,
        on_progress: ProgressCallback | None = None,
        deadline: float | None = None,
    ) -> None:
        """Poll until the request completes, reporting each change of place or stage. Past
        `deadline` (a `time.monotonic()` value) the request is cancelled at Fal."""
        last: Progress | None = None
        while True:
            answer = await self.status(queued)
            stage = answer["status"]
            if stage == "COMPLETED":
                if answer.get("error"):
                    raise ProviderError(
                        f"{LABEL} could not finish the request: {str(answer['error'])[:200]}"
                    )
                return
            position = answer.get("queue_position")
            progress = Progress(
                "queued" if stage == "IN_QUEUE" else "running",
                position=position if isinstance(position, int) and stage == "IN_QUEUE" else None,
                request_id=queued.request_id,
            )
            if progress != last:
                await report(on_progress, progress)
                last = progress
            if deadline is not None and time.monotonic() >= deadline:
                await self.cancel(queued)
                raise ProviderTimeoutError(
                    f"{LABEL} did not finish within "
                    f"{self._settings.generation_timeout_seconds:g} seconds, so the request "
                    "was cancelled. Try again, or pick a faster model."
                )
            await asyncio.sleep(self._settings.fal_poll_interval_seconds)

    async def result(self, queued: QueuedRequest) -> Any:
        return await self._call("GET", queued.response_url, queued.model_id)

    async def cancel(self, queued: QueuedRequest) -> bool:
        """Ask Fal to drop the request; False when it had already finished."""
        answer = await self._call(
            "PUT", queued.cancel_url, queued.model_id, ok_statuses=frozenset({200, 202, 400})
        )
        return isinstance(answer, dict) and answer.get("status") == "CANCELLATION_REQUESTED"

    async def run(
        self,
        model_id: str,
        arguments: dict[str, Any],
        *,
        on_progress: ProgressCallback | None = None,
    ) -> tuple[QueuedRequest, Any]:
        """Submit, wait and fetch. If the caller is cancelled meanwhile, so is the request."""
        deadline = time.monotonic() + self._settings.generation_timeout_seconds
        queued = await self.submit(model_id, arguments)
        await report(on_progress, Progress("queued", request_id=queued.request_id))
        try:
            await self.wait(queued, on_progress=on_progress, deadline=deadline)
        except asyncio.CancelledError:
            # Not paying for images nobody waits for; the cancel itself must not be cut short.
            await asyncio.shield(self.cancel(queued))
            raise
        except ProviderTimeoutError:
            raise  # wait() cancelled it at Fal already
        except ProviderError:
            # Polling failed (after its retries): stop the run at Fal too, if Fal still
            # answers, so nobody pays for images we can no longer collect.
            with contextlib.suppress(ProviderError):
                await self.cancel(queued)
            raise
        output = await self.result(queued)
        await report(on_progress, Progress("done", request_id=queued.request_id))
        return queued, output

    async def _call(
        self,
        method: str,
        url: str,
        model_id: str,
        *,
        body: Any = None,
        ok_statuses: frozenset[int] = frozenset({200, 201, 202}),
    ) -> Any:
        api_key = self.api_key()
        if api_key is None:
            raise MissingKeyError(MISSING_KEY)
        http = self._client if self._client is not None else await shared_client()
        return await request_json(
            http,
            method,
            url,
            endpoint=Endpoint(LABEL, model_id, api_key, KEY_ENV_VAR),
            headers={"Authorization": f"Key {api_key}", "Accept": "application/json"},
            body=body,
            timeout=self._timeout,
            retry=self._retry,
            ok_statuses=ok_statuses,
        )

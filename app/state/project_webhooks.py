"""`/projects/[project_id]/webhooks`: endpoints, their delivery logs, and what a person does
with them (add, enable or disable, delete, rotate the secret, send a test event, replay).

Sending happens on the job queue; while a delivery is pending, a background event reads the
page's data again every POLL_SECONDS so results (and retries) appear without a reload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import reflex as rx

from app import routes
from app.services.uploads.ownership import get_owned_project
from app.services.webhooks import deliveries, endpoints
from app.services.webhooks.outbox import EVENTS
from app.state.base import as_signed_in, run_service, user_message
from app.state.session import SessionState
from app.state.webhook_rows import EndpointRow, project_page

POLL_SECONDS = 1.5
MAX_POLL_SECONDS = 600  # a forgotten tab stops asking after this


def _page(token: str, project_id: int) -> dict[str, Any]:
    return as_signed_in(token, lambda s, u: project_page(s, u, project_id))


def _act(token: str, project_id: int, action: Callable[[Any], Any]) -> Any:
    """Run `action(session)` once the signed-in person is known to own the project."""

    def run(session: Any, user: Any) -> Any:
        get_owned_project(session, owner=user, project_id=project_id)
        return action(session)

    return as_signed_in(token, run)


class ProjectWebhooksState(SessionState):
    project_id: int = 0
    project_name: str = ""
    endpoints: list[EndpointRow] = []
    notices: list[str] = []
    loaded: bool = False
    found: bool = False  # the project exists and is the person's
    new_url: str = ""
    new_events: list[str] = list(EVENTS)
    form_error: str = ""
    shown_secret: str = ""  # a new secret, shown once until dismissed
    _pending: bool = False
    _poller: int = 0

    @rx.event
    async def load_webhooks(self):  # type: ignore[no-untyped-def]
        await self._refresh()
        raw = str(self.router.page.params.get("project_id", ""))
        if not self.user_id:
            return rx.redirect(routes.login_url(self.router.url.path or routes.PROJECTS))
        self.project_id = int(raw) if raw.isdigit() and len(raw) < 10 else 0
        self.shown_secret, self.form_error, self.loaded = "", "", False
        return await self._reload()

    async def _reload(self):  # type: ignore[no-untyped-def]
        try:
            data = await run_service(_page, self.token, self.project_id)
        except Exception as e:  # not theirs, or gone: the page says so
            self.endpoints, self.notices, self.project_name = [], [], ""
            self.loaded, self.found = True, False
            return rx.toast.error(user_message(e))
        self.project_name, self.endpoints = data["name"], data["endpoints"]
        self.notices, self._pending = data["notices"], data["pending"]
        self.loaded = self.found = True
        return ProjectWebhooksState.watch if self._pending else None

    @rx.event(background=True)
    async def watch(self):  # type: ignore[no-untyped-def]
        async with self:
            self._poller += 1
            me, token, project_id = self._poller, self.token, self.project_id
        for _ in range(int(MAX_POLL_SECONDS / POLL_SECONDS)):
            await asyncio.sleep(POLL_SECONDS)
            async with self:
                page = routes.project_url(project_id, "webhooks")
                here = self.router.url.path.rstrip("/") == page
                if self._poller != me or not here or not self._pending:
                    return
            try:
                data = await run_service(_page, token, project_id)
            except Exception as e:
                yield rx.toast.error(user_message(e))
                return
            async with self:
                if self._poller != me:
                    return
                self.endpoints, self.notices = data["endpoints"], data["notices"]
                self._pending = data["pending"]

    async def _do(self, action: Callable[[Any], Any], done: str):  # type: ignore[no-untyped-def]
        try:
            result = await run_service(_act, self.token, self.project_id, action)
        except Exception as e:
            return [rx.toast.error(user_message(e))], None
        follow = await self._reload()
        return [rx.toast.success(done), *([follow] if follow is not None else [])], result

    @rx.event
    def set_new_url(self, value: str) -> None:
        self.new_url = value[:2000]

    @rx.event
    def toggle_event(self, event: str, checked: bool) -> None:
        chosen = set(self.new_events) - {event} | ({event} if checked else set())
        self.new_events = [e for e in EVENTS if e in chosen]

    @rx.event
    async def add_endpoint(self, _form: dict[str, Any]):  # type: ignore[no-untyped-def]
        url, events = self.new_url.strip(), list(self.new_events)
        try:
            new = await run_service(
                _act,
                self.token,
                self.project_id,
                lambda s: endpoints.create_endpoint(
                    s, project_id=self.project_id, url=url, events=events
                ),
            )
        except Exception as e:  # the form keeps what was typed and says what to fix
            self.form_error = user_message(e)
            return None
        self.form_error, self.new_url, self.shown_secret = "", "", new.secret
        return await self._reload()

    @rx.event
    async def delete_endpoint(self, endpoint_id: int):  # type: ignore[no-untyped-def]
        pid = self.project_id
        toast, _ = await self._do(
            lambda s: endpoints.delete_endpoint(s, project_id=pid, endpoint_id=int(endpoint_id)),
            "Endpoint deleted.",
        )
        return toast

    @rx.event
    async def set_enabled(self, endpoint_id: int, enabled: bool):  # type: ignore[no-untyped-def]
        pid, on = self.project_id, bool(enabled)
        toast, _ = await self._do(
            lambda s: endpoints.set_enabled(
                s, project_id=pid, endpoint_id=int(endpoint_id), enabled=on
            ),
            "Endpoint enabled." if on else "Endpoint disabled.",
        )
        return toast

    @rx.event
    async def rotate_secret(self, endpoint_id: int):  # type: ignore[no-untyped-def]
        pid = self.project_id
        toast, secret = await self._do(
            lambda s: endpoints.rotate_secret(s, project_id=pid, endpoint_id=int(endpoint_id)),
            "New secret made; the old one also signs for 24 hours.",
        )
        if secret:
            self.shown_secret = secret
        return toast

    @rx.event
    def dismiss_secret(self) -> None:
        self.shown_secret = ""

    @rx.event
    async def send_test(self, endpoint_id: int):  # type: ignore[no-untyped-def]
        pid = self.project_id
        toast, _ = await self._do(
            lambda s: deliveries.send_test_event(s, project_id=pid, endpoint_id=int(endpoint_id)),
            "Test event queued.",
        )
        return toast

    @rx.event
    async def replay(self, delivery_id: str):  # type: ignore[no-untyped-def]
        pid = self.project_id
        toast, _ = await self._do(
            lambda s: deliveries.replay_delivery(s, delivery_id=str(delivery_id), project_id=pid),
            "Replay queued.",
        )
        return toast

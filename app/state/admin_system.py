"""`/admin/system` overview: health, queue, workers, failing webhooks and provider error rates,
refreshed every few seconds while the page is open. Admins only: every service refuses others.
Errors and the email outbox live in AdminSystemLogState (app/state/admin_system_logs.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from app import routes
from app.services.accounts.auth import user_for_token
from app.services.core.db import session_scope
from app.services.core.health import check_health
from app.services.core.models import utcnow
from app.services.ops import provider_rates, webhook_failures, workers
from app.services.ops.access import require_admin
from app.services.ops.queue_status import queue_status
from app.state import admin_system_views as views
from app.state.admin_system_logs import AdminSystemLogState
from app.state.base import run_service, user_message
from app.state.session import SessionState

POLL_SECONDS = 10
MAX_POLL_SECONDS = 30 * 60  # a tab left open all night stops asking after half an hour


def _overview(token: str) -> dict[str, Any]:
    now = utcnow()
    with session_scope() as session:
        admin = require_admin(user_for_token(session, token))
        found: dict[str, Any] = {
            "workers": [
                views.worker(w, now) for w in workers.list_workers(session, actor=admin, now=now)
            ],
            "webhooks": [
                views.webhook(f, now)
                for f in webhook_failures.failing_endpoints(session, actor=admin)
            ],
            "providers": views.providers(
                provider_rates.provider_rates(session, actor=admin, now=now)
            ),
        }
    try:
        status = queue_status(actor=admin)
    except Exception:  # the queue's storage is down: the health badge says so
        status = None
    found["queue"] = views.queue(status, now)
    found["health"] = views.health(check_health().checks)
    found["checked"] = views.when(now)
    return found


class AdminSystemState(SessionState):
    health: list[dict[str, str]] = []
    queue: dict[str, str] = {}
    workers: list[dict[str, Any]] = []
    webhooks: list[dict[str, Any]] = []
    providers: list[dict[str, Any]] = []
    error_kinds: list[dict[str, str]] = []
    chart: list[dict[str, Any]] = []
    series: list[dict[str, str]] = []
    checked: str = ""
    loaded: bool = False
    # One poller per tab: each run takes the next number and stops once a newer one exists.
    _poller: int = 0

    @rx.event
    async def load_system(self):  # type: ignore[no-untyped-def]
        redirect = await self.require_user()
        if redirect is not None:
            return redirect
        try:
            self._apply(await run_service(_overview, self.token))
        except Exception as e:  # non-admins land here: the service refused them
            return [rx.redirect(routes.HOME), rx.toast.error(user_message(e))]
        return [AdminSystemLogState.load_logs, AdminSystemState.poll_system]

    @rx.event
    async def refresh(self):  # type: ignore[no-untyped-def]
        try:
            self._apply(await run_service(_overview, self.token))
        except Exception as e:  # signed out meanwhile, or the database is down
            return rx.toast.error(user_message(e))
        return AdminSystemLogState.load_logs

    def _apply(self, found: dict[str, Any]) -> None:
        self.health, self.queue = found["health"], found["queue"]
        self.workers, self.webhooks = found["workers"], found["webhooks"]
        self.providers = found["providers"]["rows"]
        self.error_kinds = found["providers"]["kinds"]
        self.chart, self.series = found["providers"]["chart"], found["providers"]["series"]
        self.checked, self.loaded = found["checked"], True

    @rx.event(background=True)
    async def poll_system(self):  # type: ignore[no-untyped-def]
        async with self:
            self._poller += 1
            me, token = self._poller, self.token
        for _ in range(MAX_POLL_SECONDS // POLL_SECONDS):
            await asyncio.sleep(POLL_SECONDS)
            async with self:
                here = self.router.url.path.rstrip("/") == routes.ADMIN_SYSTEM
                superseded = self._poller != me
            if not here or superseded:
                return
            try:
                found = await run_service(_overview, token)
            except Exception:  # signed out or the database is down: the next load says why
                return
            async with self:
                self._apply(found)

"""The secret keys on a project's overview: list, create, regenerate (with a grace period for the
old key), revoke. A new key is shown once, in `shown_key`, until the person closes the box."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from app.services.accounts.api_keys import SCOPES
from app.services.core.models import utcnow
from app.services.uploads import keys
from app.state.base import as_signed_in, run_service, user_message
from app.state.project_overview import ProjectState

GRACE_CHOICES = [
    ("none", "Revoke the old key now"),
    ("1h", "Keep it working for 1 hour"),
    ("24h", "Keep it working for 24 hours"),
    ("7d", "Keep it working for 7 days"),
]


def remaining(end: datetime, now: datetime) -> str:
    """ "3 days", "5 hours", "12 minutes": how long a grace period has left, rounded down."""
    seconds = max(0, int((end - now).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return "less than a minute"


def key_row(view: keys.KeyView) -> dict[str, Any]:
    now = utcnow()
    if view.revoked_at is not None:
        status, color = "Revoked", "gray"
    elif view.expires_at is not None and view.expires_at <= now:
        status, color = "Expired", "gray"
    elif view.expires_at is not None:
        status, color = "Expires in " + remaining(view.expires_at, now), "amber"
    else:
        status, color = "Active", "green"
    return {
        "id": view.id,
        "name": view.name or "(no name)",
        "prefix": view.prefix + "…",
        "scopes": list(view.scopes),
        "created": view.created_at.strftime("%d %b %Y"),
        "last_used": view.last_used_at.strftime("%d %b %Y, %H:%M")
        if view.last_used_at
        else "never",
        "status": status,
        "color": color,
        "live": view.live,
    }


def _list(token: str, project_id: int) -> list[dict[str, Any]]:
    return as_signed_in(
        token,
        lambda s, u: [key_row(v) for v in keys.list_keys(s, owner=u, project_id=project_id)],
    )


def _create(token: str, project_id: int, name: str, scopes: list[str]) -> str:
    return as_signed_in(
        token,
        lambda s, u: (
            keys.create_project_key(s, owner=u, project_id=project_id, name=name, scopes=scopes).key
        ),
    )


def _regenerate(token: str, project_id: int, key_id: int, grace: str) -> str:
    return as_signed_in(
        token,
        lambda s, u: (
            keys.regenerate_key(s, owner=u, project_id=project_id, key_id=key_id, grace=grace).key
        ),
    )


def _revoke(token: str, project_id: int, key_id: int) -> None:
    as_signed_in(
        token,
        lambda s, u: keys.revoke_project_key(s, owner=u, project_id=project_id, key_id=key_id),
    )


class ProjectKeysState(ProjectState):
    keys: list[dict[str, Any]] = []
    key_name: str = ""
    key_scopes: dict[str, bool] = dict.fromkeys(SCOPES, True)
    key_error: str = ""
    # The clear key, just made: shown once, dropped when the box is closed or the page left.
    shown_key: str = ""
    shown_key_name: str = ""
    target_id: int = 0  # the key a dialog is about
    target_name: str = ""
    regenerate_open: bool = False
    revoke_open: bool = False
    grace: str = "none"

    @rx.event
    async def load_keys(self):  # type: ignore[no-untyped-def]
        self.shown_key = self.shown_key_name = self.key_error = ""
        self.regenerate_open = self.revoke_open = False
        if not self.pid:
            self.keys = []
            return None
        try:
            self.keys = await run_service(_list, self.token, self.pid)
        except Exception as e:
            self.keys = []
            return rx.toast.error(user_message(e))
        return None

    @rx.event
    def set_key_name(self, value: str) -> None:
        if value[:200] != self.key_name:  # a debounced change can trail the submit
            self.key_name, self.key_error = value[:200], ""

    @rx.event
    def set_scope(self, scope: str, on: bool) -> None:
        if scope in SCOPES:
            self.key_scopes = {**self.key_scopes, scope: bool(on)}
            self.key_error = ""

    async def _reload(self) -> None:
        self.keys = await run_service(_list, self.token, self.pid)

    @rx.event
    async def submit_key(self, form_data: dict[str, Any]):  # type: ignore[no-untyped-def]
        self.key_name = str(form_data.get("key_name", self.key_name))[:200]
        scopes = [s for s in SCOPES if self.key_scopes.get(s)]
        try:
            key = await run_service(_create, self.token, self.pid, self.key_name, scopes)
        except Exception as e:  # no name, no scope: say so, keep what was typed
            self.key_error = user_message(e)
            return
        self.shown_key, self.shown_key_name = key, " ".join(self.key_name.split())
        self.key_name, self.key_scopes = "", dict.fromkeys(SCOPES, True)
        await self._reload()

    @rx.event
    def copy_key(self):  # type: ignore[no-untyped-def]
        if not self.shown_key:
            return None
        return [rx.set_clipboard(self.shown_key), rx.toast.success("Key copied.")]

    @rx.event
    def hide_key(self) -> None:
        self.shown_key = self.shown_key_name = ""

    @rx.event
    def open_regenerate(self, key_id: int, name: str) -> None:
        self.target_id, self.target_name, self.grace = int(key_id), name, "none"
        self.regenerate_open = True

    @rx.event
    def set_regenerate_open(self, value: bool) -> None:
        self.regenerate_open = value

    @rx.event
    def set_grace(self, value: str) -> None:
        self.grace = value

    @rx.event
    async def confirm_regenerate(self):  # type: ignore[no-untyped-def]
        self.regenerate_open = False
        try:
            key = await run_service(_regenerate, self.token, self.pid, self.target_id, self.grace)
        except Exception as e:
            return rx.toast.error(user_message(e))
        self.shown_key, self.shown_key_name = key, self.target_name
        await self._reload()
        return None

    @rx.event
    def open_revoke(self, key_id: int, name: str) -> None:
        self.target_id, self.target_name, self.revoke_open = int(key_id), name, True

    @rx.event
    def set_revoke_open(self, value: bool) -> None:
        self.revoke_open = value

    @rx.event
    async def confirm_revoke(self):  # type: ignore[no-untyped-def]
        self.revoke_open = False
        try:
            await run_service(_revoke, self.token, self.pid, self.target_id)
        except Exception as e:
            return rx.toast.error(user_message(e))
        await self._reload()
        return rx.toast.info(f"Revoked {self.target_name}.")

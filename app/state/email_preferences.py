"""The "Email notifications" switches on /account and the /unsubscribe page (one-click links).

Both only orchestrate: the services (notify/preferences.py) read and write the switches and
check unsubscribe tokens."""

from __future__ import annotations

import dataclasses

import reflex as rx

from app.services.core.db import session_scope
from app.services.core.models import User
from app.services.notify.preferences import (
    Preference,
    email_preferences,
    resubscribe,
    set_email_preference,
    unsubscribe,
)
from app.state.base import as_signed_in, run_service, user_message
from app.state.session import SessionState


@dataclasses.dataclass
class PreferenceRow:
    kind: str = ""
    label: str = ""
    enabled: bool = True


def _rows(preferences: list[Preference]) -> list[PreferenceRow]:
    return [PreferenceRow(kind=p.kind, label=p.label, enabled=p.enabled) for p in preferences]


def _read(token: str) -> list[PreferenceRow]:
    return as_signed_in(token, lambda _session, user: _rows(email_preferences(user)))


def _write(token: str, kind: str, enabled: bool) -> list[PreferenceRow]:
    def write(session: object, user: User) -> list[PreferenceRow]:
        return _rows(set_email_preference(session, user=user, kind=kind, enabled=enabled))  # type: ignore[arg-type]

    return as_signed_in(token, write)


class EmailPreferencesState(SessionState):
    email_rows: list[PreferenceRow] = []

    @rx.event
    async def load_email_preferences(self) -> None:
        self.email_rows = []
        if not self.token:
            return
        try:
            self.email_rows = await run_service(_read, self.token)
        except Exception:  # signed out: the page's require_user sends them to sign in
            self.email_rows = []

    @rx.event
    async def set_email_enabled(self, kind: str, enabled: bool):  # type: ignore[no-untyped-def]
        try:
            self.email_rows = await run_service(_write, self.token, str(kind), bool(enabled))
        except Exception as exc:
            return rx.toast.error(user_message(exc))
        label = next((r.label for r in self.email_rows if r.kind == kind), "")
        word = "on" if enabled else "off"
        return rx.toast.success(f"Emails when {label}: {word}.")


def _apply(token: str, enable: bool) -> Preference:
    with session_scope() as session:
        return (resubscribe if enable else unsubscribe)(session, token=token)


class UnsubscribeState(rx.State):
    unsubscribe_label: str = ""
    unsubscribe_enabled: bool = False
    unsubscribe_error: str = ""
    unsubscribe_loaded: bool = False

    def _token(self) -> str:
        return str(self.router.url.query_parameters.get("token", "") or "")

    async def _run(self, enable: bool) -> None:
        try:
            done = await run_service(_apply, self._token(), enable)
        except Exception as exc:
            self.unsubscribe_error = user_message(exc)
            self.unsubscribe_label = ""
        else:
            self.unsubscribe_error = ""
            self.unsubscribe_label = done.label
            self.unsubscribe_enabled = done.enabled
        self.unsubscribe_loaded = True

    @rx.event
    async def load_unsubscribe(self) -> None:
        self.unsubscribe_loaded = False
        await self._run(enable=False)

    @rx.event
    async def resubscribe_email(self) -> None:
        await self._run(enable=True)

    @rx.event
    async def unsubscribe_again(self) -> None:
        await self._run(enable=False)

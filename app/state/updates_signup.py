"""The landing page's "email me product updates" form: consent first, then the list."""

from __future__ import annotations

import reflex as rx

from app.services.accounts import update_subscribers
from app.services.core import rate_limits
from app.services.core.db import session_scope
from app.state.base import run_service, user_message

CONSENT_TEXT = update_subscribers.CONSENT_TEXT


def _subscribe(email: str, consent: bool) -> update_subscribers.SignupResult:
    with session_scope() as session:
        return update_subscribers.subscribe(session, email=email, consent=consent)


class UpdatesSignupState(rx.State):
    email: str = ""
    consent: bool = False  # never pre-ticked: the person ticks it themselves
    error: str = ""
    thanks: str = ""

    @rx.event
    def set_email(self, value: str) -> None:
        self.email = value[:320]

    @rx.event
    def set_consent(self, value: bool) -> None:
        self.consent = bool(value)

    @rx.event
    async def submit(self, form: dict[str, str] | None = None) -> None:
        email = str((form or {}).get("email", self.email))[:320]
        self.email, self.error, self.thanks = email, "", ""
        try:
            if self.consent:  # a refused form (no consent) costs nothing
                await rate_limits.acheck("updates_signup", ip=self.router.session.client_ip)
            result = await run_service(_subscribe, email, self.consent)
        except Exception as e:  # no consent, a bad email, too many tries: say which; keep the text
            self.error = user_message(e)
            return
        self.email, self.consent = "", False
        self.thanks = (
            f"{result.email} is on the list"
            + ("" if result.created else " already")
            + ": pending confirmation. We'll send a confirmation email once this server sends "
            "email; nothing is sent before you confirm."
        )

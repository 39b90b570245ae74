"""The notice every project page shows about webhook endpoints disabled automatically (410, or
failing for 5 days): the owner is told here, since there is no email yet."""

from __future__ import annotations

import reflex as rx

from app.services.uploads.ownership import get_owned_project
from app.services.webhooks.notices import disabled_endpoint_notices
from app.state.base import as_signed_in, run_service
from app.state.session import SessionState


def _notices(token: str, project_id: int) -> list[str]:
    def read(session: object, user: object) -> list[str]:
        get_owned_project(session, owner=user, project_id=project_id)  # type: ignore[arg-type]
        return disabled_endpoint_notices(session, project_id=project_id)  # type: ignore[arg-type]

    return as_signed_in(token, read)


class WebhookNoticeState(SessionState):
    webhook_notices: list[str] = []

    @rx.event
    async def load_webhook_notices(self) -> None:
        raw = str(self.router.page.params.get("project_id", ""))
        self.webhook_notices = []
        if not raw.isdigit() or len(raw) > 9:
            return
        try:
            self.webhook_notices = await run_service(_notices, self.token, int(raw))
        except Exception:  # signed out or not theirs: the page itself says so
            self.webhook_notices = []

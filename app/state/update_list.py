"""The admin's view of the product-update list: how many signed up, and the CSV download."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.services.accounts import update_subscribers
from app.services.accounts.auth import require_role
from app.services.core.errors import UserFacingError
from app.services.core.models import Role
from app.settings import get_settings
from app.state.base import as_signed_in, run_service
from app.state.session import SessionState


def _count(token: str) -> int:
    return as_signed_in(
        token,
        lambda s, user: (require_role(user, Role.admin), update_subscribers.count(s))[1],
    )


class UpdateListState(SessionState):
    subscriber_count: int = 0
    # The REST download (admin role checked there): a real link, so the browser saves the file.
    csv_url: str = f"{get_settings().api_url}{routes.UPDATE_SUBSCRIBERS_CSV}"

    @rx.event
    async def load_update_list(self) -> None:
        try:
            self.subscriber_count = await run_service(_count, self.token)
        except UserFacingError:  # not an admin: load_admin already sent them away
            self.subscriber_count = 0

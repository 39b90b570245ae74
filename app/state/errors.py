"""What a person sees when an event handler fails with an error nobody caught."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

from app.state.base import user_message


def show_unexpected_error(exception: Exception) -> EventSpec:
    """rx.App's backend_exception_handler: instead of Reflex's "An error occurred" (with the
    exception's text outside production), the generic message with its reference, which is
    logged and kept as an ErrorEvent like every other unexpected error of a page."""
    return rx.toast.error(user_message(exception), position="top-center")

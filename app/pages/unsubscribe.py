"""`/unsubscribe?token=...`: what an email's unsubscribe link switched off, and a way back."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.shell import page_shell
from app.state.email_preferences import UnsubscribeState as S


def _done() -> rx.Component:
    return rx.vstack(
        rx.cond(
            S.unsubscribe_enabled,
            rx.callout(
                rx.text(
                    "You will get emails again when ", rx.text.strong(S.unsubscribe_label), "."
                ),
                icon="bell",
                color_scheme="green",
                role="status",
            ),
            rx.callout(
                rx.text(
                    "You will no longer get emails when ", rx.text.strong(S.unsubscribe_label), "."
                ),
                icon="bell-off",
                role="status",
            ),
        ),
        rx.hstack(
            rx.cond(
                S.unsubscribe_enabled,
                rx.button("Unsubscribe again", on_click=S.unsubscribe_again, variant="soft"),
                rx.button("Switch these emails back on", on_click=S.resubscribe_email),
            ),
            rx.link(rx.button("Choose all your emails", variant="outline"), href=routes.ACCOUNT),
            spacing="3",
            wrap="wrap",
        ),
        spacing="4",
        width="100%",
    )


def _failed() -> rx.Component:
    return rx.vstack(
        rx.callout(S.unsubscribe_error, icon="triangle-alert", color_scheme="red", role="alert"),
        rx.link("Choose your emails on your account page", href=routes.ACCOUNT),
        spacing="3",
        width="100%",
    )


def unsubscribe_page() -> rx.Component:
    return page_shell(
        rx.card(
            rx.cond(
                S.unsubscribe_loaded,
                rx.cond(S.unsubscribe_error != "", _failed(), _done()),
                rx.hstack(rx.spinner(), rx.text("Unsubscribing…"), align="center"),
            ),
            max_width="560px",
            width="100%",
        ),
        title="Email preferences",
    )

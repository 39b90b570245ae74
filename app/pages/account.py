"""`/account`: who you are, and signing out (here or everywhere)."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.post_form import post_form
from app.components.shell import page_shell
from app.state.session import SessionState


def _row(label: str, value: rx.Var) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def account_page() -> rx.Component:
    return page_shell(
        rx.card(
            rx.vstack(
                rx.data_list.root(
                    _row("Name", SessionState.user_name),
                    _row("Email", SessionState.user_email),
                    _row("Role", rx.badge(SessionState.user_role, variant="soft")),
                ),
                rx.separator(),
                rx.hstack(
                    post_form(
                        routes.API_SIGN_OUT,
                        rx.button("Sign out", type="submit", variant="soft"),
                    ),
                    post_form(
                        routes.API_SIGN_OUT_EVERYWHERE,
                        rx.button(
                            "Sign out everywhere",
                            type="submit",
                            variant="soft",
                            color_scheme="red",
                        ),
                    ),
                    spacing="3",
                    wrap="wrap",
                ),
                spacing="4",
            ),
            max_width="560px",
            width="100%",
        ),
        title="Account",
    )

"""`/account`: who you are, and signing out (here or everywhere)."""

from __future__ import annotations

import reflex as rx

from app.components.shell import page_shell
from app.state.auth import AuthState
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
                    rx.button("Sign out", on_click=SessionState.sign_out, variant="soft"),
                    rx.button(
                        "Sign out everywhere",
                        on_click=AuthState.sign_out_everywhere,
                        variant="soft",
                        color_scheme="red",
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

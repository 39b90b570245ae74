"""Sign-in and sign-up pages."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.post_form import post_form, query_field
from app.components.shell import page_shell
from app.state.auth import AuthState


def _error_callout() -> rx.Component:
    return rx.cond(
        AuthState.error,
        rx.callout(
            AuthState.error, icon="triangle-alert", color_scheme="red", role="alert", width="100%"
        ),
    )


def _field(
    label: str, name: str, kind: str = "text", auto: str = "", hint: str = ""
) -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=name),
        rx.input(
            id=name, name=name, type=kind, auto_complete=auto, required=True, width="100%", size="3"
        ),
        *([rx.text(hint, size="1", color_scheme="gray")] if hint else []),
        spacing="1",
        width="100%",
    )


def _card(*children: rx.Component) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(*children, spacing="4", width="100%"),
            width="100%",
            max_width="420px",
            size="3",
        ),
        width="100%",
        padding_top="2em",
    )


def login_page() -> rx.Component:
    return page_shell(
        _card(
            rx.heading("Sign in", size="6", as_="h1"),
            _error_callout(),
            post_form(
                routes.API_SIGN_IN,
                rx.vstack(
                    _field("Email", "email", "email", "email"),
                    _field("Password", "password", "password", "current-password"),
                    query_field("next", AuthState.next_path),
                    rx.button("Sign in", type="submit", size="3", width="100%"),
                    spacing="3",
                    width="100%",
                ),
                width="100%",
            ),
            rx.cond(
                AuthState.google_url != "",
                rx.vstack(
                    rx.hstack(
                        rx.separator(),
                        rx.text("or", size="1", color_scheme="gray"),
                        rx.separator(),
                        align="center",
                        width="100%",
                    ),
                    rx.button(
                        "Continue with Google",
                        on_click=AuthState.start_google,
                        variant="outline",
                        size="3",
                        width="100%",
                        type="button",
                    ),
                    width="100%",
                    spacing="3",
                ),
            ),
            rx.text(
                "New to JSONCraft? ",
                rx.link("Create an account", href=routes.SIGNUP),
                size="2",
            ),
        )
    )


def signup_page() -> rx.Component:
    return page_shell(
        _card(
            rx.heading("Create your account", size="6", as_="h1"),
            _error_callout(),
            post_form(
                routes.API_SIGN_UP,
                rx.vstack(
                    _field("Name", "name", "text", "name"),
                    _field("Email", "email", "email", "email"),
                    _field(
                        "Password",
                        "password",
                        "password",
                        "new-password",
                        "At least 10 characters.",
                    ),
                    _field("Confirm password", "confirm", "password", "new-password"),
                    query_field("next", AuthState.next_path),
                    rx.button("Create account", type="submit", size="3", width="100%"),
                    spacing="3",
                    width="100%",
                ),
                width="100%",
            ),
            rx.text("Already have an account? ", rx.link("Sign in", href=routes.LOGIN), size="2"),
        )
    )

"""`/account`: who you are, which emails you get, and signing out (here or everywhere)."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.post_form import post_form
from app.components.shell import page_shell
from app.state.email_preferences import EmailPreferencesState, PreferenceRow
from app.state.session import SessionState


def _row(label: str, value: rx.Var) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def _email_switch(row: PreferenceRow) -> rx.Component:
    dom_id = "email-" + row.kind
    return rx.hstack(
        rx.switch(
            checked=row.enabled,
            on_change=lambda on: EmailPreferencesState.set_email_enabled(row.kind, on),
            id=dom_id,
        ),
        rx.el.label(rx.text("Email me when ", row.label, size="2"), html_for=dom_id),
        align="center",
        spacing="2",
    )


def _email_section() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Email notifications", size="4", as_="h2"),
            rx.text(
                "Each email also has an unsubscribe link that switches its kind off here.",
                size="2",
                color_scheme="gray",
            ),
            rx.foreach(EmailPreferencesState.email_rows, _email_switch),
            spacing="3",
        ),
        id="email",
        max_width="560px",
        width="100%",
    )


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
        _email_section(),
        title="Account",
    )

"""The secret keys card of a project's overview: the new key shown once, the create form, the
list, and the regenerate and revoke dialogs."""

from __future__ import annotations

import reflex as rx

from app.services.accounts.api_keys import SCOPES
from app.state.project_keys import GRACE_CHOICES
from app.state.project_keys import ProjectKeysState as K

SCOPE_HELP = {
    "upload": "ask for upload URLs",
    "read": "list and download uploads",
    "manage": "change the project's rules",
}


def shown_key_box() -> rx.Component:
    return rx.cond(
        K.shown_key != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key-round")),
            rx.vstack(
                rx.text(
                    rx.text.strong("Your new key “" + K.shown_key_name + "”"),
                    ": copy it now. It is shown only once; we keep only its hash.",
                    size="2",
                ),
                rx.flex(
                    rx.code(
                        K.shown_key, size="2", class_name="secret-key", aria_label="New secret key"
                    ),
                    rx.button(rx.icon("copy", size=14), "Copy", size="1", on_click=K.copy_key),
                    rx.button("Done", size="1", variant="soft", on_click=K.hide_key),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                    width="100%",
                ),
                spacing="2",
                width="100%",
                min_width="0",
            ),
            color_scheme="amber",
            width="100%",
            role="region",
            aria_label="New key",
        ),
    )


def _scope_box(scope: str) -> rx.Component:
    return rx.el.label(
        rx.flex(
            rx.checkbox(
                checked=K.key_scopes[scope],
                on_change=lambda on: K.set_scope(scope, on),
            ),
            rx.text(scope, size="2", weight="medium"),
            rx.text(
                "(" + SCOPE_HELP[scope] + ")",
                size="1",
                color_scheme="gray",
                class_name="hide-narrow",
            ),  # fmt: skip
            spacing="1",
            align="center",
        )
    )


def create_key_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.flex(
                rx.input(
                    name="key_name",
                    value=K.key_name,
                    on_change=K.set_key_name,
                    placeholder="Key name, e.g. production server",
                    aria_label="Key name",
                    max_length=120,
                    flex="1",
                    min_width="200px",
                ),
                rx.button(rx.icon("plus", size=16), "Create key", type="submit"),
                spacing="2",
                wrap="wrap",
                width="100%",
            ),
            rx.flex(
                rx.text("Scopes:", size="2"),
                *[_scope_box(s) for s in SCOPES],
                spacing="3",
                wrap="wrap",
                align="center",
            ),
            rx.cond(
                K.key_error != "",
                rx.text(K.key_error, size="2", color_scheme="red", role="alert"),
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=K.submit_key,
        reset_on_submit=False,
        width="100%",
    )


def key_item(row: rx.Var) -> rx.Component:
    return rx.box(
        rx.flex(
            rx.vstack(
                rx.flex(
                    rx.text(row["name"], weight="medium", class_name="truncate"),
                    rx.badge(row["status"], color_scheme=row["color"].to(str), variant="soft"),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.flex(
                    rx.code(row["prefix"], size="1"),
                    rx.foreach(
                        row["scopes"].to(list[str]),
                        lambda s: rx.badge(s, variant="outline", size="1"),
                    ),  # fmt: skip
                    spacing="2",
                    wrap="wrap",
                    align="center",
                ),
                rx.text(
                    "Created "
                    + row["created"].to(str)
                    + " · last used "
                    + row["last_used"].to(str),
                    size="1",
                    color_scheme="gray",
                ),
                spacing="1",
                min_width="0",
                flex="1",
            ),
            rx.cond(
                row["live"].to(bool),
                rx.flex(
                    rx.button(
                        rx.icon("refresh-cw", size=14),
                        "Regenerate",
                        size="1",
                        variant="soft",
                        on_click=K.open_regenerate(row["id"].to(int), row["name"].to(str)),
                    ),
                    rx.button(
                        rx.icon("ban", size=14),
                        "Revoke",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=K.open_revoke(row["id"].to(int), row["name"].to(str)),
                    ),
                    spacing="2",
                ),
            ),
            justify="between",
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        padding="0.75em 0",
        border_top=f"1px solid {rx.color('gray', 4)}",
        width="100%",
        role="listitem",
        aria_label=row["name"],
    )


def regenerate_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Regenerate “" + K.target_name + "”?"),
            rx.alert_dialog.description(
                "A new key with the same name and scopes is made and shown once. What happens "
                "to the old key?"
            ),
            rx.radio_group.root(
                rx.vstack(
                    *[
                        rx.el.label(
                            rx.flex(
                                rx.radio_group.item(value=value),
                                rx.text(text, size="2"),
                                spacing="2",
                            )
                        )  # fmt: skip
                        for value, text in GRACE_CHOICES
                    ],
                    spacing="2",
                ),
                value=K.grace,
                on_change=K.set_grace,
                aria_label="Old key",
                margin_top="1em",
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button("Regenerate", on_click=K.confirm_regenerate)),
                spacing="3",
                justify="end",
                margin_top="1em",
            ),
        ),
        open=K.regenerate_open,
        on_open_change=K.set_regenerate_open,
    )


def revoke_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Revoke “" + K.target_name + "”?"),
            rx.alert_dialog.description(
                "Requests with this key fail from now on. This can't be undone."
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Revoke key", color_scheme="red", on_click=K.confirm_revoke)
                ),
                spacing="3",
                justify="end",
                margin_top="1em",
            ),
        ),
        open=K.revoke_open,
        on_open_change=K.set_revoke_open,
    )


def keys_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Secret keys", size="4", as_="h2"),
            rx.text(
                "Send a key as 'Authorization: Bearer jc_...' from your server. Never put it in "
                "a browser or an app.",
                size="2",
                color_scheme="gray",
            ),
            shown_key_box(),
            create_key_form(),
            rx.cond(
                K.keys.length() == 0,
                rx.text("No keys yet: create one above.", size="2", color_scheme="gray"),
                rx.vstack(
                    rx.foreach(K.keys, key_item),
                    spacing="0",
                    width="100%",
                    role="list",
                    aria_label="Secret keys",
                ),  # fmt: skip
            ),
            regenerate_dialog(),
            revoke_dialog(),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )

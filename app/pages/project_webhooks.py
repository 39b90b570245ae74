"""`/projects/[project_id]/webhooks`: the project's webhook endpoints, each with its status
and delivery log (every attempt's status code, duration and answer), and the buttons to send
a test event, replay a delivery, rotate the secret, disable, enable, add and delete."""

from __future__ import annotations

import reflex as rx

from app.components.project_tabs import project_tabs
from app.components.shell import empty_state, page_shell
from app.services.webhooks.outbox import EVENTS
from app.state.project_webhooks import ProjectWebhooksState as S
from app.state.webhook_rows import AttemptRow, DeliveryRow, EndpointRow


def notices() -> rx.Component:
    return rx.foreach(
        S.notices,
        lambda text: rx.callout(
            text, icon="triangle-alert", color_scheme="red", role="alert", width="100%"
        ),
    )


def new_secret() -> rx.Component:
    return rx.cond(
        S.shown_secret != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key-round")),
            rx.vstack(
                rx.text(
                    "Your signing secret. Copy it now: it is shown only once.", weight="medium"
                ),
                rx.code(S.shown_secret, aria_label="Signing secret", word_break="break-all"),
                rx.button("Done", size="1", variant="soft", on_click=S.dismiss_secret),
                spacing="2",
                align="start",
            ),
            color_scheme="green",
            width="100%",
        ),
    )


def event_choice(event: str) -> rx.Component:
    return rx.el.label(
        rx.flex(
            rx.checkbox(
                checked=S.new_events.contains(event),
                on_change=lambda checked: S.toggle_event(event, checked),
            ),
            rx.text(event, size="2"),
            spacing="2",
            align="center",
        )
    )


def add_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Add an endpoint", size="4", as_="h2"),
                rx.el.label(
                    rx.text("Endpoint URL", size="2", weight="medium"), html_for="hook-url"
                ),
                rx.input(
                    id="hook-url",
                    name="url",
                    value=S.new_url,
                    on_change=S.set_new_url,
                    placeholder="https://example.com/webhooks/jsoncraft",
                    max_length=2000,
                    width="100%",
                ),
                rx.text("Events", size="2", weight="medium"),
                rx.flex(*[event_choice(e) for e in EVENTS], spacing="4", wrap="wrap"),
                rx.cond(
                    S.form_error != "",
                    rx.callout(
                        S.form_error, icon="triangle-alert", color_scheme="red", role="alert"
                    ),
                ),
                rx.button("Add endpoint", type="submit"),
                spacing="3",
                width="100%",
                align="start",
            ),
            on_submit=S.add_endpoint,
            width="100%",
        ),
        width="100%",
    )


def attempt_line(attempt: rx.Var[AttemptRow]) -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.badge(attempt.code, variant="surface", aria_label="Attempt status"),
            rx.text(attempt.duration, size="1"),
            rx.text(attempt.when, size="1", color_scheme="gray"),
            rx.text(attempt.trigger, size="1", color_scheme="gray"),
            spacing="3",
            wrap="wrap",
            align="center",
        ),
        rx.cond(attempt.error != "", rx.text(attempt.error, size="1", color_scheme="red")),
        rx.cond(
            attempt.excerpt != "",
            rx.code(
                attempt.excerpt,
                size="1",
                variant="ghost",
                white_space="pre-wrap",
                word_break="break-all",
                aria_label="Response excerpt",
            ),
        ),
        spacing="1",
        width="100%",
        class_name="webhook-attempt",
    )


def delivery_item(delivery: rx.Var[DeliveryRow]) -> rx.Component:
    return rx.box(
        rx.flex(
            rx.text(delivery.event, weight="medium", size="2"),
            rx.code(delivery.id, size="1", aria_label="webhook-id"),
            rx.badge(delivery.status, color_scheme=delivery.color, aria_label="Delivery status"),
            rx.text(delivery.attempts, size="1"),
            rx.cond(
                delivery.reason != "",
                rx.text("Failed: " + delivery.reason, size="1", color_scheme="red"),
            ),
            rx.cond(
                delivery.next_retry != "",
                rx.text("Next retry " + delivery.next_retry, size="1", color_scheme="blue"),
            ),
            rx.spacer(),
            rx.button(
                "Replay",
                size="1",
                variant="soft",
                on_click=S.replay(delivery.id),
                aria_label="Replay " + delivery.id,
            ),
            spacing="3",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        rx.vstack(rx.foreach(delivery.log, attempt_line), spacing="2", padding_top="0.5em"),
        padding="0.75em",
        border=f"1px solid {rx.color('gray', 5)}",
        border_radius="8px",
        width="100%",
        class_name="webhook-delivery",
    )


def delete_button(endpoint: rx.Var[EndpointRow]) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Delete", size="1", color_scheme="red", variant="soft")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this endpoint?"),
            rx.alert_dialog.description(
                "It stops receiving events, and its delivery log is deleted with it."
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Delete endpoint",
                        color_scheme="red",
                        on_click=S.delete_endpoint(endpoint.id),
                    )
                ),
                spacing="3",
                justify="end",
                margin_top="1em",
            ),
        ),
    )


def endpoint_card(endpoint: rx.Var[EndpointRow]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.heading(endpoint.url, size="3", as_="h2", word_break="break-all"),
                rx.badge(
                    endpoint.status, color_scheme=endpoint.color, aria_label="Endpoint status"
                ),
                spacing="3",
                align="center",
                wrap="wrap",
            ),
            rx.cond(endpoint.detail != "", rx.text(endpoint.detail, size="2", color_scheme="gray")),
            rx.text("Events: " + endpoint.events, size="2"),
            rx.flex(
                rx.button(
                    "Send test event",
                    size="1",
                    disabled=~endpoint.enabled,
                    on_click=S.send_test(endpoint.id),
                ),
                rx.button(
                    "Rotate secret", size="1", variant="soft", on_click=S.rotate_secret(endpoint.id)
                ),
                rx.cond(
                    endpoint.enabled,
                    rx.button(
                        "Disable",
                        size="1",
                        variant="soft",
                        color_scheme="gray",
                        on_click=S.set_enabled(endpoint.id, False),
                    ),
                    rx.button(
                        "Enable",
                        size="1",
                        variant="soft",
                        on_click=S.set_enabled(endpoint.id, True),
                    ),
                ),
                delete_button(endpoint),
                spacing="2",
                wrap="wrap",
            ),
            rx.heading("Delivery log", size="2", as_="h3"),
            rx.cond(
                endpoint.deliveries.length() > 0,  # type: ignore[attr-defined]
                rx.vstack(
                    rx.foreach(endpoint.deliveries, delivery_item), spacing="2", width="100%"
                ),
                rx.text("No deliveries yet.", size="2", color_scheme="gray"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        class_name="webhook-endpoint",
    )


def project_webhooks_page() -> rx.Component:
    return page_shell(
        project_tabs(S.project_id, "webhooks"),
        rx.text(
            "Each event is POSTed to your endpoints, signed per Standard Webhooks "
            "(webhook-id, webhook-timestamp, webhook-signature). Failed deliveries are retried "
            "after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h.",
            color_scheme="gray",
            size="2",
        ),
        notices(),
        new_secret(),
        rx.cond(
            S.loaded,
            rx.cond(
                S.found,
                rx.vstack(
                    rx.cond(
                        S.endpoints.length() > 0,  # type: ignore[attr-defined]
                        rx.vstack(
                            rx.foreach(S.endpoints, endpoint_card), spacing="4", width="100%"
                        ),
                        empty_state(
                            "webhook",
                            "No endpoints yet",
                            "Add a URL below to receive upload events.",
                        ),
                    ),
                    add_form(),
                    spacing="4",
                    width="100%",
                ),
                empty_state(
                    "folder-x", "Project not found", "It does not exist, or it is not yours."
                ),
            ),
            rx.spinner(),
        ),
        title=rx.cond(S.project_name != "", S.project_name + " · Webhooks", "Webhooks"),
    )

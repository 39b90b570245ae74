"""`/credits`: what you have, what you spent, where it went."""

from __future__ import annotations

import reflex as rx

from app.components.shell import empty_state, page_shell
from app.state.credits import CreditsState as C


def usage_chart() -> rx.Component:
    return rx.recharts.bar_chart(
        rx.recharts.bar(data_key="spent", fill=rx.color("violet", 9), name="Credits spent"),
        rx.recharts.x_axis(data_key="day", tick_line=False, font_size=11),
        rx.recharts.y_axis(allow_decimals=False, width=32, font_size=11),
        rx.recharts.graphing_tooltip(),
        data=C.usage,
        width="100%",
        height=220,
    )


def buy_panel() -> rx.Component:
    return rx.cond(
        C.buying_enabled,
        rx.card(
            rx.vstack(
                rx.text("Buy credits", weight="bold"),
                rx.hstack(
                    rx.foreach(
                        C.packs,
                        lambda p: rx.button(
                            "Buy " + p["label"] + " · " + p["price"],
                            on_click=C.buy(p["id"]),
                            variant="soft",
                        ),
                    ),
                    wrap="wrap",
                    spacing="2",
                ),
                rx.text(
                    "Secure checkout by Stripe. Credits arrive once the payment is confirmed.",
                    size="1",
                    color_scheme="gray",
                ),
                spacing="2",
            ),
            width="100%",
        ),
    )


def payments_table() -> rx.Component:
    return rx.cond(
        C.payments,
        rx.vstack(
            rx.heading("Billing history", size="4", as_="h2"),
            rx.table.root(
                rx.table.body(
                    rx.foreach(
                        C.payments,
                        lambda p: rx.table.row(
                            rx.table.cell(p["when"]),
                            rx.table.cell(p["credits"] + " credits"),
                            rx.table.cell(p["amount"]),
                            rx.table.cell(rx.badge(p["status"])),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            width="100%",
        ),
    )


def credits_page() -> rx.Component:
    return page_shell(
        rx.cond(
            C.low,
            rx.callout(
                "Your balance is low. Paid models stop when it reaches zero; "
                "the offline analyzer is always free.",
                icon="triangle-alert",
                color_scheme="amber",
                role="alert",
                width="100%",
            ),
        ),
        rx.grid(
            rx.card(
                rx.vstack(
                    rx.text("Balance", size="2", color_scheme="gray"),
                    rx.heading(C.balance, size="8"),
                    rx.text("credits", size="2"),
                    spacing="1",
                )
            ),
            rx.card(
                rx.vstack(
                    rx.text("Plan", size="2", color_scheme="gray"),
                    rx.heading(C.plan, size="6"),
                    rx.text(
                        rx.cond(
                            C.buying_enabled,
                            "Buy a pack below, or ask an admin.",
                            "Payments are not set up here: an admin grants credits.",
                        ),
                        size="1",
                        color_scheme="gray",
                    ),
                    spacing="1",
                )
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="4",
            width="100%",
        ),
        rx.cond(
            C.waiting_for_payment,
            rx.callout(
                "Waiting for the payment to be confirmed…",
                icon="loader",
                width="100%",
                role="status",
            ),
        ),
        buy_panel(),
        rx.card(
            rx.vstack(rx.text("Usage, last 30 days", weight="bold"), usage_chart(), width="100%"),
            width="100%",
        ),
        rx.cond(
            C.per_model,
            rx.card(
                rx.vstack(
                    rx.text("By model, last 30 days", weight="bold"),
                    rx.foreach(
                        C.per_model,
                        lambda m: rx.hstack(
                            rx.code(m["model"], size="1"),
                            rx.spacer(),
                            rx.text(m["calls"] + " calls · " + m["credits"] + " credits", size="2"),
                            width="100%",
                        ),
                    ),
                    width="100%",
                ),
                width="100%",
                aria_label="Usage by model",
            ),
        ),
        payments_table(),
        rx.hstack(
            rx.heading("History", size="4", as_="h2"),
            rx.spacer(),
            rx.button(
                rx.icon("download", size=14),
                "Usage as CSV",
                variant="soft",
                size="1",
                on_click=C.download_csv,
            ),
            width="100%",
            align="center",
        ),
        rx.cond(
            C.entries,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("When"),
                        rx.table.column_header_cell("What"),
                        rx.table.column_header_cell("Credits"),
                        rx.table.column_header_cell("Detail", class_name="hide-narrow"),
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        C.entries,
                        lambda e: rx.table.row(
                            rx.table.cell(e["when"]),
                            rx.table.cell(e["what"]),
                            rx.table.cell(rx.code(e["amount"])),
                            rx.table.cell(e["detail"], class_name="hide-narrow"),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            empty_state(
                "coins", "No credit activity yet", "Paid model calls and grants show up here."
            ),
        ),
        title="Credits",
        subtitle="Every paid call holds its cost first and refunds it if it fails.",
    )

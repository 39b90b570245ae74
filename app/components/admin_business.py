"""The admin page's business metrics: one card per figure, and generations per active account
as a chart (a distribution reads better drawn than as a mean and a median alone)."""

from __future__ import annotations

import reflex as rx

from app.components.admin_reports import TOOLTIP
from app.state.admin_business import AdminBusinessState as B


def metric_card(m: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(m["label"], size="2", color_scheme="gray"),
            rx.text(m["value"], size="6", weight="bold"),
            rx.text(m["detail"], size="1", color_scheme="gray"),
            spacing="1",
        ),
        role="group",
        aria_label=m["label"].to(str),
    )


def generations_chart() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Generation runs per active account, last 30 days", weight="bold"),
            rx.cond(
                B.active_users > 0,
                rx.recharts.bar_chart(
                    rx.recharts.bar(
                        data_key="accounts",
                        name="Accounts",
                        fill=rx.color("violet", 9),
                        is_animation_active=False,
                    ),
                    rx.recharts.cartesian_grid(
                        stroke_dasharray="3 3", vertical=False, stroke=rx.color("gray", 5)
                    ),
                    rx.recharts.x_axis(
                        data_key="runs", font_size=11, tick_line=False, stroke=rx.color("gray", 9)
                    ),
                    rx.recharts.y_axis(
                        allow_decimals=False, width=36, font_size=11, stroke=rx.color("gray", 9)
                    ),
                    rx.recharts.graphing_tooltip(**TOOLTIP),
                    data=B.histogram,
                    width="100%",
                    height=180,
                ),
                rx.text("No active accounts in the last 30 days.", size="2", color_scheme="gray"),
            ),
            width="100%",
        ),
        aria_label="Generations per active account",
    )


def business_panel() -> rx.Component:
    return rx.vstack(
        rx.heading("Business", size="4"),
        rx.grid(
            rx.foreach(B.metrics, metric_card),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"),
            spacing="3",
            width="100%",
        ),
        generations_chart(),
        spacing="3",
        width="100%",
    )

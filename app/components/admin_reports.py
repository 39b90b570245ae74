"""The admin page's reports: usage by day, revenue, top users and one account's usage."""

from __future__ import annotations

import reflex as rx

from app.state.admin_reports import AdminReportsState as R


def stacked_usage(rows: rx.Var, series: rx.Var, height: int = 240) -> rx.Component:
    """Credits per day, one stacked bar per day, a colour per model."""
    return rx.recharts.bar_chart(
        rx.foreach(
            series,
            lambda s: rx.recharts.bar(
                data_key=s["key"].to(str),
                name=s["name"].to(str),
                fill=s["color"].to(str),
                stack_id="credits",
                is_animation_active=False,
            ),
        ),
        rx.recharts.cartesian_grid(
            stroke_dasharray="3 3", vertical=False, stroke=rx.color("gray", 5)
        ),
        rx.recharts.x_axis(
            data_key="day", font_size=11, tick_line=False, stroke=rx.color("gray", 9)
        ),
        rx.recharts.y_axis(
            allow_decimals=False, width=36, font_size=11, stroke=rx.color("gray", 9)
        ),
        rx.recharts.graphing_tooltip(**TOOLTIP),
        rx.recharts.legend(wrapper_style={"fontSize": "12px"}),
        data=rows,
        width="100%",
        height=height,
    )


# Recharts draws its tooltip white on white text in dark mode unless told otherwise.
TOOLTIP = {
    "content_style": {
        "background": rx.color("gray", 2),
        "border": f"1px solid {rx.color('gray', 6)}",
        "borderRadius": "8px",
        "fontSize": "12px",
    },
    "label_style": {"color": rx.color("gray", 12)},
    "cursor": {"fill": rx.color("gray", 4)},
}


def usage_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Credits spent per model, last 30 days", weight="bold"),
            rx.cond(
                R.usage_series,
                stacked_usage(R.usage, R.usage_series),
                rx.text("No paid usage yet.", size="2", color_scheme="gray"),
            ),
            width="100%",
        ),
        aria_label="Usage per model",
    )


def revenue_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Revenue per day, last 30 days", weight="bold"),
            rx.text(R.revenue, size="2", aria_label="Revenue total"),
            rx.cond(
                R.any_revenue,
                rx.recharts.bar_chart(
                    rx.recharts.bar(
                        data_key="paid",
                        name="Paid ($)",
                        fill=rx.color("green", 9),
                        is_animation_active=False,
                    ),
                    rx.recharts.bar(
                        data_key="refunded",
                        name="Refunded ($)",
                        fill=rx.color("red", 9),
                        is_animation_active=False,
                    ),
                    rx.recharts.cartesian_grid(
                        stroke_dasharray="3 3", vertical=False, stroke=rx.color("gray", 5)
                    ),
                    rx.recharts.x_axis(
                        data_key="day", font_size=11, tick_line=False, stroke=rx.color("gray", 9)
                    ),
                    rx.recharts.y_axis(width=44, font_size=11, stroke=rx.color("gray", 9)),
                    rx.recharts.graphing_tooltip(**TOOLTIP),
                    rx.recharts.legend(wrapper_style={"fontSize": "12px"}),
                    data=R.revenue_days,
                    width="100%",
                    height=200,
                ),
                rx.text("No payments in the last 30 days.", size="2", color_scheme="gray"),
            ),
            width="100%",
        ),
        aria_label="Revenue per day",
    )


def top_users_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Top users, last 30 days", weight="bold"),
            rx.text("Pick one to chart their usage.", size="1", color_scheme="gray"),
            rx.cond(
                R.top,
                rx.vstack(
                    rx.foreach(
                        R.top,
                        lambda t: rx.button(
                            rx.text(
                                t["email"].to(str),
                                size="2",
                                flex="1",
                                min_width="0",
                                text_align="left",
                                white_space="nowrap",
                                overflow="hidden",
                                text_overflow="ellipsis",
                            ),
                            rx.code(t["credits"].to(str), size="1", flex_shrink="0"),
                            on_click=R.show_user(t["id"].to(int)),
                            variant=rx.cond(R.picked_id == t["id"].to(int), "soft", "ghost"),
                            color_scheme="gray",
                            width="100%",
                            overflow="hidden",
                            aria_label="Usage of " + t["email"].to(str),
                        ),
                    ),
                    spacing="1",
                    width="100%",
                ),
                rx.text("No paid usage yet.", size="2", color_scheme="gray"),
            ),
            width="100%",
        ),
        aria_label="Top users",
    )


def account_usage_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.form(
                rx.hstack(
                    rx.input(
                        name="email",
                        placeholder="user@example.com",
                        aria_label="Usage of account",
                        type="email",
                        required=True,
                        flex="1",
                        min_width="0",
                    ),
                    rx.button("Show usage", type="submit", variant="soft"),
                    spacing="2",
                    width="100%",
                ),
                on_submit=R.find_user,
                reset_on_submit=True,
                width="100%",
            ),
            rx.cond(
                R.picked_id,
                rx.vstack(
                    rx.hstack(
                        rx.vstack(
                            rx.text(R.picked_email, weight="bold", truncate=True),
                            rx.text(
                                R.picked_total + ", last 30 days",
                                size="1",
                                color_scheme="gray",
                                aria_label="Account total",
                            ),
                            spacing="0",
                            min_width="0",
                        ),
                        rx.spacer(),
                        rx.icon_button(
                            rx.icon("x", size=14),
                            size="1",
                            variant="ghost",
                            color_scheme="gray",
                            on_click=R.clear_user,
                            aria_label="Close account usage",
                        ),
                        width="100%",
                        align="start",
                    ),
                    rx.cond(
                        R.picked_series,
                        stacked_usage(R.picked_usage, R.picked_series),
                        rx.text(
                            "No paid usage in the last 30 days.", size="2", color_scheme="gray"
                        ),
                    ),
                    width="100%",
                ),
                rx.text(
                    "Pick someone in Top users or in the accounts below, or type an email.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            width="100%",
        ),
        aria_label="Usage of one account",
    )


def reports_panel() -> rx.Component:
    return rx.grid(
        usage_card(),
        revenue_card(),
        top_users_card(),
        account_usage_card(),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="4",
        width="100%",
    )

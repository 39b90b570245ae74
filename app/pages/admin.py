"""`/admin`: accounts and roles (admins only; the server refuses everyone else)."""

from __future__ import annotations

import reflex as rx

from app.components.shell import empty_state, page_shell
from app.state.admin import AdminState

ROLES = ["user", "editor", "admin"]


def user_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(row["email"], weight="medium"),
                rx.text(row["name"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.select.root(
                rx.select.trigger(aria_label="Role"),
                rx.select.content(*[rx.select.item(role, value=role) for role in ROLES]),
                value=row["role"].to(str),
                on_change=lambda role: AdminState.change_role(row["id"].to(int), role),
                size="1",
            )
        ),
        rx.table.cell(
            rx.cond(
                row["active"],
                rx.badge("active", color_scheme="green"),
                rx.badge("disabled", color_scheme="red"),
            )
        ),
        rx.table.cell(row["created"], class_name="hide-narrow"),
        rx.table.cell(
            rx.button(
                rx.cond(row["active"], "Disable", "Enable"),
                size="1",
                variant="soft",
                color_scheme=rx.cond(row["active"], "red", "green"),
                on_click=AdminState.toggle_active(row["id"].to(int), row["active"].to(bool)),
            )
        ),
        align="center",
    )


COLORS = ["violet", "cyan", "amber", "green", "pink", "blue"]


def credits_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.text("Grant or revoke credits", weight="bold"),
                rx.hstack(
                    rx.input(
                        name="email",
                        placeholder="user@example.com",
                        aria_label="Account email",
                        required=True,
                        width="220px",
                    ),
                    rx.input(
                        name="amount",
                        placeholder="100",
                        aria_label="Amount",
                        required=True,
                        width="90px",
                        type="number",
                        min=1,
                    ),
                    rx.input(
                        name="reason",
                        placeholder="Reason (kept in the ledger)",
                        aria_label="Reason",
                        required=True,
                        width="100%",
                    ),
                    rx.el.select(
                        rx.el.option("Grant", value="grant"),
                        rx.el.option("Revoke", value="revoke"),
                        name="direction",
                        aria_label="Direction",
                        class_name="native-select",
                    ),
                    rx.button("Apply", type="submit"),
                    spacing="2",
                    wrap="wrap",
                    align="center",
                    width="100%",
                ),
                rx.text(
                    "Ledger entries are never edited: a revoke is a new entry, "
                    "and never takes a balance below zero.",
                    size="1",
                    color_scheme="gray",
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=AdminState.adjust_credits,
            reset_on_submit=True,
        ),
        width="100%",
    )


def usage_panel() -> rx.Component:
    return rx.grid(
        rx.card(
            rx.vstack(
                rx.text("Credits spent per model, last 30 days", weight="bold"),
                rx.cond(
                    AdminState.usage,
                    rx.recharts.bar_chart(
                        rx.foreach(
                            AdminState.usage_models,
                            lambda m, i: rx.recharts.bar(
                                data_key=m,
                                stack_id="a",
                                fill=rx.match(
                                    i % 6,
                                    *[(n, rx.color(c, 9)) for n, c in enumerate(COLORS)],
                                    rx.color("gray", 9),
                                ),
                            ),
                        ),
                        rx.recharts.x_axis(data_key="day", font_size=11),
                        rx.recharts.y_axis(allow_decimals=False, width=32, font_size=11),
                        rx.recharts.graphing_tooltip(),
                        rx.recharts.legend(),
                        data=AdminState.usage,
                        width="100%",
                        height=240,
                    ),
                    rx.text("No paid usage yet.", size="2", color_scheme="gray"),
                ),
                width="100%",
            ),
            aria_label="Usage per model",
        ),
        rx.card(
            rx.vstack(
                rx.text("Revenue", weight="bold"),
                rx.text(AdminState.revenue, size="2", aria_label="Revenue"),
                rx.separator(),
                rx.text("Top users", weight="bold"),
                rx.cond(
                    AdminState.top,
                    rx.foreach(
                        AdminState.top,
                        lambda t: rx.hstack(
                            rx.text(t["email"].to(str), size="2"),
                            rx.spacer(),
                            rx.code(t["credits"].to(str)),
                            width="100%",
                        ),
                    ),
                    rx.text("No paid usage yet.", size="2", color_scheme="gray"),
                ),
                width="100%",
            ),
            aria_label="Top users",
        ),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="4",
        width="100%",
    )


def price_row(p: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(p["key"].to(str), size="1")),
        rx.table.cell(
            rx.form(
                rx.hstack(
                    rx.el.input(type="hidden", name="key", value=p["key"].to(str)),
                    rx.input(
                        name="credits",
                        default_value=p["credits"].to(str),
                        type="number",
                        min=0,
                        width="90px",
                        size="1",
                        aria_label="Price of " + p["key"].to(str),
                    ),
                    rx.button("Save", size="1", variant="soft", type="submit"),
                    spacing="1",
                ),
                on_submit=AdminState.save_price,
            )
        ),
        rx.table.cell(
            rx.cond(
                p["custom"].to(bool), rx.badge("custom"), rx.badge("default", variant="outline")
            )
        ),
    )


def money_panel() -> rx.Component:
    return rx.grid(
        rx.card(
            rx.vstack(
                rx.text("Prices (credits per call)", weight="bold"),
                rx.table.root(
                    rx.table.body(rx.foreach(AdminState.prices, price_row)), size="1", width="100%"
                ),
                width="100%",
            ),
            aria_label="Prices",
        ),
        rx.card(
            rx.vstack(
                rx.text("Payments", weight="bold"),
                rx.cond(
                    AdminState.payments,
                    rx.table.root(
                        rx.table.body(
                            rx.foreach(
                                AdminState.payments,
                                lambda p: rx.table.row(
                                    rx.table.cell(p["when"]),
                                    rx.table.cell("user " + p["user"]),
                                    rx.table.cell(p["credits"]),
                                    rx.table.cell(p["amount"]),
                                    rx.table.cell(rx.badge(p["status"])),
                                ),
                            )
                        ),
                        size="1",
                        width="100%",
                    ),
                    rx.text("No payments yet.", size="2", color_scheme="gray"),
                ),
                width="100%",
            ),
            aria_label="Payments",
        ),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="4",
        width="100%",
    )


def admin_page() -> rx.Component:
    return page_shell(
        credits_form(),
        usage_panel(),
        money_panel(),
        rx.form(
            rx.hstack(
                rx.input(
                    name="q",
                    placeholder="Search by email",
                    aria_label="Search by email",
                    width="100%",
                    max_width="360px",
                ),
                rx.button("Search", type="submit", variant="soft"),
                spacing="2",
            ),
            on_submit=AdminState.search,
            width="100%",
        ),
        rx.cond(
            AdminState.rows,
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Account"),
                            rx.table.column_header_cell("Role"),
                            rx.table.column_header_cell("Status"),
                            rx.table.column_header_cell("Joined", class_name="hide-narrow"),
                            rx.table.column_header_cell(""),
                        )
                    ),
                    rx.table.body(rx.foreach(AdminState.rows, user_row)),
                    variant="surface",
                    width="100%",
                ),
                width="100%",
                overflow_x="auto",
            ),
            empty_state("users", "No matching accounts", "Try another part of the email address."),
        ),
        title="Admin · Users",
        subtitle="Users analyze and save, editors edit shared prompts, admins manage accounts.",
    )

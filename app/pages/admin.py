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


def admin_page() -> rx.Component:
    return page_shell(
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

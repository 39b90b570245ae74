"""`/admin`: credits, usage and revenue reports, prices, payments, accounts and roles (admins
only; the server refuses everyone else)."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.admin_business import business_panel
from app.components.admin_reports import reports_panel
from app.components.shell import empty_state, page_shell
from app.components.studio_jobs import download_link
from app.state.admin import AdminState
from app.state.admin_catalogue import AdminCatalogueState as C
from app.state.admin_reports import AdminReportsState as R
from app.state.update_list import UpdateListState

ROLES = ["user", "editor", "admin"]


def user_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(row["email"], weight="medium", word_break="break-all"),
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
            ),
            class_name="hide-narrow",
        ),
        rx.table.cell(row["created"], class_name="hide-narrow"),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Usage",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=R.show_user(row["id"].to(int)),
                    aria_label="Usage of " + row["email"].to(str),
                ),
                rx.button(
                    rx.cond(row["active"], "Disable", "Enable"),
                    size="1",
                    variant="soft",
                    color_scheme=rx.cond(row["active"], "red", "green"),
                    on_click=AdminState.toggle_active(row["id"].to(int), row["active"].to(bool)),
                ),
                spacing="2",
            )
        ),
        align="center",
    )


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


def price_row(p: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(p["key"].to(str), size="1", word_break="break-all")),
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
            ),
            class_name="hide-narrow",
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


def update_list_card() -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.text("Product-update sign-ups", weight="bold"),
                rx.text(
                    UpdateListState.subscriber_count.to_string()
                    + " on the list, pending confirmation until email sending exists.",
                    size="2",
                    color_scheme="gray",
                ),
                spacing="1",
            ),
            rx.spacer(),
            download_link("Download CSV", UpdateListState.csv_url, variant="soft"),
            align="center",
            width="100%",
            wrap="wrap",
        ),
        width="100%",
        aria_label="Product-update sign-ups",
    )


def catalogue_row(m: rx.Var) -> rx.Component:
    model_id = m["id"].to(str)
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(m["name"], size="2", weight="medium"),
                rx.code(model_id, size="1", word_break="break-all"),
                rx.text(m["list_price"], size="1", color_scheme="gray"),
                spacing="1",
            )
        ),
        rx.table.cell(
            rx.cond(
                m["vision"].to(bool),
                rx.badge("images", color_scheme="violet", variant="soft"),
                rx.badge("text only", color_scheme="gray", variant="outline"),
            ),
            class_name="hide-narrow",
        ),
        rx.table.cell(
            rx.form(
                rx.hstack(
                    rx.el.input(type="hidden", name="model", value=model_id),
                    rx.input(
                        name="credits",
                        default_value=m["credits"].to(str),
                        key=model_id + "-" + m["credits"].to(str),
                        type="number",
                        min=0,
                        width="80px",
                        size="1",
                        aria_label="Credits for " + model_id,
                    ),
                    rx.button("Save", size="1", variant="soft", type="submit"),
                    rx.badge(m["price_kind"].to(str), variant="outline"),
                    spacing="1",
                    align="center",
                ),
                on_submit=C.save_model_price,
            )
        ),
        rx.table.cell(
            rx.select.root(
                rx.select.trigger(aria_label="Offer " + model_id),
                rx.select.content(
                    rx.select.item("Default", value="default"),
                    rx.select.item("Offered", value="offered"),
                    rx.select.item("Hidden", value="hidden"),
                ),
                value=m["choice"].to(str),
                on_change=lambda choice: C.choose(model_id, choice),
                size="1",
            ),
            rx.cond(
                m["offered"].to(bool),
                rx.text("in the picker", size="1", color=rx.color("green", 11)),
                rx.text("not offered", size="1", color_scheme="gray"),
            ),
        ),
        align="center",
    )


def catalogue_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("Model catalogue", weight="bold"),
                rx.spacer(),
                rx.button(
                    rx.cond(C.refreshing, rx.spinner(size="1"), rx.icon("refresh-cw", size=14)),
                    "Refresh catalogue",
                    size="2",
                    variant="soft",
                    on_click=C.refresh_catalogue,
                    # Until the page is live a click would be lost (the server never hears it).
                    disabled=C.refreshing | ~rx.State.is_hydrated,
                ),
                width="100%",
                align="center",
            ),
            rx.text(C.catalogue_summary, size="2", aria_label="Catalogue status"),
            rx.text(
                "By default the analyzer offers every listed model that takes images and has a "
                "list price, at the markup rule (rule:* rows in the price table): credits = "
                "list USD of one call × markup % × credits per USD, at least min_credits, "
                "charged on the cost OpenRouter reports. Set a price to make it flat.",
                size="1",
                color_scheme="gray",
            ),
            rx.form(
                rx.hstack(
                    rx.input(
                        name="q",
                        placeholder="Search the catalogue",
                        aria_label="Search the catalogue",
                        width="100%",
                        max_width="360px",
                        max_length=100,
                    ),
                    # Not "Search": the accounts list below has that button.
                    rx.button("Find", type="submit", variant="soft"),
                    spacing="2",
                ),
                on_submit=C.search_catalogue,
                width="100%",
            ),
            rx.cond(
                C.catalogue_rows,
                rx.box(
                    rx.table.root(
                        rx.table.body(rx.foreach(C.catalogue_rows, catalogue_row)),
                        size="1",
                        width="100%",
                    ),
                    width="100%",
                    overflow_x="auto",
                ),
                rx.text("No catalogue models to show.", size="2", color_scheme="gray"),
            ),
            width="100%",
            spacing="3",
        ),
        aria_label="Model catalogue",
        width="100%",
    )


def admin_page() -> rx.Component:
    return page_shell(
        rx.link(
            rx.hstack(
                rx.icon("activity", size=14),
                "System: health, queue, workers, errors, email outbox",
                spacing="1",
                align="center",
            ),
            href=routes.ADMIN_SYSTEM,
        ),
        credits_form(),
        business_panel(),
        reports_panel(),
        money_panel(),
        update_list_card(),
        catalogue_panel(),
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
                            rx.table.column_header_cell("Status", class_name="hide-narrow"),
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

"""`/admin/system`: health, queue, workers, provider error rates, failing webhooks, recent
errors and the email outbox (admins only; the server refuses everyone else)."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.admin_reports import TOOLTIP
from app.components.shell import page_shell
from app.state.admin_system import AdminSystemState as S
from app.state.admin_system_logs import EMAIL_FILTERS
from app.state.admin_system_logs import AdminSystemLogState as L


def section(title: str, *children: rx.Component, label: str = "") -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="4", as_="h2"), *children, spacing="3", width="100%"),
        width="100%",
        aria_label=label or title,
    )


def quiet(text: str | rx.Var) -> rx.Component:
    return rx.text(text, size="2", color_scheme="gray")


def table(headers: list[tuple[str, bool]], rows: rx.Var, row: object) -> rx.Component:
    """A table that scrolls sideways on a narrow screen; (header, hidden when narrow)."""
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h, class_name="hide-narrow" if narrow else "")
                        for h, narrow in headers
                    ]
                )
            ),
            rx.table.body(rx.foreach(rows, row)),
            size="1",
            width="100%",
        ),
        width="100%",
        overflow_x="auto",
    )


def health_card() -> rx.Component:
    return section(
        "Health",
        rx.hstack(
            rx.foreach(
                S.health,
                lambda c: rx.badge(
                    c["name"] + ": " + c["status"],
                    color_scheme=c["color"].to(str),  # type: ignore[arg-type]
                    size="2",
                    variant="soft",
                    title=c["backend"],
                ),
            ),
            spacing="2",
            wrap="wrap",
        ),
        rx.hstack(
            rx.badge("waiting: " + S.queue["waiting"], variant="outline", size="2"),
            rx.badge("scheduled: " + S.queue["scheduled"], variant="outline", size="2"),
            rx.badge("oldest: " + S.queue["oldest"], variant="outline", size="2"),
            spacing="2",
            wrap="wrap",
            aria_label="Queue",
        ),
    )


def worker_row(w: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(w["host"], overflow_wrap="anywhere")),
        rx.table.cell(
            rx.cond(
                w["stale"].to(bool),
                rx.badge("stale", color_scheme="red"),
                rx.badge("alive", color_scheme="green"),
            ),
            " ",
            w["seen"],
        ),
        rx.table.cell(w["done"]),
        rx.table.cell(w["current"], class_name="hide-narrow"),
        rx.table.cell(w["up_since"], class_name="hide-narrow"),
    )


def workers_card() -> rx.Component:
    return section(
        "Workers",
        rx.cond(
            S.workers,
            table(
                [
                    ("Worker", False),
                    ("Last heartbeat", False),
                    ("Tasks done", False),
                    ("Running", True),
                    ("Started", True),
                ],
                S.workers,
                worker_row,
            ),
            quiet(
                "No queue worker is running: jobs wait until one starts (python -m app.cli worker)."
            ),
        ),
    )


def errors_chart() -> rx.Component:
    return rx.recharts.bar_chart(
        rx.foreach(
            S.series,
            lambda s: rx.recharts.bar(
                data_key=s["key"].to(str),
                name=s["name"].to(str),
                fill=s["color"].to(str),
                stack_id="errors",
                is_animation_active=False,
            ),
        ),
        rx.recharts.cartesian_grid(
            stroke_dasharray="3 3", vertical=False, stroke=rx.color("gray", 5)
        ),
        rx.recharts.x_axis(
            data_key="at", font_size=11, tick_line=False, stroke=rx.color("gray", 9)
        ),
        rx.recharts.y_axis(
            allow_decimals=False, width=30, font_size=11, stroke=rx.color("gray", 9)
        ),
        rx.recharts.graphing_tooltip(**TOOLTIP),
        rx.recharts.legend(wrapper_style={"fontSize": "12px"}),
        data=S.chart,
        width="100%",
        height=200,
    )


def providers_card() -> rx.Component:
    return section(
        "Provider errors, last hour",
        rx.cond(
            S.providers,
            rx.vstack(
                rx.cond(
                    S.chart,
                    rx.box(errors_chart(), width="100%", aria_label="Errors per 5 minutes"),
                ),
                table(
                    [("Provider", False), ("Calls", False), ("Errors", False), ("Rate", False)],
                    S.providers,
                    lambda p: rx.table.row(
                        rx.table.cell(p["provider"]),
                        rx.table.cell(p["calls"]),
                        rx.table.cell(p["errors"]),
                        rx.table.cell(
                            rx.badge(
                                p["rate"],
                                color_scheme=rx.cond(p["bad"].to(bool), "red", "gray"),
                            )
                        ),
                    ),
                ),
                rx.cond(
                    S.error_kinds,
                    table(
                        [("Provider", False), ("Error kind", False), ("Errors", False)],
                        S.error_kinds,
                        lambda k: rx.table.row(
                            rx.table.cell(k["provider"]),
                            rx.table.cell(rx.code(k["kind"])),
                            rx.table.cell(k["count"]),
                        ),
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            quiet("No provider calls in the last hour."),
        ),
    )


def webhooks_card() -> rx.Component:
    return section(
        "Webhook endpoints failing",
        rx.cond(
            S.webhooks,
            table(
                [("Endpoint", False), ("State", False), ("Since", False), ("Last error", True)],
                S.webhooks,
                lambda w: rx.table.row(
                    rx.table.cell(
                        rx.vstack(
                            rx.text(w["url"], size="2", word_break="break-all"),
                            rx.text(w["project"], size="1", color_scheme="gray"),
                            spacing="0",
                        )
                    ),
                    rx.table.cell(
                        rx.badge(
                            w["state"],
                            color_scheme=rx.cond(w["state"] == "disabled", "red", "amber"),
                        )
                    ),
                    rx.table.cell(w["since"]),
                    rx.table.cell(
                        rx.text(w["error"], size="1", word_break="break-all"),
                        class_name="hide-narrow",
                    ),
                ),
            ),
            quiet("Every webhook endpoint is delivering."),
        ),
    )


def pager(page: rx.Var, pages: rx.Var, step: object, label: str) -> rx.Component:
    return rx.hstack(
        rx.button(
            "Newer",
            size="1",
            variant="soft",
            disabled=page <= 1,
            on_click=step(-1),  # type: ignore[operator]
            aria_label=f"Newer {label}",
        ),
        rx.text("Page ", page.to_string(), " of ", pages.to_string(), size="1"),
        rx.button(
            "Older",
            size="1",
            variant="soft",
            disabled=page >= pages,
            on_click=step(1),  # type: ignore[operator]
            aria_label=f"Older {label}",
        ),
        align="center",
        spacing="2",
    )


def error_row(e: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(e["reference"], word_break="break-all")),
        rx.table.cell(
            rx.vstack(
                rx.text(e["type"], ": ", e["message"], size="2", word_break="break-word"),
                rx.text(
                    e["source"], " · ", e["location"], " ", e["user"], size="1", color_scheme="gray"
                ),
                spacing="0",
            )
        ),
        rx.table.cell(e["when"], class_name="hide-narrow"),
    )


def errors_card() -> rx.Component:
    return section(
        "Recent errors",
        rx.form(
            rx.hstack(
                rx.input(
                    name="q",
                    placeholder="Reference or text",
                    aria_label="Search errors",
                    width="100%",
                    max_width="420px",
                    max_length=200,
                ),
                rx.button("Find", type="submit", variant="soft"),
                spacing="2",
                width="100%",
            ),
            on_submit=L.search_errors,
            width="100%",
        ),
        rx.cond(
            L.errors,
            rx.vstack(
                table(
                    [("Reference", False), ("Error", False), ("When", True)], L.errors, error_row
                ),
                rx.hstack(
                    quiet(L.error_total.to_string() + " found"),
                    rx.spacer(),
                    pager(L.error_page, L.error_pages, L.error_page_by, "errors"),
                    width="100%",
                    align="center",
                ),
                width="100%",
            ),
            rx.cond(
                L.error_query,
                quiet("No error matches that reference or text."),
                quiet("No errors recorded. Unexpected failures show here with their reference."),
            ),
        ),
    )


def email_row(m: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(m["subject"], size="2", weight="medium", word_break="break-word"),
                rx.text(m["to"], size="1", color_scheme="gray", word_break="break-all"),
                spacing="0",
            )
        ),
        rx.table.cell(rx.code(m["kind"]), class_name="hide-narrow"),
        rx.table.cell(rx.badge(m["status"])),
        rx.table.cell(m["when"], class_name="hide-narrow"),
        rx.table.cell(
            rx.button(
                "Open",
                size="1",
                variant="soft",
                on_click=L.open_email(m["id"].to(str)),
                aria_label="Open " + m["subject"].to(str),
            )
        ),
    )


def email_dialog() -> rx.Component:
    o = L.opened
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(o["subject"]),
            rx.dialog.description(
                "To ", o["to"], " · ", o["kind"], " · ", o["when"], size="2", color_scheme="gray"
            ),
            rx.vstack(
                rx.hstack(
                    rx.badge(o["status"]),
                    quiet("attempts: " + o["attempts"].to(str)),
                    rx.cond(o["sent"], quiet("sent " + o["sent"].to(str))),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.cond(o["error"], rx.callout(o["error"], color_scheme="red", size="1")),
                rx.box(
                    rx.el.pre(o["text"], style={"white_space": "pre-wrap", "margin": 0}),
                    padding="0.75em",
                    border=f"1px solid {rx.color('gray', 6)}",
                    border_radius="8px",
                    background_color=rx.color("gray", 3),
                    font_size="13px",
                    width="100%",
                    max_height="50vh",
                    overflow_y="auto",
                    aria_label="Email text",
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Close", variant="soft", on_click=L.close_email)),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                margin_top="0.75em",
                width="100%",
            ),
            max_width="640px",
        ),
        open=L.email_open,
        on_open_change=L.set_email_open,
    )


def outbox_card() -> rx.Component:
    return section(
        "Email outbox",
        rx.hstack(
            rx.el.select(
                *[rx.el.option(f.capitalize(), value=f) for f in EMAIL_FILTERS],
                value=L.email_filter,
                on_change=L.filter_emails,
                aria_label="Email status",
                class_name="native-select",
            ),
            quiet(rx.cond(L.email_total == 1, "1 email", L.email_total.to_string() + " emails")),
            spacing="2",
            align="center",
        ),
        rx.cond(
            L.emails,
            rx.vstack(
                table(
                    [
                        ("Email", False),
                        ("Kind", True),
                        ("Status", False),
                        ("Created", True),
                        ("", False),
                    ],
                    L.emails,
                    email_row,
                ),
                pager(L.email_page, L.email_pages, L.email_page_by, "emails"),
                width="100%",
            ),
            quiet("No emails here. With no SMTP_HOST, emails wait in this outbox to be read."),
        ),
        email_dialog(),
    )


def admin_system_page() -> rx.Component:
    return page_shell(
        rx.hstack(
            rx.link(
                rx.hstack(
                    rx.icon("arrow-left", size=14),
                    "Users, credits and reports",
                    spacing="1",
                    align="center",
                ),
                href=routes.ADMIN,
            ),
            rx.spacer(),
            rx.cond(S.checked, quiet("Checked " + S.checked)),
            rx.button(
                rx.icon("refresh-cw", size=14),
                "Refresh",
                size="1",
                variant="soft",
                on_click=S.refresh,
                disabled=~rx.State.is_hydrated,
            ),
            width="100%",
            align="center",
            wrap="wrap",
            spacing="3",
        ),
        health_card(),
        rx.grid(
            workers_card(),
            webhooks_card(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        providers_card(),
        errors_card(),
        outbox_card(),
        title="Admin · System",
        subtitle="Health, queue, workers, errors and email, refreshed every few seconds.",
    )

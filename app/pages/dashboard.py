"""`/dashboard`: the signed-in overview: balance, this month's usage, and the newest work."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from app import routes
from app.components.shell import empty_state, link_button, page_shell
from app.state.dashboard import DashboardState as D


def stat(label: str, value: rx.Var, note: rx.Var | str = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.text(value, size="7", weight="bold"),
            rx.text(note, size="1", color_scheme="gray"),
            spacing="1",
        ),
        width="100%",
        aria_label=label,
    )


def stats() -> rx.Component:
    return rx.grid(
        stat("Balance", D.stats["balance"], D.stats["plan"]),
        stat("Credits spent this month", D.stats["spent"]),
        stat("Analyses this month", D.stats["analyses"]),
        stat("Prompts saved", D.stats["prompts"]),
        columns=rx.breakpoints(initial="2", md="4"),
        spacing="3",
        width="100%",
    )


def recent_card(title: str, link: str, href: str, *body: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(title, size="4", as_="h2"),
                rx.spacer(),
                rx.link(link, href=href, size="2"),
                width="100%",
                align="center",
            ),
            *body,
            spacing="3",
            width="100%",
        ),
        width="100%",
        aria_label=title,
    )


def row(main: rx.Component, side: rx.Component) -> rx.Component:
    return rx.hstack(main, rx.spacer(), side, width="100%", align="center", spacing="2")


def recent_list(
    items: rx.Var, render: Callable[[rx.Var], rx.Component], empty: str
) -> rx.Component:
    """The items as rows, or one line that says what to do when there are none yet."""
    return rx.cond(
        items,
        rx.vstack(rx.foreach(items, render), spacing="2", width="100%"),
        rx.text(empty, size="2", color_scheme="gray"),
    )


def recent_analyses() -> rx.Component:
    return recent_card(
        "Recent analyses",
        "Analyze",
        routes.HOME,
        recent_list(
            D.recent_analyses,
            lambda a: row(
                rx.vstack(
                    rx.text(a["title"], size="2", weight="medium", class_name="truncate"),
                    rx.code(a["model"], size="1", variant="ghost"),
                    spacing="0",
                    min_width="0",
                ),
                rx.text(a["when"], size="1", color_scheme="gray", white_space="nowrap"),
            ),
            "No analyses yet. Drop an image on the analyzer.",
        ),
    )


def recent_prompts() -> rx.Component:
    return recent_card(
        "Recent prompts",
        "Gallery",
        routes.GALLERY,
        recent_list(
            D.recent_prompts,
            lambda p: row(
                rx.hstack(
                    rx.image(
                        src=p["image"],
                        alt="",
                        width="40px",
                        height="40px",
                        object_fit="cover",
                        border_radius="6px",
                    ),
                    rx.link(p["title"], href=p["url"], size="2", class_name="truncate"),
                    align="center",
                    spacing="2",
                    min_width="0",
                ),
                rx.text(p["when"], size="1", color_scheme="gray", white_space="nowrap"),
            ),
            "No saved prompts yet. Save one from the analyzer.",
        ),
    )


def recent_jobs() -> rx.Component:
    return recent_card(
        "Recent studio jobs",
        "Studio",
        routes.STUDIO,
        recent_list(
            D.recent_jobs,
            lambda j: row(
                rx.vstack(
                    rx.text(j["title"], size="2", weight="medium", class_name="truncate"),
                    rx.text(j["progress"] + " · " + j["when"], size="1", color_scheme="gray"),
                    spacing="0",
                    min_width="0",
                ),
                rx.badge(j["status"], variant="soft"),
            ),
            "No studio jobs yet. Batch-process images in the studio.",
        ),
    )


def dashboard_page() -> rx.Component:
    return page_shell(
        rx.cond(
            D.loaded,
            rx.vstack(
                stats(),
                rx.cond(
                    D.brand_new,
                    empty_state(
                        "sparkles",
                        "Welcome to JSONCraft",
                        "Your analyses, prompts and studio jobs will show up here. "
                        "Start by dropping an image on the analyzer: the offline one is free.",
                        link_button("Analyze an image", routes.HOME),
                    ),
                ),
                rx.grid(
                    recent_analyses(),
                    recent_prompts(),
                    recent_jobs(),
                    columns=rx.breakpoints(initial="1", md="3"),
                    spacing="4",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), width="100%", padding="4em"),
        ),
        title="Overview",
        subtitle="Your balance, this month's usage and your newest work.",
    )

"""Generation runs as cards: per-image progress, the finished images and their details.

Built from the plain rows of app/state/generate_rows.py, so any page that lists runs (the
generate page now, others later) shows them the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx
from reflex.event import EventSpec

from app.components.shell import empty_state

TILE = "168px"


def change_list(changes: rx.Var, title: str) -> rx.Component:
    """A diff as the editor's preset preview shows it: one monospace line per changed field."""
    return rx.vstack(
        rx.text(title, weight="bold", size="2"),
        rx.foreach(
            changes.to(list[str]),
            lambda c: rx.text(c, size="1", font_family="monospace", class_name="diff-line"),
        ),
        spacing="1",
        width="100%",
    )


def fidelity(image: rx.Var) -> rx.Component:
    """The round-trip score (when the worker has scored the image), its parts on expand."""
    return rx.cond(
        image["score"].to(str) != "",
        rx.el.details(
            rx.el.summary(
                rx.badge(
                    rx.icon("target", size=12),
                    "Fidelity ",
                    image["score"].to(str),
                    "/100",
                    color_scheme=image["score_color"].to(str),
                    variant="soft",
                ),
                title="How closely the image matches its JSON prompt",
                cursor="pointer",
            ),
            rx.vstack(
                rx.foreach(
                    image["parts"].to(list[dict[str, str]]),
                    lambda p: rx.text(
                        rx.text.strong(p["label"], ": ", p["score"]),
                        " · ",
                        p["explanation"],
                        size="1",
                    ),
                ),
                spacing="1",
                padding_top="0.25em",
            ),
            class_name="fidelity",
        ),
    )


def _placeholder(image: rx.Var) -> rx.Component:
    status = image["status"].to(str)
    return rx.center(
        rx.cond(
            status == "running",
            rx.spinner(size="3"),
            rx.cond(
                status == "failed",
                rx.icon("image-off", size=28, color=rx.color("gray", 9)),
                rx.icon("hourglass", size=28, color=rx.color("gray", 9)),
            ),
        ),
        width="100%",
        aspect_ratio="1",
        border_radius="8px",
        background_color=rx.color("gray", 3),
    )


def image_tile(image: rx.Var) -> rx.Component:
    done = image["status"].to(str) == "done"
    number = image["number"].to(str)
    return rx.card(
        rx.vstack(
            rx.cond(
                done & (image["thumbnail_url"].to(str) != ""),
                rx.link(
                    rx.image(
                        src=image["thumbnail_url"].to(str),
                        alt="Generated image " + number,
                        width="100%",
                        aspect_ratio="1",
                        object_fit="cover",
                        border_radius="8px",
                        loading="lazy",
                    ),
                    href=image["full_url"].to(str),
                    is_external=True,
                    aria_label="Open image " + number + " full size",
                ),
                _placeholder(image),
            ),
            rx.badge(
                image["label"].to(str),
                color_scheme=image["color"].to(str),
                variant="soft",
                aria_label="Image " + number + " status",
            ),
            rx.cond(
                done,
                rx.vstack(
                    rx.text("Seed ", image["seed"].to(str), size="1"),
                    rx.text(image["size"].to(str), " · ", image["duration"].to(str), size="1"),
                    rx.text("Cost: ", image["cost"].to(str), size="1"),
                    spacing="0",
                    color=rx.color("gray", 11),
                ),
            ),
            rx.cond(
                image["error"].to(str) != "",
                rx.text(image["error"].to(str), size="1", color_scheme="red", role="alert"),
            ),
            fidelity(image),
            rx.cond(
                image["gallery_url"].to(str) != "",
                rx.link("Open in gallery", href=image["gallery_url"].to(str), size="1"),
            ),
            spacing="2",
            width="100%",
        ),
        width=TILE,
        class_name="generated-image",
    )


def run_card(run: rx.Var, on_cancel: Callable[[rx.Var], EventSpec]) -> rx.Component:
    run_id = run["id"].to(str)
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(run["label"].to(str), color_scheme=run["color"].to(str), size="2"),
                rx.text("Run #", run_id, weight="bold"),
                rx.text(run["model"].to(str), size="2"),
                rx.text(run["created"].to(str), size="1", color_scheme="gray"),
                rx.spacer(),
                rx.cond(
                    run["can_cancel"].to(bool),
                    rx.button(
                        rx.icon("square", size=12),
                        "Cancel",
                        size="1",
                        color_scheme="red",
                        variant="soft",
                        on_click=on_cancel(run["id"]),
                        aria_label="Cancel run #" + run_id,
                    ),
                ),
                align="center",
                spacing="2",
                wrap="wrap",
                width="100%",
            ),
            rx.text(run["detail"].to(str), size="1", color_scheme="gray"),
            rx.cond(
                run["error"].to(str) != "",
                rx.text(run["error"].to(str), size="2", color_scheme="red", role="alert"),
            ),
            rx.flex(
                rx.foreach(run["images"].to(list[dict]), image_tile),
                gap="3",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="generation-run",
        aria_label="Run #" + run_id,
    )


def run_list(runs: rx.Var, on_cancel: Callable[[rx.Var], EventSpec]) -> rx.Component:
    return rx.cond(
        runs.to(list).length() > 0,  # type: ignore[attr-defined]
        rx.vstack(
            rx.foreach(runs.to(list[dict]), lambda r: run_card(r, on_cancel)),
            spacing="3",
            width="100%",
        ),
        empty_state(
            "images",
            "No runs yet",
            "Your generations appear here as they run, newest first, and stay after a reload.",
        ),
    )

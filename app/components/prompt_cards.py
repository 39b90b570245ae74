"""Render a prompt as readable cards (palette swatches, lighting, camera…) and as raw JSON."""

from __future__ import annotations

import reflex as rx


def swatch(item: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.box(
            background_color=item["hex"].to(str),
            width="44px",
            height="44px",
            border_radius="8px",
            border=f"1px solid {rx.color('gray', 6)}",
            title=item["name"].to(str),
        ),
        rx.text(item["hex"], size="1", font_family="monospace"),
        rx.text(item["pct"], size="1", color_scheme="gray"),
        spacing="1",
        align="center",
    )


def field_card(card: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon(card["icon"].to(str), size=16, color=rx.color("violet", 10)),
                rx.text(card["label"], weight="bold", size="2"),
                rx.cond(
                    card["heuristic"].to(bool),
                    rx.badge("estimate", variant="outline", color_scheme="amber", size="1"),
                ),
                align="center",
                spacing="2",
            ),
            rx.cond(
                card["swatches"].to(list).length() > 0,  # type: ignore[attr-defined]
                rx.hstack(
                    rx.foreach(card["swatches"].to(list[dict[str, str]]), swatch),
                    wrap="wrap",
                    spacing="3",
                ),
                rx.text(card["text"], size="2", white_space="pre-wrap"),
            ),
            spacing="2",
            align="start",
        ),
        class_name="field-card",
        data_field=card["key"].to(str),
        size="1",
    )


def prompt_cards(cards: rx.Var) -> rx.Component:
    return rx.grid(
        rx.foreach(cards, field_card),
        columns=rx.breakpoints(initial="1", sm="2"),
        spacing="3",
        width="100%",
    )


def json_view(text: rx.Var) -> rx.Component:
    return rx.box(
        rx.el.pre(rx.el.code(text), class_name="json-view"),
        width="100%",
        max_height="480px",
        overflow="auto",
        border_radius="8px",
        background_color=rx.color("gray", 3),
        padding="0.75em",
    )

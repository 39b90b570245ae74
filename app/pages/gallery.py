"""`/gallery`: public prompts and the viewer's own, newest first."""

from __future__ import annotations

import reflex as rx

from app.components.shell import empty_state, page_shell
from app.state.gallery import GalleryState


def prompt_card(card: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.image(
                src=card["thumbnail_url"],
                alt=card["title"],
                width="100%",
                height="180px",
                object_fit="cover",
                border_radius="8px",
                loading="lazy",
            ),
            rx.link(
                rx.heading(card["title"], size="3", as_="h3"),
                href="/prompts/" + card["id"].to(str),
                color_scheme="gray",
                high_contrast=True,
            ),
            rx.hstack(
                rx.foreach(
                    card["tags"].to(list[str]), lambda t: rx.badge(t, variant="soft", radius="full")
                ),
                spacing="1",
                wrap="wrap",
            ),
            rx.text(
                card["author"].to(str) + " · " + card["created"].to(str),
                size="1",
                color_scheme="gray",
                class_name="truncate",
            ),
            rx.code(card["model"], size="1", variant="soft"),
            spacing="2",
        ),
        class_name="prompt-card",
    )


def gallery_page() -> rx.Component:
    return page_shell(
        rx.cond(
            GalleryState.error,
            rx.callout(GalleryState.error, icon="triangle-alert", color_scheme="red", role="alert"),
        ),
        rx.cond(
            GalleryState.cards,
            rx.grid(
                rx.foreach(GalleryState.cards, prompt_card),
                columns=rx.breakpoints(initial="1", xs="2", md="3", lg="4"),
                spacing="4",
                width="100%",
            ),
            rx.cond(
                GalleryState.loading,
                rx.center(rx.spinner(size="3"), padding="3em", width="100%"),
                empty_state(
                    "images",
                    "The gallery is empty",
                    "Prompts you save, and public ones, appear here.",
                ),
            ),
        ),
        rx.cond(
            GalleryState.next_cursor,
            rx.center(
                rx.button(
                    "Load more",
                    on_click=GalleryState.load_more,
                    loading=GalleryState.loading,
                    variant="soft",
                ),
                width="100%",
            ),
        ),
        title="Gallery",
        subtitle="JSON prompts with their images: public examples and your own.",
    )

"""`/share/[token]`: the read-only view of a shared prompt."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.prompt_cards import json_view, prompt_cards
from app.components.shell import empty_state, link_button, page_shell
from app.state.share import ShareState as S


def share_page() -> rx.Component:
    return page_shell(
        rx.cond(
            S.error != "",
            empty_state(
                "link-2-off",
                "This link doesn't work",
                S.error,
                link_button("Open the gallery", routes.GALLERY),
            ),
            rx.vstack(
                rx.heading(S.title, size="7", as_="h1"),
                rx.text(
                    "Shared by ",
                    S.author,
                    " · version ",
                    S.version,
                    " · read-only",
                    color_scheme="gray",
                    size="2",
                ),
                rx.hstack(
                    rx.foreach(S.tags, lambda t: rx.badge(t, variant="soft", radius="full")),
                    wrap="wrap",
                ),
                rx.flex(
                    rx.cond(
                        S.image_url != "",
                        rx.image(
                            src=S.image_url,
                            alt=S.title,
                            border_radius="10px",
                            width=rx.breakpoints(initial="100%", md="40%"),
                        ),
                    ),
                    rx.box(prompt_cards(S.cards), width=rx.breakpoints(initial="100%", md="60%")),
                    direction=rx.breakpoints(initial="column", md="row"),
                    spacing="4",
                    width="100%",
                ),
                rx.el.details(
                    rx.el.summary("JSON"), json_view(S.json_text), class_name="reasoning"
                ),
                spacing="3",
                width="100%",
            ),
        ),
    )

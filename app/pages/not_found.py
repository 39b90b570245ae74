"""The 404 page."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.shell import empty_state, link_button, page_shell


def not_found_page() -> rx.Component:
    return page_shell(
        empty_state(
            "map-pin-off",
            "Page not found",
            "That page doesn't exist, or it moved. Try the analyzer or the gallery.",
            rx.hstack(
                link_button("Analyze an image", routes.HOME),
                link_button("Open the gallery", routes.GALLERY, variant="soft"),
                spacing="3",
            ),
        ),
    )

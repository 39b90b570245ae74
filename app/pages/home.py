"""`/`: drop images; each is validated, stored and thumbnailed, then listed."""

from __future__ import annotations

import reflex as rx

from app.components.shell import empty_state, page_shell
from app.state.uploads import MAX_FILES, UPLOAD_ID, UploadState

ACCEPT = {
    "image/jpeg": [".jpg", ".jpeg"],
    "image/png": [".png"],
    "image/webp": [".webp"],
    "image/gif": [".gif"],
}


def dropzone() -> rx.Component:
    return rx.upload(
        rx.vstack(
            rx.icon("image-up", size=36, color=rx.color("violet", 9)),
            rx.text("Drop images here, or click to choose", weight="medium", size="4"),
            rx.text("JPG, PNG, WebP or GIF, up to 500 MB each", size="2", color_scheme="gray"),
            rx.cond(
                UploadState.uploading,
                rx.hstack(rx.spinner(), rx.text("Uploading…"), align="center"),
            ),
            align="center",
            spacing="2",
        ),
        id=UPLOAD_ID,
        multiple=True,
        max_files=MAX_FILES,
        # The server checks the real content; `accept` only filters the picker.
        on_drop=UploadState.handle_upload(rx.upload_files(upload_id=UPLOAD_ID)),
        border=f"2px dashed {rx.color('violet', 7)}",
        border_radius="14px",
        padding="2.5em 1em",
        width="100%",
        cursor="pointer",
        background_color=rx.color("violet", 2),
        aria_label="Upload images",
    )


def upload_card(item: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.image(
                src=item["thumbnail_url"],
                alt=item["name"],
                width="100%",
                height="160px",
                object_fit="cover",
                border_radius="8px",
                loading="lazy",
            ),
            rx.text(item["name"], weight="medium", size="2", class_name="truncate"),
            rx.hstack(
                rx.badge(item["mime"], variant="soft"),
                rx.text(item["size"], size="1", color_scheme="gray"),
                rx.text(item["kb"], size="1", color_scheme="gray"),
                spacing="2",
                wrap="wrap",
            ),
            spacing="2",
        ),
    )


def home_page() -> rx.Component:
    return page_shell(
        dropzone(),
        rx.foreach(
            UploadState.errors,
            lambda msg: rx.callout(
                msg, icon="triangle-alert", color_scheme="red", role="alert", width="100%"
            ),
        ),
        rx.heading("Your images", size="5", as_="h2", margin_top="0.5em"),
        rx.cond(
            UploadState.uploads,
            rx.grid(
                rx.foreach(UploadState.uploads, upload_card),
                columns=rx.breakpoints(initial="1", xs="2", md="3", lg="4"),
                spacing="4",
                width="100%",
            ),
            empty_state(
                "images",
                "No images yet",
                "Drop a photo above: it is checked, stored and thumbnailed.",
            ),
        ),
        title="Analyze an image",
        subtitle="Drop a photo: it is checked, stored and thumbnailed for the analyzer.",
    )

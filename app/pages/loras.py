"""`/loras`: train a LoRA on Fal from 4-50 photos (or a zip), see its cost first, and follow
the person's LoRAs as they train."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.lora_cards import lora_card
from app.components.shell import empty_state, page_shell
from app.state.lora_form import UPLOAD_ID
from app.state.lora_form import LoraFormState as F
from app.state.loras import LorasState as L

ACCEPT = {
    "image/*": [".jpg", ".jpeg", ".png", ".webp", ".gif"],
    "application/zip": [".zip"],
    "application/x-zip-compressed": [".zip"],
}


def photo_drop() -> rx.Component:
    picked = rx.selected_files(UPLOAD_ID)
    return rx.vstack(
        rx.upload(
            rx.vstack(
                rx.icon("images", size=30, color=rx.color("violet", 9)),
                rx.text("Drop 4 to 50 photos, or one .zip, or click to choose", weight="medium"),
                rx.text(
                    "JPEG, PNG, WebP or GIF · the same subject (or style) in each",
                    size="1",
                    color_scheme="gray",
                    text_align="center",
                ),  # fmt: skip
                align="center",
                spacing="1",
            ),
            id=UPLOAD_ID,
            multiple=True,
            accept=ACCEPT,
            border=f"2px dashed {rx.color('violet', 7)}",
            border_radius="12px",
            padding="1.5em 1em",
            width="100%",
            cursor="pointer",
            background_color=rx.color("violet", 2),
            aria_label="Photos to train on",
        ),
        rx.cond(
            picked.length() > 0,  # type: ignore[attr-defined]
            rx.text(
                picked.length().to(str)  # type: ignore[attr-defined]
                + rx.cond(picked.length() == 1, " file picked", " files picked"),  # type: ignore[attr-defined]
                size="2",
                weight="medium",
                aria_label="Picked photos",
            ),
        ),
        width="100%",
        spacing="2",
    )


def _label(text: str, html_for: str) -> rx.Component:
    return rx.el.label(rx.text(text, size="2", weight="medium"), html_for=html_for)


def _kind(value: str, text: str) -> rx.Component:
    return rx.el.label(
        rx.flex(
            rx.radio_group.item(value=value), rx.text(text, size="2"), spacing="2", align="center"
        ),  # fmt: skip
    )


def settings_fields() -> rx.Component:
    return rx.flex(
        rx.vstack(
            _label("Trigger word", "lora-trigger"),
            rx.input(
                id="lora-trigger",
                value=F.trigger_word,
                on_change=F.set_trigger_word,
                placeholder="e.g. TOK or my_dog",
                max_length=40,
                width="100%",
            ),  # fmt: skip
            spacing="1",
            flex="2",
            min_width="200px",
        ),
        rx.vstack(
            _label("Steps", "lora-steps"),
            rx.input(
                id="lora-steps",
                type="number",
                min=100,
                max=5000,
                step=100,
                value=F.steps,
                on_change=F.set_steps,
                width="100%",
            ),  # fmt: skip
            spacing="1",
            flex="1",
            min_width="120px",
        ),
        rx.radio_group.root(
            rx.vstack(
                rx.text("It learns a", size="2", weight="medium"),
                rx.flex(_kind("subject", "Subject"), _kind("style", "Style"), spacing="3"),
                spacing="1",
            ),
            value=F.kind,
            on_change=F.set_kind,
            aria_label="What it learns",
            min_width="160px",
        ),
        spacing="4",
        wrap="wrap",
        width="100%",
    )


def train_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Train a LoRA", size="4", as_="h2"),
            photo_drop(),
            settings_fields(),
            rx.cond(
                F.form_error != "",
                rx.callout(
                    F.form_error,
                    icon="triangle-alert",
                    color_scheme="red",
                    role="alert",
                    width="100%",
                ),  # fmt: skip
            ),
            rx.cond(
                F.uploading,
                rx.vstack(
                    rx.text("Uploading photos… " + F.progress.to(str) + "%", size="2"),
                    rx.progress(value=F.progress, width="100%", aria_label="Upload progress"),
                    width="100%",
                    spacing="1",
                ),
            ),
            rx.hstack(
                rx.text(
                    "Costs ",
                    rx.text.strong(F.price.to(str) + " credits"),
                    " · you have ",
                    rx.link(F.credits.to(str), href=routes.CREDITS),
                    ". Charged when it is trained; refunded if it fails or you cancel.",
                    size="2",
                    aria_label="Training cost",
                ),
                rx.spacer(),
                rx.button(
                    rx.cond(F.uploading, rx.spinner(size="2"), rx.icon("sparkles", size=16)),
                    "Train",
                    size="3",
                    disabled=F.uploading | ~F.affordable,
                    on_click=[
                        F.expect_training,
                        F.train(
                            rx.upload_files(upload_id=UPLOAD_ID, on_upload_progress=F.track_upload)
                        ),
                    ],
                ),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def loras_list() -> rx.Component:
    return rx.vstack(
        rx.heading("Your LoRAs", size="5", as_="h2"),
        rx.cond(
            L.loras_loaded & (L.loras.length() == 0),
            empty_state(
                "wand-sparkles",
                "No LoRAs yet",
                "Train one on a few photos of a person, a pet, a product or a style; it "
                "appears here while it trains, usually for a few minutes.",
            ),
            rx.vstack(rx.foreach(L.loras, lora_card), spacing="3", width="100%"),
        ),
        spacing="3",
        width="100%",
    )


def loras_page() -> rx.Component:
    return page_shell(
        train_card(),
        loras_list(),
        title="LoRAs",
        subtitle="Teach FLUX a subject or a style from your photos (trained on Fal.ai).",
    )

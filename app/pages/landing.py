"""The signed-out `/`: what JSONCraft does, a live demo, features, pricing, docs, update sign-up.

Render only: LandingState runs the demo, PricingState loads what is sold, UpdatesSignupState
takes the email sign-up.
"""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.pricing import packs_grid, plans_grid, purchases_note
from app.components.prompt_cards import json_view, prompt_cards
from app.components.shell import link_button
from app.state.landing import (
    API_DOCS_URL,
    DEMO_LIMIT_MB,
    DEMO_UPLOAD_ID,
    OPENAPI_URL,
    LandingState,
)
from app.state.pricing import PricingState
from app.state.updates_signup import CONSENT_TEXT, UpdatesSignupState

FEATURES = [
    (
        "scan-search",
        "Image → JSON prompt",
        "Drop a photo and watch a schema-valid prompt fill in field by field: subjects, style, "
        "palette, lighting, composition, camera, text in the image.",
    ),
    (
        "messages-square",
        "Refine in a chat",
        "Ask for changes (make it night, 35mm film look) and see exactly which fields moved.",
    ),
    (
        "file-json",
        "Guided editor",
        "Forms for every nested field, presets, lint, diffs between versions and full history.",
    ),
    (
        "images",
        "Searchable gallery",
        "Tags, filters, favourites, share links and import/export bundles for your prompts.",
    ),
    (
        "layers",
        "Batch studio",
        "Resize, convert, compress, remove backgrounds and read text on many images at once, "
        "with the credit cost shown before you run.",
    ),
    (
        "code",
        "REST API and CLI",
        "Everything the app does, with API keys, an OpenAPI reference and a command line.",
    ),
]


def section(title: str, subtitle: str, *children: rx.Component, **props: str) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="6", as_="h2"),
        rx.text(subtitle, color_scheme="gray", size="3"),
        *children,
        spacing="4",
        width="100%",
        padding_top="2.5em",
        **props,
    )


def hero() -> rx.Component:
    return rx.vstack(
        rx.badge("Image → structured prompt", color_scheme="violet", size="2"),
        rx.heading(
            "Turn any image into a JSON prompt you can edit, version and reuse",
            size=rx.breakpoints(initial="7", md="9"),
            as_="h1",
            max_width="860px",
        ),
        rx.text(
            "JSONCraft describes a picture as structured, schema-valid JSON (subjects, style, "
            "palette, lighting, camera) so you can refine it in a chat, keep versions in a "
            "gallery, and batch-process images in the studio.",
            size="4",
            color_scheme="gray",
            max_width="760px",
        ),
        rx.hstack(
            link_button("Sign up free", routes.SIGNUP, size="3"),
            link_button("Sign in", routes.LOGIN, size="3", variant="soft"),
            link_button("Try the live demo", "#demo", size="3", variant="outline"),
            spacing="3",
            wrap="wrap",
        ),
        spacing="4",
        padding="2.5em 0 1em",
        width="100%",
    )


def demo_dropzone() -> rx.Component:
    return rx.upload(
        rx.vstack(
            rx.cond(
                LandingState.demo_running,
                rx.spinner(size="3"),
                rx.icon("image-up", size=36, color=rx.color("violet", 9)),
            ),
            rx.text(
                rx.cond(
                    LandingState.demo_running,
                    "Analyzing " + LandingState.demo_name + "…",
                    "Drop an image here, or click to choose",
                ),
                weight="medium",
                size="4",
            ),
            rx.text(
                f"JPG, PNG, WebP or GIF up to {DEMO_LIMIT_MB} MB · "
                "analysed in memory and discarded, never stored",
                size="2",
                color_scheme="gray",
                text_align="center",
            ),
            align="center",
            spacing="2",
        ),
        id=DEMO_UPLOAD_ID,
        multiple=False,
        max_files=1,
        on_drop=LandingState.handle_demo_upload(rx.upload_files(upload_id=DEMO_UPLOAD_ID)),
        border=f"2px dashed {rx.color('violet', 7)}",
        border_radius="14px",
        padding="2.5em 1em",
        width="100%",
        cursor="pointer",
        background_color=rx.color("violet", 2),
        aria_label="Upload an image to the live demo",
    )


def demo_result() -> rx.Component:
    return rx.vstack(
        rx.text(
            "The JSON prompt for " + LandingState.demo_name + " (the image itself was not kept)",
            weight="medium",
        ),
        rx.callout(
            rx.hstack(
                rx.text(
                    "Like it? Sign up free to save this prompt to your gallery, refine it in a "
                    "chat and use stronger vision models.",
                ),
                link_button("Sign up to save it", routes.SIGNUP, size="2"),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            icon="bookmark-plus",
            color_scheme="violet",
            width="100%",
        ),
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("Cards", value="cards"),
                rx.tabs.trigger("JSON", value="json"),
            ),
            rx.tabs.content(
                prompt_cards(LandingState.demo_cards), value="cards", padding_top="0.75em"
            ),
            rx.tabs.content(json_view(LandingState.demo_json), value="json", padding_top="0.75em"),
            default_value="cards",
            width="100%",
        ),
        spacing="3",
        width="100%",
        aria_label="Demo result",
    )


def demo() -> rx.Component:
    return section(
        "Try it now, no account needed",
        "The offline analyzer runs on this server: palette, light, composition, sharpness, faces, "
        "text and camera data are measured; subjects, style and mood are rule-based estimates.",
        demo_dropzone(),
        rx.cond(
            LandingState.demo_error,
            rx.callout(
                LandingState.demo_error,
                icon="triangle-alert",
                color_scheme="red",
                role="alert",
                width="100%",
            ),
        ),
        rx.cond(LandingState.demo_json != "", demo_result()),
        id="demo",
    )


def feature_card(icon: str, title: str, text: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon(icon, size=22, color=rx.color("violet", 10)),
            rx.text(title, weight="bold", size="3"),
            rx.text(text, size="2", color_scheme="gray"),
            spacing="2",
        ),
        width="100%",
    )


def featured_item(item: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.image(
                src=item["image"].to(str),
                alt=item["title"].to(str),
                width="100%",
                height="150px",
                object_fit="cover",
                border_radius="8px",
            ),
            rx.text(item["title"], weight="medium", size="2", class_name="truncate"),
            rx.hstack(
                rx.foreach(
                    item["tags"].to(list[str]),
                    lambda t: rx.badge(t, variant="soft", size="1"),
                ),
                spacing="1",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="featured-prompt",
    )


def features() -> rx.Component:
    return section(
        "What you can do with it",
        "One app for the whole round trip from picture to prompt and back.",
        rx.grid(
            *[feature_card(*f) for f in FEATURES],
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="4",
            width="100%",
        ),
        rx.cond(
            LandingState.featured,
            rx.vstack(
                rx.heading("From the demo gallery", size="4", as_="h3"),
                rx.grid(
                    rx.foreach(LandingState.featured, featured_item),
                    columns=rx.breakpoints(initial="2", md="3"),
                    spacing="3",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
        ),
        id="features",
    )


def pricing_preview() -> rx.Component:
    return section(
        "Pricing",
        "Start free. Paid models and AI operations use credits; the offline analyzer is free.",
        plans_grid(PricingState.plans, None, PricingState.purchases_enabled),
        rx.text("Or top up with a credit pack", weight="bold"),
        packs_grid(PricingState.packs, None, PricingState.purchases_enabled),
        purchases_note(PricingState.purchases_enabled),
        link_button("See full pricing", routes.PRICING, variant="soft"),
        id="pricing",
    )


def server_link(label: str, href: str) -> rx.Component:
    """A link the server answers (not a page of this app): reload_document keeps the client
    router from treating /api/... as a page."""
    return rx.button(rx.el.a(label, href=href, reload_document=True), as_child=True, variant="soft")


def docs() -> rx.Component:
    return section(
        "Docs",
        "Self-hosting, configuration and commands are in the README (Quick start, "
        "Configuration, Commands, REST API); the API reference is live on this server.",
        rx.hstack(
            server_link("REST API reference", API_DOCS_URL),
            server_link("OpenAPI schema (JSON)", OPENAPI_URL),
            spacing="3",
            wrap="wrap",
        ),
        id="docs",
    )


def updates_signup() -> rx.Component:
    S = UpdatesSignupState  # noqa: N806 (a short alias keeps the form readable)
    return section(
        "Get product updates",
        "An occasional email when something new ships. No spam, and an unsubscribe link in each.",
        rx.form(
            rx.vstack(
                rx.input(
                    name="email",
                    type="email",
                    value=S.email,
                    on_change=S.set_email,
                    placeholder="you@example.com",
                    aria_label="Email for updates",
                    max_length=320,
                    size="3",
                    width="100%",
                    max_width="420px",
                ),
                rx.hstack(
                    rx.checkbox(
                        checked=S.consent,
                        on_change=S.set_consent,
                        id="updates-consent",
                        name="consent",  # the state holds the tick; Reflex 0.11 wants a name
                        aria_label="I agree to receive update emails",
                    ),
                    rx.el.label(rx.text(CONSENT_TEXT, size="2"), html_for="updates-consent"),
                    align="start",
                    spacing="2",
                ),
                rx.button("Keep me posted", type="submit", size="3"),
                spacing="3",
                width="100%",
            ),
            on_submit=S.submit,
            reset_on_submit=False,
            width="100%",
        ),
        rx.cond(
            S.error,
            rx.callout(S.error, icon="triangle-alert", color_scheme="red", role="alert"),
        ),
        rx.cond(
            S.thanks,
            rx.callout(S.thanks, icon="mail-check", color_scheme="green", role="status"),
        ),
        rx.text(
            "We send a confirmation email before anything else once this server sends email; "
            "until then you stay listed as pending confirmation.",
            size="1",
            color_scheme="gray",
        ),
        id="updates",
    )


def landing() -> rx.Component:
    return rx.vstack(
        hero(),
        demo(),
        features(),
        pricing_preview(),
        docs(),
        updates_signup(),
        spacing="0",
        width="100%",
        class_name="landing",
    )

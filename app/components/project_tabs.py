"""The tab row on every project page: one route per tab, so each tab has its own URL."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.state.webhook_notices import WebhookNoticeState

# (label, tab path part, icon); "" is the overview at /projects/<id>.
PROJECT_TABS = (
    ("Overview", "", "layout-dashboard"),
    ("Uploads", "uploads", "upload"),
    ("Webhooks", "webhooks", "webhook"),
    ("Storage", "storage", "database"),
)


def project_tabs(project_id: rx.Var, current: str) -> rx.Component:
    """Links to the project's tabs; `current` is the tab part of this page ("" = overview)."""
    links = []
    for label, tab, icon in PROJECT_TABS:
        href = rx.Var.create(routes.PROJECT_PREFIX) + project_id.to_string()
        if tab:
            href = href + f"/{tab}"
        links.append(
            rx.link(
                rx.hstack(rx.icon(icon, size=16), rx.text(label), spacing="2", align="center"),
                href=href,
                underline="none",
                class_name="project-tab" + (" project-tab-current" if tab == current else ""),
                aria_current="page" if tab == current else None,
            )
        )
    tabs = rx.hstack(*links, spacing="4", wrap="wrap", class_name="project-tabs", role="navigation")
    if current == "webhooks":
        return tabs  # that tab lists the same notices itself, kept current as it changes
    return rx.fragment(tabs, webhook_notices())


def webhook_notices() -> rx.Component:
    """Endpoints disabled automatically (410, or failing for 5 days): the owner is told on
    every project page, since there is no email yet."""
    return rx.box(
        rx.foreach(
            WebhookNoticeState.webhook_notices,
            lambda text: rx.callout(
                text, icon="triangle-alert", color_scheme="red", role="alert", width="100%"
            ),
        ),
        on_mount=WebhookNoticeState.load_webhook_notices,
        width="100%",
    )

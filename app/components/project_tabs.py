"""The tab row on every project page: one route per tab, so each tab has its own URL."""

from __future__ import annotations

import reflex as rx

from app import routes

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
    return rx.hstack(*links, spacing="4", wrap="wrap", class_name="project-tabs", role="navigation")

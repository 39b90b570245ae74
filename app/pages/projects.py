"""`/projects`: the person's upload projects and a form to create one."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.shell import empty_state, page_shell
from app.state.projects import ProjectsState as S


def create_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("New project", size="4", as_="h2"),
                rx.el.label(
                    rx.text("Project name", size="2", weight="medium"), html_for="project-name"
                ),
                rx.flex(
                    rx.input(
                        id="project-name",
                        name="name",
                        value=S.new_name,
                        on_change=S.set_new_name,
                        placeholder="e.g. Marketing site",
                        max_length=120,
                        flex="1",
                        min_width="200px",
                    ),
                    rx.button(
                        rx.cond(S.creating, rx.spinner(size="2"), rx.icon("folder-plus", size=16)),
                        "Create project",
                        type="submit",
                        disabled=S.creating,
                    ),
                    spacing="3",
                    wrap="wrap",
                    width="100%",
                ),
                rx.cond(
                    S.create_error != "",
                    rx.callout(
                        rx.text(
                            S.create_error,
                            rx.cond(
                                S.limit_reached,
                                rx.fragment(
                                    " ",
                                    rx.link("Compare plans", href=routes.PRICING, weight="medium"),
                                ),
                            ),
                        ),
                        icon="triangle-alert",
                        color_scheme="red",
                        role="alert",
                        width="100%",
                    ),
                ),
                rx.text(
                    "Each project has its own secret keys, upload rules and webhooks.",
                    size="2",
                    color_scheme="gray",
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=S.submit_project,
            reset_on_submit=False,
            width="100%",
        ),
        width="100%",
    )


def project_card(row: rx.Var) -> rx.Component:
    return rx.link(
        rx.card(
            rx.flex(
                rx.vstack(
                    rx.heading(row["name"], size="4", as_="h3", class_name="truncate"),
                    rx.text("Created " + row["created"].to(str), size="2", color_scheme="gray"),
                    spacing="1",
                    min_width="0",
                    flex="1",
                ),
                rx.flex(
                    rx.badge(rx.icon("key-round", size=12), row["keys"], variant="soft"),
                    rx.badge(
                        rx.icon("upload", size=12),
                        row["uploads"],
                        variant="soft",
                        color_scheme="gray",
                    ),
                    spacing="2",
                    wrap="wrap",
                ),
                justify="between",
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            width="100%",
            class_name="prompt-card",
        ),
        href=row["url"],
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        width="100%",
        aria_label=row["name"],
    )


def projects_list() -> rx.Component:
    return rx.vstack(
        rx.heading("Your projects", size="5", as_="h2"),
        rx.cond(
            S.projects_loaded & (S.projects.length() == 0),
            empty_state(
                "folder-kanban",
                "No projects yet",
                "Create one above to get a secret key, then upload files to it from your app "
                "with presigned URLs.",
            ),
            rx.vstack(rx.foreach(S.projects, project_card), spacing="3", width="100%"),
        ),
        spacing="3",
        width="100%",
    )


def docs_link() -> rx.Component:
    return rx.text(
        "New to uploads? ",
        rx.link("Read the guide", href=routes.DOCS_UPLOADS),
        ": presigned URLs, the embeddable button, webhooks, with cURL, Python and JavaScript.",
        size="2",
        color_scheme="gray",
    )


def projects_page() -> rx.Component:
    return page_shell(
        docs_link(),
        create_form(),
        projects_list(),
        title="Projects",
        subtitle="Upload projects: secret keys, upload rules and usage for your apps.",
    )

"""`/projects/<id>`: the project's name, upload rules, usage against the plan, secret keys and
deletion. Another person's project (or a missing one) shows "Project not found"."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.project_tabs import project_tabs
from app.components.shell import empty_state, link_button, page_shell
from app.pages.projects_keys import keys_card
from app.state.project_overview import ProjectState as S


def name_header() -> rx.Component:
    return rx.cond(
        S.renaming,
        rx.form(
            rx.flex(
                rx.input(
                    name="project_name",
                    value=S.name_draft,
                    on_change=S.set_name_draft,
                    max_length=120,
                    aria_label="Project name",
                    size="3",
                    flex="1",
                    min_width="200px",
                ),
                rx.button("Save name", type="submit"),
                rx.button(
                    "Cancel",
                    variant="soft",
                    color_scheme="gray",
                    on_click=S.cancel_rename,
                    type="button",
                ),  # fmt: skip
                spacing="2",
                wrap="wrap",
                width="100%",
            ),
            on_submit=S.submit_rename,
            reset_on_submit=False,
            width="100%",
        ),
        rx.flex(
            rx.heading(S.project_name, size="7", as_="h1", class_name="truncate"),
            rx.icon_button(
                rx.icon("pencil", size=16),
                variant="ghost",
                on_click=S.start_rename,
                aria_label="Rename project",
                title="Rename project",
            ),
            align="center",
            spacing="3",
            min_width="0",
        ),
    )


def _field_error(field: str) -> rx.Component:
    return rx.cond(
        (S.field_error == field) & (S.config_error != ""),
        rx.text(S.config_error, size="2", color_scheme="red", role="alert"),
    )


def _labelled(
    label: str, html_for: str, control: rx.Component, *extra: rx.Component
) -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=html_for),
        control,
        *extra,
        spacing="1",
        width="100%",
    )


def _type_chip(mime: rx.Var) -> rx.Component:
    return rx.badge(mime, variant="soft", size="2")


def config_card() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Upload rules", size="4", as_="h2"),
                _labelled(
                    "Allowed types",
                    "cfg-types",
                    rx.input(
                        id="cfg-types",
                        name="types",
                        value=S.form["types"],
                        on_change=lambda v: S.set_field("types", v),
                        placeholder="image/*, application/pdf (empty: any type)",
                        width="100%",
                    ),
                    rx.flex(
                        rx.text("Saved:", size="1", color_scheme="gray"),
                        rx.cond(
                            S.saved_types.length() > 0,
                            rx.foreach(S.saved_types, _type_chip),
                            rx.badge("any type", variant="outline", color_scheme="gray"),
                        ),
                        spacing="1",
                        wrap="wrap",
                        align="center",
                        aria_label="Saved allowed types",
                    ),
                    rx.text(
                        "MIME types or wildcards, separated by commas. Checked against each "
                        "file's real bytes, not its name.",
                        size="1",
                        color_scheme="gray",
                    ),
                    _field_error("allowed_types"),
                ),
                rx.flex(
                    _labelled(
                        "Max file size (MB)",
                        "cfg-size",
                        rx.input(
                            id="cfg-size",
                            name="max_mb",
                            value=S.form["max_mb"],
                            on_change=lambda v: S.set_field("max_mb", v),
                            input_mode="decimal",
                            width="100%",
                        ),
                        rx.text(
                            "Your " + S.plan_name + " plan's cap: " + S.plan_cap,
                            size="1",
                            color_scheme="gray",
                        ),
                        _field_error("max_file_size"),
                    ),
                    _labelled(
                        "Max files per request",
                        "cfg-files",
                        rx.input(
                            id="cfg-files",
                            name="max_files",
                            value=S.form["max_files"],
                            on_change=lambda v: S.set_field("max_files", v),
                            input_mode="numeric",
                            width="100%",
                        ),
                        _field_error("max_files_per_upload"),
                    ),
                    _labelled(
                        "Delete files after (days)",
                        "cfg-expire",
                        rx.input(
                            id="cfg-expire",
                            name="expire_days",
                            value=S.form["expire_days"],
                            on_change=lambda v: S.set_field("expire_days", v),
                            placeholder="never",
                            input_mode="numeric",
                            width="100%",
                        ),
                        rx.text("Empty: keep files until deleted.", size="1", color_scheme="gray"),
                        _field_error("expire_after_days"),
                    ),
                    spacing="4",
                    width="100%",
                    direction={"initial": "column", "sm": "row"},
                ),
                rx.radio_group.root(
                    rx.vstack(
                        rx.text("Access to files", size="2", weight="medium"),
                        rx.flex(
                            rx.el.label(
                                rx.flex(
                                    rx.radio_group.item(value="private"),
                                    rx.text("Private (signed links)", size="2"),
                                    spacing="2",
                                ),
                            ),  # fmt: skip
                            rx.el.label(
                                rx.flex(
                                    rx.radio_group.item(value="public-read"),
                                    rx.text("Public-read", size="2"),
                                    spacing="2",
                                ),
                            ),  # fmt: skip
                            spacing="4",
                            wrap="wrap",
                        ),
                        spacing="1",
                    ),
                    value=S.form["acl"],
                    on_change=lambda v: S.set_field("acl", v),
                    aria_label="Access to files",
                ),
                _field_error("acl"),
                rx.cond(
                    (S.config_error != "") & (S.field_error == ""),
                    rx.callout(
                        S.config_error,
                        icon="triangle-alert",
                        color_scheme="red",
                        role="alert",
                        width="100%",
                    ),  # fmt: skip
                ),
                rx.button(
                    rx.cond(S.saving, rx.spinner(size="2"), rx.icon("check", size=16)),
                    "Save rules",
                    type="submit",
                    disabled=S.saving,
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=S.save_config,
            reset_on_submit=False,
            width="100%",
        ),
        width="100%",
    )


def _usage_bar(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.text(row["label"], size="2", weight="medium"),
            rx.text(row["value"], size="2", color_scheme="gray"),
            justify="between",
            wrap="wrap",
            spacing="2",
            width="100%",
        ),
        rx.progress(value=row["percent"].to(int), width="100%", aria_label=row["label"]),
        spacing="1",
        width="100%",
    )


def usage_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.heading("Usage", size="4", as_="h2"),
                rx.badge(S.plan_name + " plan", variant="soft"),
                rx.spacer(),
                rx.link("Plans and limits", href=routes.PRICING, size="2"),
                align="center",
                spacing="2",
                width="100%",
            ),
            rx.foreach(S.usage, _usage_bar),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def delete_card() -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.heading("Delete this project", size="4", as_="h2"),
                rx.text(
                    "Its keys stop working, and its uploads, stored files and webhooks go too.",
                    size="2",
                    color_scheme="gray",
                ),
                spacing="1",
                flex="1",
                min_width="200px",
            ),
            rx.alert_dialog.root(
                rx.alert_dialog.trigger(
                    rx.button(
                        rx.icon("trash-2", size=16),
                        "Delete project",
                        color_scheme="red",
                        variant="soft",
                    ),  # fmt: skip
                ),
                rx.alert_dialog.content(
                    rx.alert_dialog.title("Delete “" + S.project_name + "”?"),
                    rx.alert_dialog.description(
                        "This deletes the project “" + S.project_name + "” with its secret "
                        "keys, every upload and stored file, and its webhook endpoints and "
                        "delivery logs. It can't be undone."
                    ),
                    rx.flex(
                        rx.alert_dialog.cancel(
                            rx.button("Cancel", variant="soft", color_scheme="gray")
                        ),
                        rx.alert_dialog.action(
                            rx.button(
                                "Delete project", color_scheme="red", on_click=S.confirm_delete
                            )
                        ),
                        spacing="3",
                        justify="end",
                        margin_top="1em",
                    ),
                ),
                open=S.delete_open,
                on_open_change=S.set_delete_open,
            ),
            spacing="3",
            align="center",
            wrap="wrap",
            width="100%",
        ),
        width="100%",
    )


def overview() -> rx.Component:
    return rx.vstack(
        rx.link(
            rx.flex(rx.icon("arrow-left", size=14), "All projects", align="center", spacing="1"),
            href=routes.PROJECTS,
            size="2",
        ),  # fmt: skip
        name_header(),
        project_tabs(S.pid, ""),
        keys_card(),
        rx.grid(
            config_card(),
            usage_card(),
            columns={"initial": "1", "md": "2"},
            spacing="4",
            align_items="start",
            width="100%",
        ),
        delete_card(),
        spacing="4",
        width="100%",
    )


def project_overview_page() -> rx.Component:
    return page_shell(
        rx.cond(
            S.not_found != "",
            empty_state(
                "file-question",
                "Project not found",
                "There is no project at this address, or it isn't yours.",
                link_button("Your projects", routes.PROJECTS),
            ),
            rx.cond(
                (S.loaded_route != "") & (S.pid > 0),
                overview(),
                rx.center(rx.spinner(size="3"), padding="3em", width="100%"),
            ),
        ),
    )

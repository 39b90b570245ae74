"""`/projects/[project_id]/uploads`: try the upload button, then find, check and delete files."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.project_tabs import project_tabs
from app.components.shell import empty_state, link_button, page_shell
from app.components.upload_button import upload_button
from app.state.project_uploads import TYPE_CHOICES
from app.state.project_uploads import ProjectUploadsState as S

STATUS_CHOICES = (
    ("pending", "Pending"),
    ("ready", "Ready"),
    ("rejected", "Rejected"),
    ("quarantined", "Quarantined"),
)
STATUS_COLORS = {"pending": "gray", "ready": "green", "rejected": "red", "quarantined": "orange"}
SCAN_COLORS = {"clean": "green", "infected": "red", "pending": "gray", "not_scanned": "amber"}
PREVIEW = "56px"
# The icons dashboard.type_icon answers (rx.icon needs its name when the page is built).
TYPE_ICONS = ("image", "film", "music", "file-text", "file-archive")


def _icon(name: str) -> rx.Component:
    return rx.icon(name, size=24, color=rx.color("gray", 10))


def _overview_href() -> rx.Var:
    return rx.Var.create(routes.PROJECT_PREFIX) + S.project_id.to_string()


def uploader_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Test uploader", size="4", as_="h2"),
            rx.text(
                "The same <jsoncraft-upload> button your site embeds, with a short-lived client "
                "token for this project. Files go through the project's rules like any other.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                S.client_token != "",
                upload_button(
                    api=S.api_url,
                    token=S.client_token,
                    multiple=True,
                    label="Choose files",
                    id="test-uploader",
                    width="100%",
                    oncomplete=S.batch_done,
                    onerror=S.batch_failed,
                ),
                rx.callout(
                    rx.hstack(
                        rx.text(S.uploader_note),
                        rx.link("Open Overview", href=_overview_href()),
                        spacing="2",
                        wrap="wrap",
                    ),
                    icon="key-round",
                    color_scheme="amber",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _select(key: str, label: str, choices: tuple[tuple[str, str], ...]) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder=label, aria_label=label, min_width="9em"),
        rx.select.content(
            rx.select.item(f"All ({label.lower()})", value="all"),
            *[rx.select.item(text, value=value) for value, text in choices],
        ),
        value=rx.cond(S.filters[key] != "", S.filters[key], "all"),
        on_change=lambda value: S.choose_filter(key, value),
    )


def filters() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                placeholder="Search by name",
                aria_label="Search by name",
                name="name",
                value=S.filters["name"],
                on_change=lambda v: S.set_filter("name", v),
                flex="1 1 14em",
            ),
            _select("type", "Type", TYPE_CHOICES),
            _select("status", "Status", STATUS_CHOICES),
            rx.hstack(
                rx.input(
                    type="date",
                    aria_label="Uploaded from",
                    name="date_from",
                    value=S.filters["date_from"],
                    on_change=lambda v: S.set_filter("date_from", v),
                ),
                rx.text("to", size="2", color_scheme="gray"),
                rx.input(
                    type="date",
                    aria_label="Uploaded until",
                    name="date_to",
                    value=S.filters["date_to"],
                    on_change=lambda v: S.set_filter("date_to", v),
                ),
                align="center",
                spacing="2",
            ),
            rx.button("Search", type="submit"),
            rx.cond(
                S.filtered,
                rx.button("Clear", variant="soft", type="button", on_click=S.clear_filters),
            ),
            spacing="2",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        on_submit=S.apply_filters,
        reset_on_submit=False,
        role="search",
        aria_label="Filter uploads",
        width="100%",
    )


def preview(row: rx.Var) -> rx.Component:
    box = {"width": PREVIEW, "height": PREVIEW, "border_radius": "8px", "flex_shrink": "0"}
    return rx.cond(
        row["thumbnail_url"] != "",
        rx.image(src=row["thumbnail_url"], alt="", object_fit="cover", **box),
        rx.cond(
            row["placeholder_url"] != "",
            rx.image(
                src=row["placeholder_url"],
                alt="",
                object_fit="cover",
                class_name="thumbhash",
                **box,
            ),
            rx.center(
                rx.match(
                    row["icon"],
                    *[(name, _icon(name)) for name in TYPE_ICONS],
                    _icon("file"),
                ),
                background_color=rx.color("gray", 4),
                **box,
            ),
        ),
    )


def status_badge(row: rx.Var) -> rx.Component:
    return rx.badge(
        rx.match(
            row["status"],
            *[(value, text) for value, text in STATUS_CHOICES],
            row["status"],
        ),
        color_scheme=rx.match(row["status"], *STATUS_COLORS.items(), "gray"),
        variant="soft",
    )


def upload_row(row: rx.Var) -> rx.Component:
    return rx.flex(
        preview(row),
        rx.vstack(
            rx.text(row["name"], weight="medium", class_name="upload-name", title=row["name"]),
            rx.text(
                row["size"],
                " · ",
                row["type"],
                " · ",
                row["created"],
                size="1",
                color_scheme="gray",
            ),
            rx.flex(
                status_badge(row),
                rx.badge(
                    row["scan"],
                    color_scheme=rx.match(row["scan_status"], *SCAN_COLORS.items(), "gray"),
                    variant="outline",
                ),
                spacing="2",
                wrap="wrap",
            ),
            rx.cond(
                row["reason"] != "",
                rx.text("Rejected: ", row["reason"], size="1", color_scheme="red"),
            ),
            spacing="1",
            min_width="0",
            flex="1",
        ),
        rx.hstack(
            rx.cond(
                row["download_url"] != "",
                rx.link(
                    rx.icon_button(rx.icon("download", size=16), variant="soft", tab_index=-1),
                    href=row["download_url"],
                    aria_label="Download " + row["name"].to(str),
                    is_external=True,
                ),
            ),
            rx.icon_button(
                rx.icon("trash-2", size=16),
                variant="soft",
                color_scheme="red",
                aria_label="Delete " + row["name"].to(str),
                on_click=S.ask_delete(row),
            ),
            spacing="2",
        ),
        spacing="3",
        align="center",
        padding="10px 12px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
        role="listitem",
        aria_label="Upload " + row["name"].to(str),
        data_status=row["status"],
    )


def delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete ", S.deleting["name"], "?"),
            rx.alert_dialog.description(
                "The file and its thumbnail are removed from storage and the project's webhooks "
                "get upload.deleted. This can't be undone.",
                size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button("Keep it", variant="soft", color_scheme="gray"),
                ),
                rx.alert_dialog.action(
                    rx.button(
                        "Delete", color_scheme="red", on_click=S.confirm_delete(S.deleting["id"])
                    ),
                ),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
        ),
        open=S.deleting.contains("id"),
        on_open_change=S.dialog_toggled,
    )


def empty_log() -> rx.Component:
    return rx.cond(
        S.filtered,
        empty_state(
            "search-x",
            "No uploads match",
            "Nothing in this project matches these filters.",
            rx.button("Clear filters", variant="soft", on_click=S.clear_filters),
        ),
        empty_state(
            "cloud-upload",
            "No uploads yet",
            "Drop a file on the test uploader above, or upload from your code: "
            "the developer docs show every call in cURL, Python and JavaScript.",
            link_button("Read the upload docs", routes.DOCS_UPLOADS, variant="soft"),
        ),
    )


def upload_log() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Upload log", size="4", as_="h2"),
            filters(),
            rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red")),
            rx.cond(
                S.loading,
                rx.center(rx.spinner(size="3"), padding="2em", width="100%"),
                rx.cond(
                    S.rows.length() > 0,
                    rx.vstack(
                        rx.box(
                            rx.foreach(S.rows, upload_row),
                            role="list",
                            aria_label="Uploads",
                            width="100%",
                        ),
                        rx.cond(
                            S.next_cursor != "",
                            rx.button("Load more", variant="soft", on_click=S.load_more),
                        ),
                        align="center",
                        width="100%",
                    ),
                    empty_log(),
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def project_uploads_page() -> rx.Component:
    return page_shell(
        rx.cond(
            S.not_found != "",
            empty_state(
                "folder-x",
                "Project not available",
                S.not_found,
                link_button("Your projects", routes.PROJECTS),
            ),
            rx.vstack(
                rx.heading(
                    rx.cond(S.project_name != "", S.project_name, "Project"), size="7", as_="h1"
                ),
                project_tabs(S.project_id, "uploads"),
                uploader_card(),
                upload_log(),
                delete_dialog(),
                spacing="4",
                width="100%",
            ),
        ),
    )

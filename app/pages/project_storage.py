"""`/projects/[project_id]/storage`: keep the project's files in a bucket of your own (any
S3-compatible store), test the connection, set up CORS for browser uploads, and a CDN."""

from __future__ import annotations

import reflex as rx

from app.components.project_tabs import project_tabs
from app.components.shell import empty_state, page_shell
from app.state.project_storage import ProjectStorageState as S

# (store, endpoint, region, addressing): what each vendor documents for S3 clients.
VENDORS = (
    ("AWS S3", "leave empty (or https://s3.<region>.amazonaws.com)", "e.g. eu-west-1", "auto"),
    ("Cloudflare R2", "https://<account-id>.r2.cloudflarestorage.com", "auto", "path"),
    ("Backblaze B2", "https://s3.<region>.backblazeb2.com", "e.g. us-west-004", "path or virtual"),
    ("Supabase", "https://<project-ref>.supabase.co/storage/v1/s3", "e.g. eu-central-1", "path"),
    ("MinIO", "your server, e.g. https://minio.example.com", "us-east-1", "path"),
    ("SeaweedFS", "your S3 gateway, e.g. https://s3.example.com", "us-east-1", "path"),
)  # fmt: skip

ADDRESSING = ["auto", "path", "virtual"]


def field(label: str, name: str, *, value: rx.Var | str = "", placeholder: str = "",
          hint: str = "", kind: str = "text") -> rx.Component:  # fmt: skip
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=f"bucket-{name}"),
        rx.input(
            id=f"bucket-{name}",
            name=name,
            type=kind,
            default_value=value,
            placeholder=placeholder,
            auto_complete="off",
            spell_check=False,
            width="100%",
        ),
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
        spacing="1",
        width="100%",
    )


def current_storage() -> rx.Component:
    return rx.cond(
        S.bucket["has_bucket"],
        rx.callout(
            rx.text(
                "Files go to the bucket ",
                rx.code(S.bucket["bucket"].to(str)),
                rx.cond(
                    S.bucket["endpoint"].to(str) != "",
                    rx.fragment(" at ", rx.code(S.bucket["endpoint"].to(str))),
                    " on AWS S3",
                ),
                rx.cond(
                    S.bucket["checked"].to(str) != "",
                    " · connection tested " + S.bucket["checked"].to(str),
                    " · connection not tested yet",
                ),
            ),
            icon="database",
            color_scheme="violet",
            aria_label="Current storage",
        ),
        rx.callout(
            "Files go to the app's storage. Save a bucket below to keep them in your own.",
            icon="hard-drive",
            color_scheme="gray",
            aria_label="Current storage",
        ),
    )


def key_fields() -> rx.Component:
    return rx.cond(
        S.show_key_fields,
        rx.vstack(
            rx.grid(
                field("Access key id", "access_key_id", placeholder="AKIA…"),
                field(
                    "Secret access key",
                    "secret_access_key",
                    kind="password",
                    hint="Encrypted at rest and never shown again.",
                ),  # fmt: skip
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            rx.cond(
                S.bucket["has_keys"],
                rx.button(
                    "Keep the saved keys",
                    type="button",
                    variant="ghost",
                    size="1",
                    on_click=S.keep_saved_keys,
                ),  # fmt: skip
            ),
            spacing="2",
            width="100%",
        ),
        rx.hstack(
            rx.icon("key-round", size=16),
            rx.text("Keys: •••• saved", size="2", aria_label="Saved keys"),
            rx.button(
                "Replace keys",
                type="button",
                variant="soft",
                size="1",
                on_click=S.start_replacing_keys,
            ),  # fmt: skip
            align="center",
            spacing="2",
        ),
    )


def bucket_form() -> rx.Component:
    b = S.bucket
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Your bucket", size="4", as_="h2"),
                rx.grid(
                    field(
                        "Endpoint URL",
                        "endpoint",
                        value=b["endpoint"].to(str),
                        placeholder="https://<account-id>.r2.cloudflarestorage.com",
                        hint="Empty for AWS S3 itself.",
                    ),  # fmt: skip
                    field("Bucket", "bucket", value=b["bucket"].to(str), placeholder="my-uploads"),
                    field(
                        "Region",
                        "region",
                        value=b["region"].to(str),
                        placeholder="us-east-1",
                        hint="R2 uses auto.",
                    ),  # fmt: skip
                    rx.vstack(
                        rx.el.label(
                            rx.text("Addressing style", size="2", weight="medium"),
                            html_for="bucket-addressing",
                        ),  # fmt: skip
                        rx.select(
                            ADDRESSING,
                            name="addressing",
                            default_value=rx.cond(b["addressing"], b["addressing"].to(str), "auto"),
                            id="bucket-addressing",
                            aria_label="Addressing style",
                            width="100%",
                        ),
                        rx.text(
                            "path: host/bucket/key · virtual: bucket.host/key",
                            size="1",
                            color_scheme="gray",
                        ),  # fmt: skip
                        spacing="1",
                        width="100%",
                    ),
                    field(
                        "CDN base URL (optional)",
                        "cdn_base_url",
                        value=b["cdn_base_url"].to(str),
                        placeholder="https://cdn.example.com",
                        hint="A CDN in front of this bucket, for public-read files.",
                    ),  # fmt: skip
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                ),
                key_fields(),
                rx.cond(
                    S.form_error,
                    rx.callout(
                        S.form_error, icon="triangle-alert", color_scheme="red", role="alert"
                    ),
                ),
                rx.button("Save bucket", type="submit"),
                spacing="3",
                width="100%",
            ),
            on_submit=S.save_bucket,
            reset_on_submit=False,
            key=S.form_version,
            width="100%",
        ),
        width="100%",
    )


def step_row(step: rx.Var) -> rx.Component:
    status = step["status"].to(str)
    return rx.hstack(
        rx.match(
            status,
            ("passed", rx.icon("circle-check", color=rx.color("green", 10), size=18)),
            ("failed", rx.icon("circle-x", color=rx.color("red", 10), size=18)),
            rx.icon("circle-minus", color=rx.color("gray", 9), size=18),
        ),
        rx.text(step["step"].to(str).upper(), weight="bold", size="2", min_width="4.5em"),
        rx.badge(
            status,
            color_scheme=rx.match(status, ("passed", "green"), ("failed", "red"), "gray"),
        ),
        rx.text(step["detail"].to(str), size="2", flex="1", min_width="12em"),
        rx.cond(step["code"].to(str) != "", rx.code(step["code"].to(str), size="1")),
        align="center",
        spacing="2",
        wrap="wrap",
        width="100%",
        aria_label=step["step"].to(str) + " step",
        class_name="bucket-step",
    )


def remove_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Remove bucket", color_scheme="red", variant="soft")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Remove this bucket?"),
            rx.alert_dialog.description(
                "New files will go to the app's storage and the saved keys are deleted. Files "
                "already in your bucket stay there."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Remove", color_scheme="red", on_click=S.remove_bucket)
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
    )


def connection_panel() -> rx.Component:
    return rx.cond(
        S.bucket["has_bucket"],
        rx.card(
            rx.vstack(
                rx.heading("Connection", size="4", as_="h2"),
                rx.text(
                    "Puts a small object in the bucket, reads its metadata back, and deletes it.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.hstack(
                    rx.button("Test connection", on_click=S.test_connection, loading=S.testing),
                    remove_dialog(),
                    spacing="3",
                    wrap="wrap",
                ),
                rx.cond(
                    S.steps,
                    rx.vstack(
                        rx.foreach(S.steps, step_row),
                        spacing="2",
                        width="100%",
                        aria_label="Connection test results",
                    ),  # fmt: skip
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
    )


def vendors_table() -> rx.Component:
    header = rx.table.header(
        rx.table.row(
            *[
                rx.table.column_header_cell(h)
                for h in ("Store", "Endpoint URL", "Region", "Addressing")
            ]
        )  # fmt: skip
    )
    rows = [
        rx.table.row(
            rx.table.row_header_cell(store),
            rx.table.cell(rx.code(endpoint, size="1", word_break="break-all")),
            rx.table.cell(region),
            rx.table.cell(style),
        )
        for store, endpoint, region, style in VENDORS
    ]
    return rx.card(
        rx.vstack(
            rx.heading("Any S3-compatible store", size="4", as_="h2"),
            rx.box(
                rx.table.root(
                    header, rx.table.body(*rows), size="1", width="100%", min_width="640px"
                ),
                overflow_x="auto",
                width="100%",
            ),  # fmt: skip
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def copy_block(label: str, text: rx.Var, on_copy: rx.EventHandler) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(label, size="2", weight="medium"),
            rx.button(
                rx.icon("copy", size=14),
                "Copy",
                size="1",
                variant="soft",
                on_click=on_copy,
                aria_label=f"Copy {label}",
            ),  # fmt: skip
            justify="between",
            width="100%",
        ),
        rx.el.pre(
            text,
            aria_label=label,
            class_name="copy-block",
            style={
                "background": rx.color("gray", 3),
                "border": f"1px solid {rx.color('gray', 6)}",
                "border_radius": "8px",
                "padding": "0.75em",
                "font_size": "12px",
                "white_space": "pre-wrap",
                "word_break": "break-all",
                "margin": "0",
                "width": "100%",
            },
        ),
        spacing="1",
        width="100%",
    )


def cors_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("CORS for browser uploads", size="4", as_="h2"),
            rx.text(
                "Browsers PUT files straight to your bucket with presigned URLs, so the bucket "
                "must allow your pages' origins, the PUT method and the Content-Type header, and "
                "expose ETag (multipart uploads read each part's ETag).",
                size="2",
                color_scheme="gray",
            ),
            rx.el.label(
                rx.text("Origins that upload (one per line)", size="2", weight="medium"),
                html_for="cors-origins",
            ),  # fmt: skip
            rx.text_area(
                id="cors-origins",
                default_value=S.origins_text,
                on_blur=S.set_origins,
                rows="3",
                width="100%",
                key=S.form_version,
            ),
            rx.cond(
                S.cors_error,
                rx.callout(S.cors_error, icon="triangle-alert", color_scheme="red", role="alert"),
            ),
            copy_block("CORS JSON", S.cors_json, S.copy_cors_json),
            copy_block("AWS CLI command", S.cors_command, S.copy_cors_command),
            rx.text(
                "Save the JSON as cors.json, then run the command (R2, B2, MinIO and SeaweedFS "
                "accept it with their endpoint URL).",
                size="1",
                color_scheme="gray",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def cdn_note() -> rx.Component:
    return rx.callout(
        "Public-read projects serve files from content-addressed keys (cdn/ab/<sha256>.<ext>) "
        "with Cache-Control: public, max-age=31536000, immutable. Put a CDN in front of the "
        "bucket and give its URL above (or CDN_BASE_URL for the app's storage).",
        icon="globe",
        color_scheme="gray",
        size="1",
    )


def project_storage_page() -> rx.Component:
    return page_shell(
        rx.cond(
            S.not_found,
            empty_state(
                "folder-x", "Project not found", "It does not exist, or it is not yours."
            ),  # fmt: skip
            rx.vstack(
                rx.text(S.project_name, color_scheme="gray", size="3"),
                project_tabs(S.project_id, "storage"),
                current_storage(),
                bucket_form(),
                connection_panel(),
                cors_panel(),
                cdn_note(),
                vendors_table(),
                spacing="4",
                width="100%",
            ),
        ),
        title="Storage",
    )

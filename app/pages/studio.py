"""`/studio`: batch image operations. Drop images, tick operations, see the cost, run, download."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.shell import empty_state, link_button, page_shell
from app.components.studio_jobs import jobs_section
from app.components.studio_ops import checklist
from app.state.studio import UPLOAD_ID
from app.state.studio import StudioState as S
from app.state.studio_checklist import StudioChecklistState as C
from app.state.studio_jobs import StudioJobsState as J
from app.state.studio_uploads import StudioUploadsState as U

ACCEPT = {
    "image/*": [".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".avif"],
    "application/zip": [".zip"],
    "application/x-zip-compressed": [".zip"],
}


def dropzone() -> rx.Component:
    return rx.upload(
        rx.vstack(
            rx.icon("images", size=34, color=rx.color("violet", 9)),
            rx.text("Drop images or .zip files here, or click to choose", weight="medium"),
            rx.text(
                "JPEG, PNG, WebP, GIF, TIFF, AVIF · many at once · zips are unpacked safely",
                size="1",
                color_scheme="gray",
                text_align="center",
            ),
            rx.cond(
                S.uploading,
                rx.hstack(rx.spinner(size="1"), rx.text("Uploading…", size="1"), align="center"),
            ),
            align="center",
            spacing="2",
        ),
        id=UPLOAD_ID,
        multiple=True,
        accept=ACCEPT,
        on_drop=U.handle_upload(
            rx.upload_files(upload_id=UPLOAD_ID, on_upload_progress=U.start_upload)
        ),
        border=f"2px dashed {rx.color('violet', 7)}",
        border_radius="12px",
        padding="2em 1em",
        width="100%",
        cursor="pointer",
        background_color=rx.color("violet", 2),
        aria_label="Add images to the batch",
    )


def file_row(f: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.icon(
            rx.cond(f["kind"].to(str) == "zip", "file-archive", "file-image"),
            size=16,
            color=rx.color("gray", 10),
        ),
        rx.text(f["name"], size="2", class_name="truncate", flex="1"),
        rx.cond(
            f["kind"].to(str) == "zip",
            rx.badge(f["images"].to(str) + " images", variant="soft", size="1"),
        ),
        rx.text(f["size"], size="1", color_scheme="gray", white_space="nowrap"),
        rx.icon_button(
            rx.icon("x", size=14),
            size="1",
            variant="ghost",
            color_scheme="gray",
            on_click=U.remove_file(f["id"].to(str)),
            aria_label="Remove " + f["name"].to(str),
        ),
        align="center",
        spacing="2",
        width="100%",
        padding="0.25em 0",
    )


def picked_files() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Images", size="4", as_="h2"),
                rx.spacer(),
                rx.cond(
                    S.files,
                    rx.button(
                        rx.icon("trash-2", size=14),
                        "Clear",
                        size="1",
                        variant="ghost",
                        color_scheme="gray",
                        on_click=U.clear_files,
                    ),
                ),
                align="center",
                width="100%",
            ),
            dropzone(),
            rx.cond(
                S.upload_error != "",
                rx.callout(
                    S.upload_error,
                    icon="triangle-alert",
                    color_scheme="red",
                    role="alert",
                    width="100%",
                ),
            ),
            rx.cond(
                S.files,
                rx.vstack(
                    rx.text(
                        S.image_count.to(str)
                        + rx.cond(S.image_count == 1, " image", " images")
                        + " · "
                        + S.files.length().to(str)
                        + rx.cond(S.files.length() == 1, " file · ", " files · ")
                        + S.total_size,
                        size="2",
                        weight="medium",
                        aria_label="Picked files summary",
                    ),
                    rx.scroll_area(
                        rx.vstack(rx.foreach(S.files, file_row), spacing="0", width="100%"),
                        max_height="260px",
                        type="auto",
                        scrollbars="vertical",
                    ),
                    spacing="1",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def mode_card(value: str, title: str, price: rx.Var, note: str) -> rx.Component:
    return rx.radio_cards.item(
        rx.vstack(
            rx.text(title, weight="bold", size="2"),
            rx.text(price, size="4", weight="bold"),
            rx.text(note, size="1", color_scheme="gray"),
            spacing="0",
            align="start",
            width="100%",
        ),
        value=value,
        aria_label=title,
    )


def cost_panel() -> rx.Component:
    cost = S.cost
    return rx.card(
        rx.vstack(
            rx.heading("Cost", size="4", as_="h2"),
            rx.cond(
                cost.contains("per_image"),  # type: ignore[attr-defined]
                rx.vstack(
                    rx.foreach(
                        cost["lines"].to(list[dict]),
                        lambda line: rx.hstack(
                            rx.text(line["label"], size="2"),
                            rx.spacer(),
                            rx.text(
                                rx.cond(
                                    line["credits"].to(int) == 0,
                                    "free",
                                    line["credits"].to(str) + " / image",
                                ),
                                size="2",
                                color_scheme="gray",
                                white_space="nowrap",
                            ),
                            width="100%",
                        ),
                    ),
                    rx.separator(size="4"),
                    rx.hstack(
                        rx.text("Per image", size="2", weight="medium"),
                        rx.spacer(),
                        rx.text(S.prices["per_image"], size="2", weight="bold"),
                        width="100%",
                    ),
                    rx.cond(
                        S.files,
                        rx.text(
                            "× "
                            + S.image_count.to(str)
                            + rx.cond(S.image_count == 1, " image", " images"),
                            size="1",
                            color_scheme="gray",
                        ),
                    ),
                    rx.radio_cards.root(
                        mode_card("now", "Run now", S.prices["now_total"], "Starts right away."),
                        mode_card(
                            "batch",
                            "Batch later",
                            S.prices["batch_total"],
                            "Cheaper; runs when the queue is free.",
                        ),
                        value=S.mode,
                        on_value_change=C.set_mode,
                        columns="2",
                        size="1",
                        gap="2",
                        width="100%",
                        aria_label="When to run",
                    ),
                    spacing="2",
                    width="100%",
                ),
                rx.text(
                    "Tick operations to see what they cost. Local operations are cheap or free; "
                    "AI operations cost more.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            rx.hstack(
                rx.text("Your balance", size="2"),
                rx.spacer(),
                rx.link(
                    S.credits.to(str) + rx.cond(S.credits == 1, " credit", " credits"),
                    href=routes.CREDITS,
                    size="2",
                    weight="medium",
                ),
                width="100%",
            ),
            rx.button(
                rx.cond(S.submitting, rx.spinner(size="2"), rx.icon("play", size=16)),
                S.run_label,
                size="3",
                width="100%",
                disabled=(S.run_blocker != "") | S.submitting,
                on_click=S.run_job,
            ),
            rx.cond(
                S.run_blocker != "",
                rx.text(
                    rx.icon("info", size=13, display="inline", vertical_align="-2px"),
                    " ",
                    S.run_blocker,
                    size="1",
                    color_scheme="gray",
                    aria_label="Why Run is disabled",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        aria_label="Cost preview",
    )


def signed_out() -> rx.Component:
    return empty_state(
        "lock",
        "Sign in to use the studio",
        "Resize, convert, compress, watermark, remove backgrounds and read text from many "
        "images at once, with the cost shown before anything runs.",
        rx.hstack(
            link_button("Sign in", routes.login_url(routes.STUDIO)),
            link_button("Create an account", routes.SIGNUP, variant="soft"),
            spacing="2",
        ),
    )


def workspace() -> rx.Component:
    return rx.vstack(
        rx.grid(
            rx.vstack(picked_files(), checklist(), spacing="4", width="100%", min_width="0"),
            rx.box(
                cost_panel(), position=rx.breakpoints(initial="static", md="sticky"), top="76px"
            ),
            grid_template_columns=rx.breakpoints(
                initial="minmax(0, 1fr)", md="minmax(0, 1fr) 320px"
            ),
            spacing="4",
            align_items="start",
            width="100%",
        ),
        jobs_section(),
        spacing="6",
        width="100%",
    )


def studio_page() -> rx.Component:
    return page_shell(
        rx.cond(
            J.jobs_loaded,
            rx.cond(J.signed_in, workspace(), signed_out()),
            rx.center(rx.spinner(size="3"), padding="4em", width="100%"),
        ),
        title="Studio",
        subtitle="Batch image operations: drop many images, tick what to do, see the cost, run.",
    )

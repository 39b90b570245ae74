"""Studio job cards: status, overall and per-item progress, results and where to send them."""

from __future__ import annotations

import reflex as rx

from app.components.shell import empty_state
from app.state.studio_jobs import StudioJobsState as J


def download_link(label: str | rx.Var[str], href: rx.Var[str], **props: object) -> rx.Component:
    """A real <a download>: the browser saves the file. Reflex renders links through the client
    router, which would treat /api/... as a page; reload_document makes it a plain request."""
    return rx.button(
        rx.el.a(rx.icon("download", size=14), label, href=href, download="", reload_document=True),
        as_child=True,
        **props,
    )


def output_row(out: rx.Var) -> rx.Component:
    is_image = out["is_image"].to(bool)
    name = out["name"].to(str)
    return rx.hstack(
        rx.cond(
            is_image,
            rx.image(
                src=out["url"].to(str),
                alt=name,
                width="44px",
                height="44px",
                object_fit="cover",
                border_radius="6px",
                loading="lazy",
                border=f"1px solid {rx.color('gray', 5)}",
            ),
            rx.center(
                rx.icon("file-text", size=18, color=rx.color("gray", 10)),
                width="44px",
                height="44px",
                border_radius="6px",
                background_color=rx.color("gray", 3),
            ),
        ),
        rx.vstack(
            rx.link(
                name,
                href=out["url"].to(str),
                download=name,
                reload_document=True,
                size="2",
                class_name="truncate",
                aria_label="Download " + name,
            ),
            rx.text(out["detail"], size="1", color_scheme="gray"),
            spacing="0",
            min_width="0",
            flex="1",
        ),
        rx.cond(
            out["prompt_url"].to(str) != "",
            rx.link(
                rx.badge(
                    rx.icon("circle-check", size=12),
                    "Saved to gallery",
                    color_scheme="green",
                    variant="soft",
                ),
                href=out["prompt_url"].to(str),
                aria_label="Saved to gallery: open " + name,
                title="Open the saved JSON prompt",
            ),
        ),
        rx.cond(
            out["sendable"].to(bool),
            rx.hstack(
                rx.button(
                    rx.icon("scan-search", size=14),
                    rx.text("Analyzer", class_name="hide-narrow"),
                    size="1",
                    variant="soft",
                    on_click=J.send_to_analyzer(
                        out["job_id"].to(int), out["position"].to(int), name
                    ),
                    aria_label="Send " + name + " to the analyzer",
                    title="Open in the analyzer",
                ),
                rx.button(
                    rx.icon("images", size=14),
                    rx.text("Gallery", class_name="hide-narrow"),
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=J.send_to_gallery(
                        out["job_id"].to(int), out["position"].to(int), name
                    ),
                    aria_label="Send " + name + " to the gallery",
                    title="Describe it offline and save it to the gallery",
                ),
                spacing="1",
            ),
        ),
        align="center",
        spacing="2",
        width="100%",
    )


def item_row(item: rx.Var) -> rx.Component:
    status = item["status"].to(str)
    return rx.box(
        rx.hstack(
            rx.text(
                item["name"],
                size="2",
                weight="medium",
                class_name="truncate",
                flex="1",
                min_width="0",
            ),
            rx.box(
                rx.cond(
                    status == "running",
                    rx.progress(size="1", aria_label="Progress of " + item["name"].to(str)),
                    rx.progress(
                        value=item["progress"].to(int),
                        size="1",
                        color_scheme=item["color"].to(str),
                        aria_label="Progress of " + item["name"].to(str),
                    ),
                ),
                width=rx.breakpoints(initial="64px", sm="140px"),
                flex_shrink="0",
            ),
            rx.badge(
                item["label"], color_scheme=item["color"].to(str), variant="soft", min_width="74px"
            ),
            align="center",
            spacing="3",
            width="100%",
        ),
        rx.cond(
            item["error"].to(str) != "",
            rx.text(
                rx.icon("circle-alert", size=13, display="inline", vertical_align="-2px"),
                " ",
                item["error"],
                size="1",
                color_scheme="red",
                margin_top="0.2em",
            ),
        ),
        rx.cond(
            item["outputs"].to(list).length() > 0,  # type: ignore[attr-defined]
            rx.vstack(
                rx.foreach(item["outputs"].to(list[dict]), output_row),
                spacing="2",
                width="100%",
                padding_top="0.5em",
            ),
        ),
        padding="0.6em 0",
        border_top=f"1px solid {rx.color('gray', 4)}",
        width="100%",
        class_name="studio-item",
        data_status=status,
        aria_label="Item " + item["name"].to(str),
    )


def job_card(job: rx.Var) -> rx.Component:
    job_id = job["id"].to(int)
    active = job["active"].to(bool)
    status = job["status"].to(str)
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Job #" + job_id.to(str), size="4", as_="h3"),
                rx.badge(job["label"], color_scheme=job["color"].to(str), size="2"),
                rx.badge(job["mode"], variant="outline", color_scheme="gray"),
                rx.spacer(),
                rx.text(job["created"], size="1", color_scheme="gray"),
                align="center",
                spacing="2",
                width="100%",
                wrap="wrap",
            ),
            rx.text(job["steps"], size="1", color_scheme="gray"),
            rx.progress(
                value=job["percent"].to(int),
                size="2",
                color_scheme=job["color"].to(str),
                aria_label="Job progress",
                width="100%",
            ),
            rx.hstack(
                rx.text(job["counts"], size="2", aria_label="Job counts"),
                rx.text("·", color_scheme="gray", size="2"),
                rx.text(job["credits"], size="2", color_scheme="gray"),
                spacing="2",
                wrap="wrap",
            ),
            rx.cond(
                job["error"].to(str) != "",
                rx.callout(job["error"], icon="triangle-alert", color_scheme="red", width="100%"),
            ),
            rx.cond(
                job["gallery_tag"].to(str) != "",
                rx.text(
                    rx.icon("images", size=13, display="inline", vertical_align="-2px"),
                    " Described images are saved to the gallery with the tag ",
                    rx.code(job["gallery_tag"], size="1"),
                    ".",
                    size="1",
                    color_scheme="gray",
                ),
            ),
            rx.hstack(
                rx.cond(
                    active & (status != "cancelling"),
                    rx.button(
                        rx.icon("circle-stop", size=14),
                        "Cancel",
                        size="2",
                        variant="soft",
                        color_scheme="red",
                        on_click=J.cancel(job_id),
                    ),
                ),
                rx.cond(
                    job["can_download"].to(bool),
                    download_link("Download zip", job["download_url"].to(str), size="2"),
                ),
                spacing="2",
                wrap="wrap",
            ),
            rx.cond(
                job["detailed"].to(bool),
                items_list(job),
                rx.button(
                    rx.icon("list", size=14),
                    "Show items",
                    size="1",
                    variant="ghost",
                    on_click=J.load_items(job_id),
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        class_name="studio-job",
        data_status=status,
        aria_label="Job " + job_id.to(str),
    )


def items_list(job: rx.Var) -> rx.Component:
    return rx.el.details(
        rx.el.summary(
            rx.text("Items (", job["counts"], ")", size="2", weight="medium", as_="span"),
            cursor="pointer",
        ),
        rx.vstack(
            rx.foreach(job["items"].to(list[dict]), item_row),
            rx.cond(
                job["hidden_items"].to(int) > 0,
                rx.text(
                    "and ",
                    job["hidden_items"].to(str),
                    " more: the zip holds every result.",
                    size="1",
                    color_scheme="gray",
                ),
            ),
            spacing="0",
            width="100%",
            padding_top="0.4em",
        ),
        open=True,
        width="100%",
    )


def jobs_section() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Jobs", size="5", as_="h2"),
            rx.cond(
                J.has_active,
                rx.badge(
                    rx.spinner(size="1"), "updating live", color_scheme="blue", variant="soft"
                ),
            ),
            align="center",
            spacing="3",
        ),
        rx.cond(
            J.jobs,
            rx.vstack(rx.foreach(J.jobs, job_card), spacing="3", width="100%"),
            rx.cond(
                J.jobs_loaded,
                empty_state(
                    "layers",
                    "No jobs yet",
                    "Add images, tick what to do with them and press Run. Jobs and their "
                    "results stay here, even after a reload.",
                ),
                rx.center(rx.spinner(size="3"), padding="2em", width="100%"),
            ),
        ),
        spacing="3",
        width="100%",
    )

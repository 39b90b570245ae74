"""The prompt page's round-trip parts: "Made from …" with the generation's parameters and its
fidelity score for a generated image, and the images of each version for a source prompt."""

from __future__ import annotations

import reflex as rx

from app.state.prompt_round_trip import PromptRoundTripState as R


def _fidelity() -> rx.Component:
    return rx.cond(
        R.fidelity_score >= 0,
        rx.vstack(
            rx.hstack(
                rx.text("Fidelity", weight="bold", size="2"),
                rx.badge(R.fidelity_score, " / 100", size="2", color_scheme="violet"),
                align="center",
                spacing="2",
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Part"),
                        rx.table.column_header_cell("Score"),
                        rx.table.column_header_cell("Weight", class_name="hide-narrow"),
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        R.fidelity_parts,
                        lambda p: rx.table.row(
                            rx.table.cell(
                                rx.text(p["label"], size="2"),
                                rx.text(p["explanation"], size="1", color_scheme="gray"),
                            ),
                            rx.table.cell(p["score"]),
                            rx.table.cell(p["weight"], class_name="hide-narrow"),
                        ),
                    )
                ),
                size="1",
                width="100%",
                aria_label="Fidelity parts",
            ),
            _how_computed(),
            spacing="2",
            width="100%",
        ),
        rx.text(
            "No fidelity score: the prompt names nothing the image could be checked on, "
            "or the check could not run.",
            size="1",
            color_scheme="gray",
        ),
    )


def _how_computed() -> rx.Component:
    return rx.el.details(
        rx.el.summary("How the fidelity score is computed"),
        rx.text(R.fidelity_help, size="1"),
        rx.text("The full method: docs/fidelity.md in the project.", size="1", color_scheme="gray"),
        class_name="reasoning",
    )


def made_from() -> rx.Component:
    """For a generated entry: where it came from and everything needed to make it again."""
    return rx.cond(
        R.is_generated,
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("sparkles", size=16),
                    rx.text("Generated · ", R.made["model_label"], weight="bold", size="2"),
                    align="center",
                    spacing="2",
                ),
                rx.cond(
                    R.made["source_url"] != "",
                    rx.text(
                        "Made from ",
                        rx.link(
                            R.made["source_title"],
                            " v",
                            R.made["source_version"],
                            href=R.made["source_url"],
                        ),
                        size="2",
                    ),
                    rx.text("Made from a JSON prompt given directly.", size="2"),
                ),
                rx.data_list.root(
                    rx.foreach(
                        R.params,
                        lambda row: rx.data_list.item(
                            rx.data_list.label(row["label"]),
                            rx.data_list.value(rx.text(row["value"], class_name="break-all")),
                        ),
                    ),
                    size="1",
                    orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
                ),
                rx.el.details(
                    rx.el.summary("What the model received (", R.made["prompt_format"], ")"),
                    rx.el.pre(R.made["prompt_sent"]),
                    rx.cond(
                        R.made["negative"] != "",
                        rx.text("Negative: ", R.made["negative"], size="1"),
                    ),
                    class_name="reasoning",
                ),
                _fidelity(),
                spacing="3",
                width="100%",
            ),
            width="100%",
            aria_label="How this image was made",
        ),
    )


def _image_tile(image: rx.Var) -> rx.Component:
    return rx.link(
        rx.vstack(
            rx.image(
                src=image["thumbnail_url"].to(str),
                alt=image["title"].to(str),
                width="100%",
                height="70px",
                object_fit="cover",
                border_radius="6px",
            ),
            rx.text(image["label"], size="1", class_name="truncate"),
            rx.text("Fidelity ", image["score"], size="1", color_scheme="gray"),
            spacing="1",
        ),
        href=image["url"].to(str),
        underline="none",
    )


def generated_versions() -> rx.Component:
    """For a source prompt: per version, its images and their average fidelity."""
    return rx.cond(
        R.versions,
        rx.vstack(
            rx.text("Generated from this prompt", weight="bold", size="2"),
            rx.foreach(
                R.versions,
                lambda v: rx.vstack(
                    rx.hstack(
                        rx.badge("v", v["version"], variant="outline"),
                        rx.text(
                            "Average fidelity ",
                            rx.text.strong(v["average"]),
                            " over ",
                            v["scored"].to(str),
                            " scored image(s)",
                            size="1",
                        ),
                        align="center",
                        spacing="2",
                        wrap="wrap",
                    ),
                    rx.grid(
                        rx.foreach(v["images"].to(list[dict[str, str]]), _image_tile),
                        columns="4",
                        spacing="2",
                        width="100%",
                    ),
                    spacing="1",
                    width="100%",
                    aria_label="Images of version " + v["version"].to(str),
                ),
            ),
            _how_computed(),
            spacing="2",
            width="100%",
            aria_label="Generated from this prompt",
        ),
    )

"""LoRA cards for `/loras`: status, the photos it learned from, its files, cancel or delete."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.state.loras import LorasState as L


def lora_card(row: rx.Var) -> rx.Component:
    name = row["name"].to(str)
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(name, size="4", as_="h3", class_name="truncate"),
                rx.badge(
                    row["label"],
                    color_scheme=row["color"],
                    variant="soft",
                    aria_label="Status of " + name,
                ),  # fmt: skip
                rx.cond(row["active"], rx.spinner(size="1")),
                rx.spacer(),
                rx.text(row["created"], size="1", color_scheme="gray", white_space="nowrap"),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.hstack(
                rx.badge(rx.icon("tag", size=12), row["trigger_word"], variant="outline"),
                rx.badge(row["kind"], variant="surface", color_scheme="gray"),
                rx.text(row["details"], size="1", color_scheme="gray"),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            rx.hstack(
                rx.foreach(
                    row["samples"].to(list[str]),
                    lambda url: rx.image(
                        src=url,
                        alt="A photo " + name + " learned from",
                        width="64px",
                        height="64px",
                        object_fit="cover",
                        border_radius="6px",
                    ),  # fmt: skip
                ),
                spacing="2",
                wrap="wrap",
            ),
            rx.cond(
                row["error"].to(str) != "",
                rx.callout(
                    row["error"], icon="circle-alert", color_scheme="red", size="1", width="100%"
                ),  # fmt: skip
            ),
            rx.cond(
                row["done"],
                rx.text(
                    "Write ",
                    rx.code(row["trigger_word"]),
                    " in a prompt and pick FLUX.1 [dev] with LoRAs to use it.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            rx.hstack(
                rx.cond(
                    row["done"],
                    rx.link(
                        rx.flex(
                            rx.icon("download", size=14),
                            "Weights (.safetensors)",
                            align="center",
                            gap="1",
                        ),
                        href=row["lora_url"].to(str),
                        is_external=True,
                        size="2",
                    ),
                ),
                rx.cond(
                    row["done"],
                    rx.link(
                        rx.flex(
                            rx.icon("wand-sparkles", size=14),
                            "Generate with this LoRA",
                            align="center",
                            gap="1",
                        ),  # fmt: skip
                        href=routes.GENERATE + "?lora=" + row["id"].to(str),
                        size="2",
                    ),
                ),
                rx.spacer(),
                rx.button(
                    rx.cond(
                        row["active"], rx.icon("circle-stop", size=14), rx.icon("trash-2", size=14)
                    ),  # fmt: skip
                    rx.cond(row["active"], "Cancel", "Delete"),
                    size="1",
                    variant="soft",
                    color_scheme=rx.cond(row["active"], "amber", "red"),
                    on_click=L.remove(row["id"].to(int)),
                    aria_label=rx.cond(row["active"], "Cancel ", "Delete ") + name,
                ),
                width="100%",
                align="center",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="lora-card",
    )

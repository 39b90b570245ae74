"""`/generate`: pick a prompt and the choices, see the cost and what the model receives, run,
and watch the images arrive."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.generation_results import change_list, run_list
from app.components.shell import link_button, page_shell
from app.services.generation.lora_training import MAX_LORAS
from app.services.generation.sizes import ASPECT_PRESETS
from app.state.generate import PRESETS, GenerateState
from app.state.generate_choices import GenerateChoicesState as C
from app.state.generate_inputs import CUSTOM
from app.state.generate_loras import GenerateLorasState as L
from app.state.generate_runs import GenerateRunsState as R
from app.state.session import SessionState

S = GenerateState


def field_error(key: str) -> rx.Component:
    message = S.errors.get(key, "")
    return rx.cond(
        message != "",
        rx.text(message, size="1", color_scheme="red", role="alert", class_name=f"error-{key}"),
    )


def labelled(label: str, control: rx.Component, key: str, *extra: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium"),
        control,
        *extra,
        field_error(key),
        spacing="1",
        width="100%",
    )


def source_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Prompt", size="4", as_="h2"),
            rx.cond(
                S.has_source,
                rx.hstack(
                    rx.icon("file-json", size=16),
                    rx.text(S.source_title, weight="medium", class_name="truncate"),
                    rx.cond(
                        S.versions.length() > 0,  # type: ignore[attr-defined]
                        rx.select.root(
                            rx.select.trigger(aria_label="Version"),
                            rx.select.content(
                                rx.foreach(
                                    S.versions,
                                    lambda v: rx.select.item(v["label"], value=v["number"]),
                                )
                            ),
                            value=S.version,
                            on_change=S.choose_version,
                            size="1",
                        ),
                        rx.badge("Analyzer answer", variant="soft"),
                    ),
                    align="center",
                    spacing="2",
                    wrap="wrap",
                ),
            ),
            rx.cond(
                S.my_prompts.length() > 0,  # type: ignore[attr-defined]
                rx.select.root(
                    rx.select.trigger(
                        placeholder=rx.cond(
                            S.has_source, "Switch to another saved prompt…", "Pick a saved prompt…"
                        ),
                        aria_label="Saved prompt",
                        width="100%",
                    ),
                    rx.select.content(
                        rx.foreach(
                            S.my_prompts, lambda p: rx.select.item(p["title"], value=p["id"])
                        )
                    ),
                    value=S.picked_prompt,
                    on_change=S.choose_prompt,
                ),
                rx.cond(
                    ~S.has_source,
                    rx.hstack(
                        rx.text("You have no saved prompts yet.", color_scheme="gray", size="2"),
                        link_button("Analyze an image", routes.HOME, size="1", variant="soft"),
                        align="center",
                        wrap="wrap",
                    ),
                ),
            ),
            field_error("source"),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def model_picker() -> rx.Component:
    return labelled(
        "Model",
        rx.select.root(
            rx.select.trigger(aria_label="Model", width="100%"),
            rx.select.content(
                rx.foreach(
                    S.models,
                    lambda m: rx.select.item(
                        m["display"], value=m["id"], disabled=~m["available"].to(bool)
                    ),
                )
            ),
            value=S.run_model_id,  # LoRAs run on their own model: show it
            on_change=C.set_model,
            disabled=S.picked_loras.length() > 0,  # type: ignore[attr-defined]
        ),
        "model",
        rx.text(S.model["note"].to(str), size="1", color_scheme="gray"),
        rx.cond(
            S.unavailable.length() > 0,  # type: ignore[attr-defined]
            rx.el.details(
                rx.el.summary("Why some models can't be picked", class_name="small-summary"),
                rx.foreach(S.unavailable, lambda r: rx.text(r, size="1", color_scheme="gray")),
            ),
        ),
    )


def picked_lora(row: rx.Var) -> rx.Component:
    name = row["name"].to(str)
    return rx.hstack(
        rx.text(name, weight="medium", size="2", class_name="truncate"),
        rx.badge(rx.icon("tag", size=12), row["trigger_word"], variant="outline"),
        rx.spacer(),
        rx.text("Scale", size="1", color_scheme="gray"),
        rx.input(
            value=row["scale"].to(str),
            on_change=lambda text: L.set_lora_scale(row["id"].to(str), text),
            aria_label="Scale for " + name,
            placeholder="0 – 2",
            debounce_timeout=300,
            width="5em",
            size="1",
        ),
        rx.icon_button(
            rx.icon("x", size=12),
            size="1",
            variant="ghost",
            on_click=L.remove_lora(row["id"].to(str)),
            aria_label="Remove " + name,
        ),
        align="center",
        spacing="2",
        width="100%",
        wrap="wrap",
        class_name="picked-lora",
    )


def lora_picker() -> rx.Component:
    return labelled(
        "LoRAs",
        rx.cond(
            S.my_loras.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(
                rx.foreach(S.picked_loras, picked_lora),
                rx.cond(
                    (S.lora_choices.length() > 0)  # type: ignore[attr-defined]
                    & (S.picked_loras.length() < MAX_LORAS),  # type: ignore[attr-defined]
                    rx.select.root(
                        rx.select.trigger(
                            placeholder="Add one of your LoRAs…", aria_label="Add a LoRA"
                        ),
                        rx.select.content(
                            rx.foreach(
                                S.lora_choices, lambda r: rx.select.item(r["label"], value=r["id"])
                            )
                        ),
                        value="",
                        on_change=L.add_lora,
                    ),
                ),
                spacing="2",
                width="100%",
            ),
            rx.hstack(
                rx.text("Your trained LoRAs appear here.", size="2", color_scheme="gray"),
                rx.link("Train one", href=routes.LORAS, size="2"),
                align="center",
                wrap="wrap",
            ),
        ),
        "loras",
        rx.cond(
            S.picked_loras.length() > 0,  # type: ignore[attr-defined]
            rx.callout(
                rx.text(
                    "Runs on FLUX.1 [dev] with LoRAs (fal-ai/flux-lora) · ",
                    rx.cond(
                        S.per_image > 0, S.per_image.to(str) + " credits per image", "price unknown"
                    ),
                    rx.cond(
                        S.model["note"].to(str) != "", " (" + S.model["note"].to(str) + ")", ""
                    ),
                ),
                icon="info",
                size="1",
                variant="surface",
                width="100%",
                aria_label="LoRA model",
            ),
        ),
        rx.cond(
            S.missing_triggers.length() > 0,  # type: ignore[attr-defined]
            rx.callout(
                rx.text(
                    "Your prompt lacks the trigger word ",
                    S.missing_triggers.join(", "),  # type: ignore[attr-defined]
                    ": add it where the subject or style should appear, or the LoRA barely shows.",
                ),
                icon="triangle-alert",
                color_scheme="amber",
                size="1",
                width="100%",
                aria_label="Trigger word reminder",
            ),
        ),
    )


def aspect_picker() -> rx.Component:
    return labelled(
        "Aspect ratio",
        rx.hstack(
            rx.select.root(
                rx.select.trigger(aria_label="Aspect ratio"),
                rx.select.content(
                    *[rx.select.item(a, value=a) for a in ASPECT_PRESETS],
                    rx.select.item("Custom…", value=CUSTOM),
                ),
                value=S.aspect,
                on_change=C.set_aspect,
            ),
            rx.cond(
                S.aspect == CUSTOM,
                rx.input(
                    value=S.custom_aspect,
                    on_change=C.set_custom_aspect,
                    placeholder="W:H, like 5:4",
                    aria_label="Custom aspect ratio",
                    debounce_timeout=300,
                    width="9em",
                ),
            ),
            rx.text(S.size_label, size="2", color_scheme="gray", aria_label="Image size"),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        "aspect",
    )


def preset_picker() -> rx.Component:
    return labelled(
        "Style preset",
        rx.hstack(
            rx.select.root(
                rx.select.trigger(placeholder="Try a style preset…", aria_label="Style preset"),
                rx.select.content(
                    *[rx.select.item(p["label"], value=p["id"]) for p in PRESETS],
                ),
                value=C.pending_preset,
                on_change=C.choose_preset,
            ),
            rx.cond(
                S.preset != "",
                rx.badge(
                    "Applied: ",
                    S.preset,
                    rx.icon_button(
                        rx.icon("x", size=12),
                        size="1",
                        variant="ghost",
                        on_click=C.remove_preset,
                        aria_label="Remove the style preset",
                    ),
                    variant="soft",
                    color_scheme="violet",
                    size="2",
                ),
            ),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        "preset",
        rx.cond(
            C.preset_changes.length() > 0,  # type: ignore[attr-defined]
            rx.card(
                rx.vstack(
                    change_list(C.preset_changes, "The preset would change:"),
                    rx.hstack(
                        rx.button("Apply preset", size="1", on_click=C.apply_preset),
                        rx.button("Cancel", size="1", variant="soft", on_click=C.cancel_preset),
                    ),
                    spacing="2",
                ),
                width="100%",
                aria_label="Preset preview",
            ),
        ),
    )


def numbers() -> rx.Component:
    return rx.vstack(
        labelled(
            "Images",
            rx.segmented_control.root(
                *[rx.segmented_control.item(str(n), value=str(n)) for n in range(1, 5)],
                value=S.n,
                on_change=C.set_count,
                aria_label="Number of images",
            ),
            "n",
        ),
        labelled(
            "Seed",
            rx.hstack(
                rx.radio_group.root(
                    rx.radio_group.item("Random", value="random"),
                    rx.radio_group.item("Fixed", value="fixed"),
                    value=S.seed_mode,
                    on_change=C.set_seed_mode,
                    direction="row",
                    aria_label="Seed",
                ),
                rx.cond(
                    S.seed_mode == "fixed",
                    rx.input(
                        value=S.seed,
                        on_change=C.set_seed,
                        placeholder="0 – 4294967295",
                        aria_label="Seed value",
                        debounce_timeout=300,
                        width="12em",
                    ),
                ),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            "seed",
        ),
        rx.cond(
            S.model["steps"].to(bool),
            labelled(
                "Steps",
                rx.input(
                    value=S.steps,
                    on_change=C.set_steps,
                    placeholder="model default",
                    aria_label="Steps",
                    debounce_timeout=300,
                    width="10em",
                ),  # fmt: skip
                "steps",
            ),
        ),
        rx.cond(
            S.model["guidance"].to(bool),
            labelled(
                "Guidance",
                rx.input(
                    value=S.guidance,
                    on_change=C.set_guidance,
                    placeholder="model default",
                    aria_label="Guidance",
                    debounce_timeout=300,
                    width="10em",
                ),  # fmt: skip
                "guidance",
            ),
        ),
        spacing="3",
        width="100%",
    )


def choices_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Choices", size="4", as_="h2"),
            model_picker(),
            lora_picker(),
            aspect_picker(),
            preset_picker(),
            numbers(),
            spacing="4",
            width="100%",
        ),
        width="100%",
    )


def before_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Before it runs", size="4", as_="h2"),
            rx.hstack(
                rx.vstack(
                    rx.text("Cost", size="1", color_scheme="gray"),
                    rx.text(
                        rx.cond(S.cost > 0, S.cost.to(str) + " credits", "Free"),
                        size="5",
                        weight="bold",
                        aria_label="Cost",
                    ),
                    rx.cond(
                        S.per_image > 0,
                        rx.text(S.per_image, " per image", size="1", color_scheme="gray"),
                        rx.text("drawn here, on no one's account", size="1", color_scheme="gray"),
                    ),
                    spacing="0",
                ),
                rx.vstack(
                    rx.text("Balance", size="1", color_scheme="gray"),
                    rx.text(SessionState.credits, " credits", size="5", aria_label="Balance"),
                    rx.cond(
                        S.cost > SessionState.credits,
                        rx.link("Buy credits", href=routes.CREDITS, size="1"),
                    ),
                    spacing="0",
                ),
                spacing="6",
            ),
            rx.hstack(
                rx.text("What the model receives", weight="bold", size="2"),
                rx.cond(
                    S.sent_format != "",
                    rx.badge(rx.cond(S.sent_format == "json", "JSON", "Text"), variant="soft"),
                ),
                align="center",
                spacing="2",
            ),
            rx.cond(
                S.sent != "",
                rx.el.pre(
                    S.sent, class_name="json-view sent-prompt", aria_label="What the model receives"
                ),
                rx.text(
                    rx.cond(
                        S.has_source,
                        "Fix the choices marked in red to see it.",
                        "Pick a prompt to see it here.",
                    ),
                    size="2",
                    color_scheme="gray",
                ),
            ),
            rx.cond(
                S.negative != "",
                rx.vstack(
                    rx.text("Negative prompt", weight="bold", size="2"),
                    rx.el.pre(S.negative, class_name="json-view", aria_label="Negative prompt"),
                    spacing="1",
                    width="100%",
                ),
            ),
            rx.button(
                rx.cond(R.starting, rx.spinner(size="2"), rx.icon("wand-sparkles", size=16)),
                "Generate",
                size="3",
                on_click=R.start_run,
                disabled=~S.has_source | R.starting,
                width="100%",
            ),
            field_error("run"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def generate_page() -> rx.Component:
    return page_shell(
        rx.cond(
            S.loaded,
            rx.vstack(
                rx.grid(
                    rx.vstack(source_card(), choices_card(), spacing="4", width="100%"),
                    before_card(),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                    align_items="start",
                ),
                rx.heading("Your recent runs", size="5", as_="h2"),
                run_list(R.runs, R.cancel_run),
                spacing="4",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), width="100%", padding="4em"),
        ),
        title="Generate",
        subtitle="Make images from a JSON prompt: see the cost and the exact text sent first.",
    )

"""The prompt page's Edit tab: presets, lint with one-click fixes, the guided form, the save bar."""

from __future__ import annotations

import reflex as rx

from app.components.schema_form import schema_form
from app.state.editor import EditorState as S
from app.state.prompt_fields import PromptFieldsState as F
from app.state.prompt_presets import PromptPresetsState as P


def lint_panel() -> rx.Component:
    return rx.cond(
        S.issues,
        rx.card(
            rx.vstack(
                rx.text("Lint", weight="bold", size="2"),
                rx.foreach(
                    S.issues,
                    lambda i: rx.hstack(
                        rx.badge(
                            i["severity"].to(str),
                            color_scheme=rx.cond(i["severity"].to(str) == "error", "red", "amber"),
                            variant="soft",
                        ),
                        rx.code(i["path"].to(str), size="1"),
                        rx.text(i["message"].to(str), size="2"),
                        rx.spacer(),
                        rx.cond(
                            i["fix"].to(str) != "",
                            rx.button(
                                "Fix",
                                size="1",
                                variant="soft",
                                on_click=F.fix_issue(i["fix"].to(str)),
                            ),
                        ),
                        width="100%",
                        align="center",
                        class_name="lint-issue",
                    ),
                ),
                spacing="2",
                width="100%",
            ),
            width="100%",
        ),
    )


def save_preset_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(
                name="name",
                placeholder="Preset name",
                aria_label="Preset name",
                size="1",
                max_length=120,
            ),
            rx.el.select(
                *[
                    rx.el.option(label, value=value)
                    for value, label in [
                        ("style", "Style"),
                        ("lighting", "Lighting"),
                        ("camera", "Camera"),
                        ("composition", "Composition"),
                        ("mood", "Mood"),
                    ]
                ],
                name="category",
                aria_label="Preset category",
                class_name="native-select",
            ),
            rx.button("Save as my preset", size="1", variant="soft", type="submit"),
            spacing="2",
            align="center",
        ),
        on_submit=P.save_as_preset,
        reset_on_submit=True,
    )


def presets_panel() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.select.root(
                rx.select.trigger(placeholder="Apply a preset…", aria_label="Preset"),
                rx.select.content(
                    rx.foreach(P.presets, lambda p: rx.select.item(p["label"], value=p["id"]))
                ),
                value=P.preset_id,
                on_change=P.choose_preset,
            ),
            save_preset_form(),
            spacing="3",
            wrap="wrap",
            align="center",
        ),
        rx.cond(
            P.preset_changes,
            rx.card(
                rx.vstack(
                    rx.text("The preset would change:", weight="bold", size="2"),
                    rx.foreach(
                        P.preset_changes, lambda c: rx.text(c, size="1", font_family="monospace")
                    ),
                    rx.hstack(
                        rx.button("Apply preset", size="1", on_click=P.accept_preset),
                        rx.button("Cancel", size="1", variant="soft", on_click=P.cancel_preset),
                    ),
                    spacing="2",
                ),
                width="100%",
                aria_label="Preset preview",
            ),
        ),
        width="100%",
    )


def save_bar() -> rx.Component:
    return rx.vstack(
        rx.cond(
            S.conflict,
            rx.callout.root(
                rx.callout.text(
                    rx.text(
                        "Someone else saved version ",
                        S.conflict_version,
                        " while you edited. Your changes compared with theirs:",
                        weight="bold",
                    ),
                    rx.foreach(S.conflict, lambda c: rx.text(c, size="1", font_family="monospace")),
                    rx.hstack(
                        rx.button("Save mine on top", size="1", on_click=S.keep_mine),
                        rx.button("Take theirs", size="1", variant="soft", on_click=S.take_theirs),
                        spacing="2",
                        margin_top="0.5em",
                    ),
                ),
                color_scheme="amber",
                role="alert",
                width="100%",
            ),
        ),
        rx.hstack(
            rx.input(
                value=S.message,
                on_change=S.set_message,
                placeholder="What changed? (version message)",
                aria_label="Version message",
                width="100%",
            ),
            rx.button(rx.icon("save", size=14), "Save version", on_click=S.save, disabled=~S.dirty),
            width="100%",
            spacing="2",
        ),
        rx.cond(
            S.error_count > 0,
            rx.text(
                S.error_count,
                " field(s) need attention before saving.",
                color_scheme="red",
                size="2",
                role="status",
            ),
        ),
        width="100%",
        spacing="2",
        position="sticky",
        bottom="0",
        padding="0.75em",
        background_color=rx.color("gray", 2),
        border_top=f"1px solid {rx.color('gray', 5)}",
        z_index="5",
    )


def editor() -> rx.Component:
    return rx.cond(
        S.can_edit,
        rx.vstack(
            presets_panel(),
            lint_panel(),
            rx.tabs.root(
                rx.tabs.list(
                    rx.tabs.trigger("Form", value="form"), rx.tabs.trigger("JSON", value="raw")
                ),
                rx.tabs.content(schema_form(S, F), value="form", padding_top="0.75em"),
                rx.tabs.content(
                    rx.vstack(
                        rx.hstack(
                            rx.button("Format", size="1", variant="soft", on_click=F.format_raw),
                            rx.text(
                                "Canonical key order, 2-space indent.",
                                size="1",
                                color_scheme="gray",
                            ),
                            align="center",
                        ),
                        rx.text_area(
                            value=S.raw_text,
                            on_change=F.set_raw,
                            rows="18",
                            width="100%",
                            font_family="monospace",
                            aria_label="Raw JSON",
                            spell_check=False,
                        ),
                        rx.cond(
                            S.raw_error != "",
                            rx.text(S.raw_error, color_scheme="red", size="2", role="alert"),
                        ),
                        rx.code_block(
                            S.raw_text,
                            language="json",
                            show_line_numbers=True,
                            width="100%",
                            max_height="420px",
                            overflow="auto",
                        ),
                        spacing="2",
                        width="100%",
                    ),
                    value="raw",
                    padding_top="0.75em",
                ),
                default_value="form",
                width="100%",
            ),
            save_bar(),
            spacing="3",
            width="100%",
        ),
        rx.callout(
            "This prompt is read-only for you. Duplicate it to make your own editable copy.",
            icon="lock",
            width="100%",
        ),
    )

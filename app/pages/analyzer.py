"""`/`: the chat-style analyzer. Drop an image, watch the JSON prompt fill in, refine, save."""

from __future__ import annotations

import reflex as rx

from app.components.prompt_cards import json_view, prompt_cards
from app.components.shell import page_shell
from app.pages.landing import landing
from app.state.analyzer import MESSAGE_ID, UPLOAD_ID, AnalyzerState
from app.state.analyzer_chat import AnalyzerChatState
from app.state.analyzer_history import AnalyzerHistoryState
from app.state.analyzer_import import AnalyzerImportState as Imported
from app.state.analyzer_models import AnalyzerModelsState
from app.state.generate import GenerateState
from app.state.landing import LandingState
from app.state.session import SessionState

LOCAL_NOTICE = (
    "Measured offline: palette, light, composition, sharpness, faces, text and camera data. "
    "Subjects, style and mood are rule-based estimates; a vision model gives richer descriptions."
)


def dropzone(compact: bool) -> rx.Component:
    return rx.upload(
        rx.vstack(
            rx.icon("image-up", size=24 if compact else 40, color=rx.color("violet", 9)),
            rx.text(
                "Drop a new image, paste one, or click to choose"
                if compact
                else "Drop an image, paste one, or click to choose",
                weight="medium",
                size="2" if compact else "4",
            ),
            *(
                []
                if compact
                else [
                    rx.text(
                        "JPG, PNG, WebP or GIF · the JSON prompt streams in field by field",
                        size="2",
                        color_scheme="gray",
                    )
                ]
            ),
            align="center",
            spacing="1" if compact else "2",
        ),
        id=UPLOAD_ID,
        multiple=False,
        max_files=1,
        # The text typed so far goes with the drop: the box sends it to the state only after
        # a pause in typing, so a quick drop would otherwise arrive before it.
        on_drop=AnalyzerChatState.handle_upload(
            rx.upload_files(upload_id=UPLOAD_ID),
            typed=rx.Var(f"(document.getElementById('{MESSAGE_ID}')?.value ?? '')").to(str),
        ),
        border=f"2px dashed {rx.color('violet', 7)}",
        border_radius="14px",
        padding="1em" if compact else "3em 1em",
        width="100%",
        cursor="pointer",
        background_color=rx.color("violet", 2),
        aria_label="Upload an image to analyze",
    )


def user_bubble(turn: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.spacer(),
        rx.card(
            rx.vstack(
                rx.cond(
                    turn["image_url"].to(str) != "",
                    rx.image(
                        src=turn["image_url"].to(str),
                        alt=turn["text"].to(str),
                        max_height="260px",
                        border_radius="8px",
                    ),
                ),
                rx.text(turn["text"], size="2"),
                rx.cond(
                    turn["size"].to(str) != "", rx.text(turn["size"], size="1", color_scheme="gray")
                ),
                spacing="2",
                align="end",
            ),
            max_width="75%",
            background_color=rx.color("violet", 3),
            class_name="user-turn",
        ),
        width="100%",
    )


def assistant_bubble(turn: rx.Var) -> rx.Component:
    streaming = turn["status"].to(str) == "streaming"
    done = turn["status"].to(str) == "done"
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("sparkles", size=16, color=rx.color("violet", 10)),
                rx.text("JSONCraft", weight="bold", size="2"),
                rx.code(turn["model"], size="1", variant="soft"),
                rx.cond(
                    streaming,
                    rx.hstack(
                        rx.spinner(size="1"),
                        rx.text("writing…", size="1", color_scheme="gray"),
                        align="center",
                        spacing="1",
                    ),
                ),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            rx.cond(
                turn["examples"].to(list).length() > 0,  # type: ignore[attr-defined]
                rx.text(
                    "Style memory examples: ",
                    rx.foreach(
                        turn["examples"].to(list[str]),
                        lambda t: rx.badge(t, variant="soft", margin_right="4px"),
                    ),
                    size="1",
                    color_scheme="gray",
                ),
            ),
            rx.cond(
                turn["reasoning"].to(str) != "",
                rx.el.details(
                    rx.el.summary("Reasoning"),
                    rx.el.pre(turn["reasoning"]),
                    class_name="reasoning",
                    open=streaming,
                ),
            ),
            rx.cond(
                turn["changes"].to(list).length() > 0,  # type: ignore[attr-defined]
                rx.box(
                    rx.text("Changes", weight="bold", size="2"),
                    rx.foreach(
                        turn["changes"].to(list[str]),
                        lambda c: rx.text(
                            c, size="1", font_family="monospace", class_name="diff-line"
                        ),
                    ),
                    padding="0.5em",
                    border_radius="8px",
                    background_color=rx.color("amber", 2),
                    width="100%",
                    aria_label="Changes",
                ),
            ),
            rx.cond(
                turn["cards"].to(list).length() > 0,  # type: ignore[attr-defined]
                rx.tabs.root(
                    rx.tabs.list(
                        rx.tabs.trigger("Cards", value="cards"),
                        rx.tabs.trigger("JSON", value="json"),
                    ),
                    rx.tabs.content(
                        prompt_cards(turn["cards"].to(list[dict])),
                        value="cards",
                        padding_top="0.75em",
                    ),
                    rx.tabs.content(
                        json_view(turn["json"].to(str)), value="json", padding_top="0.75em"
                    ),
                    default_value="cards",
                    width="100%",
                ),
            ),
            rx.cond(
                turn["error"].to(str) != "",
                rx.callout(
                    turn["error"],
                    icon="triangle-alert",
                    color_scheme="red",
                    role="alert",
                    width="100%",
                ),
            ),
            rx.cond(
                done & turn["model"].to(str).contains("local/"),  # type: ignore[attr-defined]
                rx.text(LOCAL_NOTICE, size="1", color_scheme="gray"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        class_name="assistant-turn",
    )


def embedded_details() -> rx.Component:
    """A dropped image JSONCraft generated: how it was made, restore its prompt or analyse."""
    return rx.cond(
        Imported.shows_embedded,
        rx.callout.root(
            rx.callout.icon(rx.icon("sparkles")),
            rx.vstack(
                rx.callout.text(Imported.embedded["summary"].to(str), weight="bold"),
                rx.cond(
                    Imported.embedded["can_restore"].to(bool),
                    rx.callout.text(
                        "It carries the JSON prompt it was made from: restore it exactly, "
                        "with no analysis and no credits, or analyze the image anyway.",
                        size="2",
                    ),
                    rx.callout.text(Imported.embedded["note"].to(str), size="2"),
                ),
                rx.hstack(
                    rx.cond(
                        Imported.embedded["can_restore"].to(bool),
                        rx.button(
                            rx.icon("history", size=14),
                            "Restore its JSON prompt",
                            size="2",
                            on_click=Imported.restore_prompt,
                        ),
                    ),
                    rx.button(
                        "Analyze it anyway",
                        size="2",
                        variant="soft",
                        on_click=Imported.analyze_anyway,
                    ),
                    spacing="2",
                    wrap="wrap",
                ),
                spacing="2",
            ),
            color_scheme="violet",
            width="100%",
            role="status",
        ),
    )


def turn_view(turn: rx.Var) -> rx.Component:
    return rx.cond(turn["role"].to(str) == "user", user_bubble(turn), assistant_bubble(turn))


def actions() -> rx.Component:
    return rx.hstack(
        rx.button(
            rx.icon("copy", size=14),
            "Copy JSON",
            variant="soft",
            on_click=AnalyzerChatState.copy_json,
            disabled=~AnalyzerState.has_prompt,
        ),
        rx.button(
            rx.icon("bookmark-plus", size=14),
            "Save to gallery",
            on_click=AnalyzerHistoryState.save,
            disabled=~AnalyzerState.has_prompt | AnalyzerState.streaming,
        ),
        rx.button(
            rx.icon("wand-sparkles", size=14),
            "Generate",
            variant="soft",
            on_click=GenerateState.open_from_conversation(AnalyzerState.conversation_id),
            disabled=~AnalyzerState.has_prompt | AnalyzerState.streaming,
        ),
        rx.button(
            rx.icon("rotate-ccw", size=14),
            "Retry",
            variant="soft",
            color_scheme="gray",
            on_click=AnalyzerChatState.retry,
            disabled=AnalyzerState.streaming | (AnalyzerState.conversation_id == 0),
        ),
        spacing="2",
        wrap="wrap",
    )


def model_picker() -> rx.Component:
    return rx.hstack(
        rx.input(
            rx.input.slot(rx.icon("search", size=14)),
            value=AnalyzerModelsState.model_query,
            on_change=AnalyzerModelsState.search_models,
            debounce_timeout=250,
            placeholder="Search models",
            aria_label="Search by name or vendor",
            type="search",
            max_length=100,
            width="180px",
            size="2",
        ),
        rx.select.root(
            rx.select.trigger(aria_label="Model", min_width="220px", max_width="100%"),
            rx.select.content(
                rx.foreach(
                    AnalyzerModelsState.models,
                    lambda m: rx.select.item(
                        m["name"].to(str) + " · " + m["cost"].to(str) + " · " + m["caps"].to(str),
                        value=m["id"].to(str),
                        disabled=~m["available"].to(bool),
                    ),
                ),
                rx.cond(
                    AnalyzerModelsState.models_more,
                    rx.text(
                        "More models match: type in the search box to narrow the list.",
                        size="1",
                        color_scheme="gray",
                        padding="0.5em",
                    ),
                ),
            ),
            value=AnalyzerModelsState.model_id,
            on_change=AnalyzerModelsState.set_model,
            size="2",
        ),
        rx.badge(
            rx.icon("coins", size=12),
            rx.text("Cost: ", AnalyzerModelsState.selected_model["cost"].to(str)),
            variant="soft",
            color_scheme="green",
            aria_label="Cost per request",
        ),
        rx.hstack(
            rx.switch(
                checked=AnalyzerModelsState.use_memory,
                on_change=AnalyzerModelsState.set_use_memory,
                id="memory-switch",
                aria_label="Style memory",
            ),
            rx.el.label(rx.text("Style memory", size="2"), html_for="memory-switch"),
            align="center",
            spacing="1",
        ),
        spacing="3",
        align="center",
        wrap="wrap",
        width="100%",  # so a long model name in the trigger is cut, not pushed off-screen
    )


def composer() -> rx.Component:
    return rx.vstack(
        model_picker(),
        rx.form(
            rx.hstack(
                rx.input(
                    id=MESSAGE_ID,
                    name="message",
                    value=AnalyzerState.message,
                    on_change=AnalyzerChatState.set_message,
                    placeholder="Refine it: make it night, remove the boat, 35mm film look…",
                    aria_label="Message",
                    width="100%",
                    size="3",
                    max_length=2000,
                ),
                rx.cond(
                    AnalyzerState.streaming,
                    rx.button(
                        rx.icon("square", size=14),
                        "Stop",
                        type="button",
                        color_scheme="red",
                        size="3",
                        on_click=AnalyzerChatState.stop,
                    ),
                    rx.button(rx.icon("send", size=14), "Send", type="submit", size="3"),
                ),
                width="100%",
                spacing="2",
            ),
            on_submit=AnalyzerChatState.send_message,
            reset_on_submit=False,
            width="100%",
        ),
        rx.text(
            AnalyzerModelsState.selected_model["description"].to(str), size="1", color_scheme="gray"
        ),
        spacing="2",
        width="100%",
    )


def history_panel() -> rx.Component:
    return rx.vstack(
        rx.button(
            rx.icon("plus", size=14),
            "New chat",
            variant="soft",
            width="100%",
            on_click=AnalyzerHistoryState.new_chat,
        ),
        rx.text("History", size="1", weight="bold", color_scheme="gray", margin_top="0.5em"),
        rx.cond(
            AnalyzerState.history,
            rx.foreach(
                AnalyzerState.history,
                lambda c: rx.button(
                    rx.vstack(
                        rx.text(c["title"], size="2", class_name="truncate"),
                        rx.text(c["when"], size="1", color_scheme="gray"),
                        spacing="0",
                        align="start",
                        width="100%",
                    ),
                    variant="ghost",
                    color_scheme="gray",
                    width="100%",
                    height="auto",
                    padding="0.4em",
                    justify="start",
                    on_click=AnalyzerHistoryState.open_conversation(c["id"].to(int)),
                ),
            ),
            rx.text("Your analyses appear here.", size="1", color_scheme="gray"),
        ),
        width="220px",
        min_width="220px",
        spacing="1",
        class_name="hide-narrow",
        aria_label="Conversation history",
    )


def analyzer_page() -> rx.Component:
    """Signed in: the analyzer. Signed out: the landing page (a spinner until we know which)."""
    return page_shell(
        rx.cond(
            SessionState.signed_in,
            analyzer(),
            rx.cond(
                LandingState.visitor,
                landing(),
                rx.center(rx.spinner(size="3"), width="100%", padding="4em"),
            ),
        ),
        rx.script(src="/paste.js"),
    )


def analyzer() -> rx.Component:
    return rx.fragment(
        rx.hstack(
            history_panel(),
            rx.vstack(
                rx.cond(
                    AnalyzerState.turns,
                    rx.vstack(
                        rx.foreach(AnalyzerState.turns, turn_view),
                        spacing="3",
                        width="100%",
                        class_name="chat-thread",
                    ),
                    rx.vstack(
                        rx.heading("Turn an image into a JSON prompt", size="7", as_="h1"),
                        rx.text(
                            "Drop a photo and watch a structured, editable prompt fill in, "
                            "with the reasoning beside it.",
                            color_scheme="gray",
                        ),
                        spacing="2",
                    ),
                ),
                rx.cond(
                    AnalyzerState.upload_error,
                    rx.callout(
                        AnalyzerState.upload_error,
                        icon="triangle-alert",
                        color_scheme="red",
                        role="alert",
                        width="100%",
                    ),
                ),
                embedded_details(),
                rx.cond(AnalyzerState.turns, actions()),
                rx.cond(AnalyzerState.turns, dropzone(compact=True), dropzone(compact=False)),
                composer(),
                spacing="4",
                width="100%",
                min_width="0",
            ),
            spacing="5",
            align="start",
            width="100%",
        ),
    )

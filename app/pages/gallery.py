"""`/gallery`: find prompts fast — search, filters, grid or list, bulk actions, trash, bundles."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.shell import empty_state, page_shell
from app.state.gallery import GalleryState as G
from app.state.gallery_bulk import IMPORT_ID
from app.state.gallery_bulk import GalleryBulkState as B
from app.state.saved_filters import SavedFiltersState as Saved


def _checkbox(card: rx.Var) -> rx.Component:
    return rx.checkbox(
        checked=G.selected.contains(card["id"].to(int)),
        on_change=lambda _v: B.toggle_select(card["id"].to(int)),
        aria_label="Select " + card["title"].to(str),
    )


def _tags(card: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.foreach(
            card["tags"].to(list[str]), lambda t: rx.badge(t, variant="soft", radius="full")
        ),
        spacing="1",
        wrap="wrap",
    )


def _title_link(card: rx.Var, size: str = "3") -> rx.Component:
    return rx.link(
        rx.heading(card["title"], size=size, as_="h3"),
        href=routes.PROMPT_PREFIX + card["id"].to(str),
        color_scheme="gray",
        high_contrast=True,
    )


def _made_by(card: rx.Var) -> rx.Component:
    """Which model made the card: generated images and analysed prompts look different."""
    generated = card["origin"].to(str) == "generated"
    return rx.badge(
        rx.icon(rx.cond(generated, "sparkles", "scan-search"), size=12),
        card["made_by"].to(str),
        color_scheme=rx.cond(generated, "violet", "gray"),
        variant="soft",
        size="1",
        class_name="made-by truncate",
        max_width="100%",
    )


def prompt_card(card: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.box(
                rx.link(
                    rx.image(
                        src=card["thumbnail_url"],
                        alt=card["title"],
                        width="100%",
                        height="180px",
                        object_fit="cover",
                        border_radius="8px",
                        loading="lazy",
                    ),
                    href=routes.PROMPT_PREFIX + card["id"].to(str),
                    tab_index=-1,
                ),
                rx.box(
                    _checkbox(card),
                    position="absolute",
                    top="8px",
                    left="8px",
                    background_color=rx.color("gray", 1),
                    border_radius="6px",
                    padding="3px",
                    line_height="0",
                ),
                rx.cond(
                    card["favorite"].to(bool),
                    rx.box(
                        rx.icon("heart", size=16, fill="currentColor", color=rx.color("pink", 9)),
                        position="absolute",
                        top="8px",
                        right="8px",
                    ),
                ),
                position="relative",
                width="100%",
            ),
            _title_link(card),
            _tags(card),
            rx.text(
                card["author"].to(str) + " · " + card["created"].to(str),
                size="1",
                color_scheme="gray",
                class_name="truncate",
            ),
            _made_by(card),
            spacing="2",
        ),
        class_name="prompt-card",
    )


def prompt_row(card: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(_checkbox(card)),
        rx.table.cell(
            rx.image(
                src=card["thumbnail_url"],
                alt="",
                width="56px",
                height="42px",
                object_fit="cover",
                border_radius="6px",
            )
        ),
        rx.table.cell(_title_link(card, "2")),
        rx.table.cell(_tags(card), class_name="hide-narrow"),
        rx.table.cell(_made_by(card), class_name="hide-narrow"),
        rx.table.cell(card["created"], class_name="hide-narrow"),
        class_name="prompt-card",
        align="center",
    )


def filter_bar() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.hstack(
                rx.input(
                    name="text",
                    placeholder="Search prompts: words, colours, styles…",
                    aria_label="Search",
                    value=G.filters["text"].to(str),
                    on_change=lambda v: G.set_filter("text", v),
                    width="100%",
                    size="3",
                    max_length=500,
                ),
                rx.button(rx.icon("search", size=16), "Search", type="submit", size="3"),
                width="100%",
                spacing="2",
            ),
            rx.hstack(
                rx.input(
                    name="tags",
                    placeholder="tags, comma separated",
                    aria_label="Filter by tags",
                    size="1",
                    value=G.filters["tags"].to(str),
                    on_change=lambda v: G.set_filter("tags", v),
                ),
                rx.input(
                    name="model",
                    placeholder="model",
                    aria_label="Filter by model",
                    size="1",
                    value=G.filters["model"].to(str),
                    on_change=lambda v: G.set_filter("model", v),
                    list="gallery-models",
                ),
                rx.el.datalist(
                    rx.foreach(
                        G.model_choices,
                        lambda m: rx.el.option(m["label"].to(str), value=m["id"].to(str)),
                    ),
                    id="gallery-models",
                ),
                rx.input(
                    name="style",
                    placeholder="style",
                    aria_label="Filter by style",
                    size="1",
                    value=G.filters["style"].to(str),
                    on_change=lambda v: G.set_filter("style", v),
                ),
                rx.el.select(
                    rx.el.option("All prompts", value=""),
                    rx.el.option("Analyzed", value="analyzed"),
                    rx.el.option("Generated", value="generated"),
                    name="origin",
                    aria_label="Origin",
                    value=G.filters["origin"].to(str),
                    on_change=G.filter_origin,
                    class_name="native-select",
                ),
                rx.el.select(
                    rx.el.option("Everyone's", value=""),
                    rx.el.option("Mine", value="me"),
                    rx.el.option("Public", value="public"),
                    name="owner",
                    aria_label="Owner",
                    value=G.filters["owner"].to(str),
                    on_change=lambda v: G.set_filter("owner", v),
                    class_name="native-select",
                ),
                rx.input(
                    name="date_from",
                    type="date",
                    aria_label="From date",
                    size="1",
                    value=G.filters["date_from"].to(str),
                    on_change=lambda v: G.set_filter("date_from", v),
                ),
                rx.input(
                    name="date_to",
                    type="date",
                    aria_label="To date",
                    size="1",
                    value=G.filters["date_to"].to(str),
                    on_change=lambda v: G.set_filter("date_to", v),
                ),
                rx.el.label(
                    rx.hstack(
                        rx.checkbox(
                            name="favorites",
                            checked=G.filters["favorites"].to(str) == "on",
                            on_change=lambda v: G.set_filter("favorites", v),
                        ),
                        rx.text("Favourites", size="1"),
                        spacing="1",
                        align="center",
                    )
                ),
                rx.button(
                    "Clear", type="button", size="1", variant="ghost", on_click=G.clear_filters
                ),
                spacing="2",
                wrap="wrap",
                align="center",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=G.apply_filters,
        width="100%",
    )


def toolbar() -> rx.Component:
    return rx.hstack(
        rx.segmented_control.root(
            rx.segmented_control.item(rx.icon("layout-grid", size=14), value="grid"),
            rx.segmented_control.item(rx.icon("list", size=14), value="list"),
            value=G.view,
            on_change=G.set_view,
            size="1",
            aria_label="View",
        ),
        rx.cond(
            Saved.saved,
            rx.select.root(
                rx.select.trigger(placeholder="Saved filters", aria_label="Saved filters"),
                rx.select.content(
                    rx.foreach(
                        Saved.saved,
                        lambda f: rx.select.item(f["name"].to(str), value=f["id"].to(str)),
                    )
                ),
                on_change=lambda v: Saved.apply_saved(v.to(int)),
                size="1",
            ),
        ),
        rx.cond(
            G.signed_in,
            rx.form(
                rx.hstack(
                    rx.input(
                        name="name",
                        placeholder="Name this filter",
                        aria_label="Filter name",
                        size="1",
                        max_length=120,
                    ),
                    rx.button("Save filter", size="1", variant="soft", type="submit"),
                    spacing="1",
                ),
                on_submit=Saved.save_current_filter,
                reset_on_submit=True,
            ),
        ),
        rx.spacer(),
        rx.cond(
            G.signed_in,
            rx.hstack(
                rx.button(
                    rx.cond(G.in_trash, "Back to gallery", "Trash"),
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=G.show_trash(~G.in_trash),
                ),
                rx.upload(
                    rx.button(
                        rx.icon("package-open", size=14), "Import bundle", size="1", variant="soft"
                    ),
                    id=IMPORT_ID,
                    accept={"application/zip": [".zip"]},
                    max_files=1,
                    on_drop=B.import_bundle(rx.upload_files(upload_id=IMPORT_ID)),
                    no_drag=True,
                    border="none",
                    padding="0",
                ),
                spacing="2",
            ),
        ),
        width="100%",
        align="center",
        wrap="wrap",
        spacing="2",
    )


def bulk_bar() -> rx.Component:
    return rx.cond(
        G.selection_count > 0,
        rx.card(
            rx.hstack(
                rx.text(G.selection_count, " selected", weight="bold", size="2"),
                rx.form(
                    rx.hstack(
                        rx.input(
                            name="tag",
                            placeholder="tag",
                            aria_label="Bulk tag",
                            size="1",
                            max_length=64,
                        ),
                        rx.el.select(
                            rx.el.option("Add tag", value="add"),
                            rx.el.option("Remove tag", value="remove"),
                            name="action",
                            aria_label="Tag action",
                            class_name="native-select",
                        ),
                        rx.button("Apply", size="1", type="submit", variant="soft"),
                        spacing="1",
                        align="center",
                    ),
                    on_submit=B.bulk_tag,
                    reset_on_submit=True,
                ),
                rx.cond(
                    G.in_trash,
                    rx.button(
                        rx.icon("undo-2", size=14), "Restore", size="1", on_click=B.bulk_restore
                    ),
                    rx.button(
                        rx.icon("trash-2", size=14),
                        "Move to trash",
                        size="1",
                        color_scheme="red",
                        variant="soft",
                        on_click=B.bulk_trash,
                    ),
                ),
                rx.button(
                    rx.icon("archive", size=14),
                    "Export zip",
                    size="1",
                    variant="soft",
                    on_click=B.bulk_export,
                ),
                rx.button("Clear selection", size="1", variant="ghost", on_click=B.clear_selection),
                spacing="3",
                wrap="wrap",
                align="center",
            ),
            width="100%",
            aria_label="Bulk actions",
        ),
    )


def import_report() -> rx.Component:
    return rx.cond(
        G.import_report.contains("ok"),
        rx.callout.root(
            rx.callout.text(
                rx.cond(
                    G.import_report["ok"].to(bool),
                    rx.text(
                        "Imported ",
                        G.import_report["imported"].to(str),
                        " prompt(s), skipped ",
                        G.import_report["skipped_duplicates"].to(str),
                        " duplicate(s).",
                    ),
                    rx.vstack(
                        rx.text(
                            "Nothing was imported. ",
                            G.import_report["message"].to(str),
                            weight="bold",
                        ),
                        rx.foreach(
                            G.import_report["errors"].to(list[dict[str, str]]),
                            lambda e: rx.text(
                                "Item ",
                                e["index"].to(str),
                                " (",
                                e["title"].to(str),
                                "): ",
                                e["message"].to(str),
                                size="1",
                            ),
                        ),
                        spacing="1",
                    ),
                ),
            ),
            color_scheme=rx.cond(G.import_report["ok"].to(bool), "green", "red"),
            role="alert",
            width="100%",
        ),
    )


def results() -> rx.Component:
    return rx.cond(
        G.cards,
        rx.cond(
            G.view == "grid",
            rx.grid(
                rx.foreach(G.cards, prompt_card),
                columns=rx.breakpoints(initial="1", xs="2", md="3", lg="4"),
                spacing="4",
                width="100%",
            ),
            rx.table.root(
                rx.table.body(rx.foreach(G.cards, prompt_row)), variant="surface", width="100%"
            ),
        ),
        rx.cond(
            G.loading,
            rx.center(rx.spinner(size="3"), padding="3em", width="100%"),
            rx.cond(
                G.in_trash,
                empty_state(
                    "trash-2",
                    "The trash is empty",
                    "Prompts you delete wait here until they are purged.",
                ),
                empty_state(
                    "search-x",
                    "No prompts match",
                    "Try fewer filters or other words. Public prompts and your own appear here.",
                ),
            ),
        ),
    )


def gallery_page() -> rx.Component:
    return page_shell(
        filter_bar(),
        toolbar(),
        import_report(),
        bulk_bar(),
        rx.cond(
            G.error, rx.callout(G.error, icon="triangle-alert", color_scheme="red", role="alert")
        ),
        results(),
        rx.cond(
            G.next_cursor,
            rx.center(
                rx.button(
                    "Load more",
                    id="load-more",
                    on_click=G.load_more,
                    loading=G.loading,
                    variant="soft",
                ),
                width="100%",
            ),
        ),
        rx.script(src="/infinite.js"),
        title=rx.cond(G.in_trash, "Trash", "Gallery"),
        subtitle="JSON prompts with their images: public examples and your own.",
    )

"""`/prompts/[prompt_id]`: details, guided editor, history with diffs, exports."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.components.prompt_cards import json_view, prompt_cards
from app.components.prompt_editor import editor
from app.components.shell import empty_state, link_button, page_shell
from app.pages.prompt_round_trip import generated_versions, made_from
from app.state.editor import EditorState as S
from app.state.prompt_exports import PromptExportsState as X
from app.state.prompt_meta import PromptMetaState as M
from app.state.prompt_round_trip import PromptRoundTripState as R
from app.state.prompt_tools import PromptToolsState as T
from app.state.prompt_versions import PromptVersionsState as V

# The prompt id in the address, read in the browser: it changes the moment a link is followed,
# before the server has loaded that prompt (S.loaded_route tells which one it has).
ROUTE_PROMPT_ID = rx.Var(
    "(promptRouteParams?.prompt_id ?? '')",
    _var_data=rx.vars.VarData(
        imports={"react-router": "useParams"},
        hooks={"const promptRouteParams = useParams();": None},
    ),
).to(str)

EXPORTS = [
    ("json", "Canonical JSON"),
    ("flux2", "FLUX.2 JSON"),
    ("prose", "Prose"),
    ("curl", "cURL"),
    ("python", "Python"),
]


def stars() -> rx.Component:
    return rx.hstack(
        *[
            rx.icon_button(
                rx.icon("star", size=16, fill=rx.cond(S.rating >= n, "currentColor", "none")),
                variant="ghost",
                color_scheme="amber",
                size="1",
                aria_label=f"Rate {n} star{'s' if n > 1 else ''}",
                on_click=M.rate(n),
                disabled=~S.can_manage,
            )
            for n in range(1, 6)
        ],
        spacing="0",
    )


def header() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(S.title, size="7", as_="h1"),
            rx.badge(S.visibility, variant="soft"),
            rx.badge("v", S.version, variant="outline"),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        rx.hstack(
            rx.icon_button(
                rx.icon("heart", size=16, fill=rx.cond(S.favorite, "currentColor", "none")),
                variant="soft",
                color_scheme="pink",
                aria_label=rx.cond(S.favorite, "Remove from favourites", "Add to favourites"),
                on_click=M.toggle_favorite,
                disabled=~S.can_manage,
            ),
            stars(),
            rx.button(
                rx.icon("copy-plus", size=14), "Duplicate", variant="soft", on_click=M.duplicate
            ),
            rx.button(
                rx.icon("download", size=14),
                "Download JSON",
                variant="soft",
                on_click=X.download_json,
            ),
            rx.button(
                rx.link(
                    rx.icon("wand-sparkles", size=14),
                    "Generate",
                    href=routes.GENERATE
                    + "?prompt="
                    + S.pid.to(str)
                    + "&version="
                    + S.version.to(str),
                    underline="none",
                ),
                as_child=True,
                variant="soft",
            ),
            rx.cond(
                S.download_url != "",
                rx.link(
                    rx.button(rx.icon("image-down", size=14), "Download image", variant="soft"),
                    href=S.download_url,
                    is_external=True,
                ),
            ),
            spacing="2",
            wrap="wrap",
            align="center",
        ),
        spacing="2",
        width="100%",
    )


def tags_row() -> rx.Component:
    return rx.hstack(
        rx.foreach(
            S.tags,
            lambda t: rx.badge(
                t,
                rx.cond(
                    S.can_edit,
                    rx.icon(
                        "x",
                        size=12,
                        cursor="pointer",
                        on_click=M.remove_tag(t),
                        aria_label=f"Remove tag {t}",
                    ),
                ),
                variant="soft",
                radius="full",
            ),
        ),
        rx.cond(
            S.can_edit,
            rx.form(
                rx.hstack(
                    rx.input(
                        name="tag",
                        placeholder="Add a tag",
                        aria_label="New tag",
                        size="1",
                        max_length=64,
                    ),
                    rx.button("Add", size="1", variant="soft", type="submit"),
                ),
                on_submit=M.add_tag,
                reset_on_submit=True,
            ),
        ),
        wrap="wrap",
        spacing="2",
        align="center",
    )


def similar_prompts() -> rx.Component:
    return rx.cond(
        T.similar,
        rx.vstack(
            rx.text("Similar prompts", weight="bold", size="2"),
            rx.grid(
                rx.foreach(
                    T.similar,
                    lambda c: rx.link(
                        rx.vstack(
                            rx.image(
                                src=c["thumbnail_url"].to(str),
                                alt="",
                                width="100%",
                                height="70px",
                                object_fit="cover",
                                border_radius="6px",
                            ),
                            rx.text(c["title"], size="1", class_name="truncate"),
                            spacing="1",
                        ),
                        href=routes.PROMPT_PREFIX + c["id"].to(str),
                        underline="none",
                    ),
                ),
                columns="4",
                spacing="2",
                width="100%",
            ),
            spacing="2",
            width="100%",
            aria_label="Similar prompts",
        ),
        rx.cond(
            T.similar_notice,
            rx.text(T.similar_notice, role="status", color_scheme="gray", size="1"),
        ),
    )


def overview() -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.cond(
                S.image_url != "",
                rx.image(src=S.image_url, alt=S.title, width="100%", border_radius="10px"),
            ),
            tags_row(),
            made_from(),
            rx.cond(
                (S.model != "") & ~R.is_generated,  # a generated image says so above
                rx.text("Made with ", rx.code(S.model), size="2", color_scheme="gray"),
            ),
            rx.cond(
                S.can_manage,
                rx.card(
                    rx.vstack(
                        rx.hstack(
                            rx.text("Visibility", size="2", weight="medium"),
                            rx.select.root(
                                rx.select.trigger(aria_label="Visibility"),
                                rx.select.content(
                                    rx.select.item("private", value="private"),
                                    rx.select.item("public", value="public"),
                                ),
                                value=S.visibility,
                                on_change=M.set_visibility,
                                size="1",
                            ),
                            align="center",
                            spacing="2",
                        ),
                        rx.cond(
                            S.share_token != "",
                            rx.vstack(
                                rx.text("Read-only link:", size="1", color_scheme="gray"),
                                rx.code(
                                    routes.SHARE_PREFIX + S.share_token,
                                    size="1",
                                    class_name="share-link",
                                ),
                                rx.button(
                                    "Revoke link",
                                    size="1",
                                    variant="soft",
                                    color_scheme="red",
                                    on_click=M.unshare,
                                ),
                                spacing="1",
                            ),
                            rx.button(
                                rx.icon("link", size=14),
                                "Create share link",
                                size="1",
                                variant="soft",
                                on_click=M.share,
                            ),
                        ),
                        spacing="2",
                    ),
                    width="100%",
                ),
            ),
            rx.cond(
                S.reasoning != "",
                rx.el.details(
                    rx.el.summary("Reasoning (replay)"),
                    rx.el.pre(S.reasoning),
                    class_name="reasoning",
                ),
            ),
            generated_versions(),
            similar_prompts(),
            width=rx.breakpoints(initial="100%", md="40%"),
            spacing="3",
        ),
        rx.box(prompt_cards(S.preview), width=rx.breakpoints(initial="100%", md="60%")),
        direction=rx.breakpoints(initial="column", md="row"),
        spacing="4",
        width="100%",
    )


def history() -> rx.Component:
    version_items = rx.foreach(
        S.versions, lambda v: rx.select.item("v" + v["number"].to(str), value=v["number"].to(str))
    )
    return rx.vstack(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Version"),
                    rx.table.column_header_cell("Message"),
                    rx.table.column_header_cell("Author"),
                    rx.table.column_header_cell("When"),
                    rx.table.column_header_cell(""),
                )
            ),
            rx.table.body(
                rx.foreach(
                    S.versions,
                    lambda v: rx.table.row(
                        rx.table.cell("v", v["number"]),
                        rx.table.cell(v["message"]),
                        rx.table.cell(v["author"]),
                        rx.table.cell(v["when"]),
                        rx.table.cell(
                            rx.cond(
                                v["current"].to(bool),
                                rx.badge("current"),
                                rx.cond(
                                    S.can_edit,
                                    rx.button(
                                        "Revert",
                                        size="1",
                                        variant="soft",
                                        on_click=V.revert_to(v["number"].to(int)),
                                    ),
                                ),
                            )
                        ),
                    ),
                )
            ),
            variant="surface",
            width="100%",
        ),
        rx.hstack(
            rx.select.root(
                rx.select.trigger(placeholder="From", aria_label="Compare from"),
                rx.select.content(version_items),
                value=V.diff_a,
                on_change=V.set_diff_a,
            ),
            rx.select.root(
                rx.select.trigger(placeholder="To", aria_label="Compare to"),
                rx.select.content(version_items),
                value=V.diff_b,
                on_change=V.set_diff_b,
            ),
            rx.button("Compare", on_click=V.compare, variant="soft"),
            spacing="2",
            align="center",
        ),
        rx.cond(
            V.diff_rows,
            rx.vstack(
                rx.text("Changed paths", weight="bold", size="2"),
                rx.foreach(
                    V.diff_rows,
                    lambda r: rx.hstack(
                        rx.badge(
                            r["op"],
                            color_scheme=rx.match(
                                r["op"], ("added", "green"), ("removed", "red"), "amber"
                            ),
                            variant="soft",
                        ),
                        rx.code(r["path"], size="1"),
                        rx.text(r["old"], size="1", color_scheme="red", class_name="diff-old"),
                        rx.text("→", size="1"),
                        rx.text(r["new"], size="1", color_scheme="green", class_name="diff-new"),
                        wrap="wrap",
                        align="center",
                        class_name="diff-row",
                    ),
                ),
                rx.grid(
                    json_view(V.side_a),
                    json_view(V.side_b),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="3",
                    width="100%",
                    aria_label="Side by side",
                ),
                spacing="2",
                width="100%",
                aria_label="Diff",
            ),
        ),
        spacing="3",
        width="100%",
    )


def exports() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            *[
                rx.button(label, variant="soft", on_click=X.show_export(kind))
                for kind, label in EXPORTS
            ],
            wrap="wrap",
            spacing="2",
        ),
        rx.cond(
            X.export_text != "",
            rx.vstack(
                rx.hstack(
                    rx.text(X.export_title, weight="bold"),
                    rx.button(
                        rx.icon("copy", size=14),
                        "Copy",
                        size="1",
                        variant="soft",
                        on_click=X.copy_export,
                    ),
                    align="center",
                    spacing="3",
                ),
                json_view(X.export_text),
                width="100%",
                spacing="2",
            ),
        ),
        spacing="3",
        width="100%",
    )


def loading() -> rx.Component:
    """Stands in for the prompt until the one in the address is loaded: never the previous one."""
    return rx.vstack(
        rx.hstack(
            rx.spinner(size="3"),
            rx.text("Loading the prompt…", color_scheme="gray"),
            align="center",
            spacing="2",
        ),
        rx.skeleton(height="2.5em", width="min(420px, 100%)"),
        rx.skeleton(height="2em", width="min(560px, 100%)"),
        rx.skeleton(height="16em", width="100%"),
        spacing="4",
        width="100%",
        role="status",
        aria_busy="true",
        class_name="prompt-loading",
    )


def prompt_page() -> rx.Component:
    return page_shell(
        rx.cond(
            S.loaded_route != ROUTE_PROMPT_ID,
            loading(),
            prompt_body(),
        ),
    )


def prompt_body() -> rx.Component:
    return rx.fragment(
        rx.cond(
            S.not_found != "",
            empty_state(
                "file-question",
                "Prompt not available",
                S.not_found,
                link_button("Open the gallery", routes.GALLERY),
            ),
            rx.vstack(
                header(),
                rx.tabs.root(
                    rx.tabs.list(
                        rx.tabs.trigger("Overview", value="overview"),
                        rx.tabs.trigger("Edit", value="edit"),
                        rx.tabs.trigger("History", value="history"),
                        rx.tabs.trigger("Export", value="export"),
                    ),
                    rx.tabs.content(overview(), value="overview", padding_top="1em"),
                    rx.tabs.content(editor(), value="edit", padding_top="1em"),
                    rx.tabs.content(history(), value="history", padding_top="1em"),
                    rx.tabs.content(exports(), value="export", padding_top="1em"),
                    default_value="overview",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
        ),
    )

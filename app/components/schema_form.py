"""The guided prompt form, generated from the JSON Schema at compile time.

Each input reads its string value from the editor state and sends edits back by path to the
fields state, which coerces types by the schema and validates on every change.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.state.prompt_form import FormField, FormGroup, form_groups


def _error(state: Any, key: str | rx.Var) -> rx.Component:
    return rx.cond(
        state.errors.contains(key),
        rx.text(state.errors[key], color_scheme="red", size="1", role="alert"),
    )


def _label(field: FormField, html_for: str | rx.Var) -> rx.Component:
    star = " *" if field.required else ""
    return rx.el.label(rx.text(field.label + star, size="2", weight="medium"), html_for=html_for)


def scalar_input(state: Any, edits: Any, field: FormField) -> rx.Component:
    value = state.values[field.path].to(str)
    on_change = lambda v: edits.set_value(field.path, v)  # noqa: E731
    dom_id = "f-" + field.path.replace(".", "-")
    control: rx.Component
    if field.kind == "enum":
        control = rx.select.root(
            rx.select.trigger(placeholder="Not set", id=dom_id, width="100%"),
            rx.select.content(*[rx.select.item(o, value=o) for o in field.options]),
            value=value,
            on_change=on_change,
        )
    elif field.kind == "bool":
        control = rx.switch(
            checked=value == "true",
            on_change=lambda v: edits.set_value(field.path, rx.cond(v, "true", "false")),
            id=dom_id,
        )
    elif field.kind == "longtext":
        control = rx.text_area(value=value, on_change=on_change, id=dom_id, rows="3", width="100%")
    elif field.kind == "number":
        control = rx.input(
            value=value,
            on_change=on_change,
            id=dom_id,
            type="number",
            width="100%",
            min=field.minimum,
            max=field.maximum,
            step="any",
        )
    else:
        placeholder = "comma, separated, values" if field.kind == "strlist" else ""
        control = rx.input(
            value=value, on_change=on_change, id=dom_id, width="100%", placeholder=placeholder
        )
    return rx.vstack(
        _label(field, dom_id),
        control,
        rx.text(field.help, size="1", color_scheme="gray") if field.help else rx.fragment(),
        _error(state, field.path),
        spacing="1",
        width="100%",
    )


def _item_input(
    state: Any, edits: Any, group: FormGroup, field: FormField, item: rx.Var, index: rx.Var
) -> rx.Component:
    name = field.path.split(".")[-1]
    value = item[name].to(str)
    on_change = lambda v: edits.set_item(group.key, index, name, v)  # noqa: E731
    control: rx.Component
    if field.kind == "enum":
        control = rx.select.root(
            rx.select.trigger(placeholder="Not set", width="100%", aria_label=field.label),
            rx.select.content(*[rx.select.item(o, value=o) for o in field.options]),
            value=value,
            on_change=on_change,
        )
    elif field.kind == "hex":
        control = rx.hstack(
            rx.el.input(
                type="color",
                value=value,
                on_change=on_change,
                aria_label=f"{field.label} picker",
                style={"width": "40px", "height": "32px", "border": "none", "background": "none"},
            ),
            rx.input(value=value, on_change=on_change, aria_label=field.label, width="110px"),
            spacing="2",
            align="center",
        )
    elif field.kind == "number":
        control = rx.input(
            value=value,
            on_change=on_change,
            type="number",
            step="any",
            min=field.minimum,
            max=field.maximum,
            aria_label=field.label,
            width="100%",
        )
    else:
        control = rx.input(value=value, on_change=on_change, aria_label=field.label, width="100%")
    return rx.vstack(
        rx.text(field.label + (" *" if field.required else ""), size="1", weight="medium"),
        control,
        _error(state, f"{group.key}." + index.to(str) + f".{name}"),
        spacing="1",
        min_width="140px",
        flex="1",
    )


def list_group(state: Any, edits: Any, group: FormGroup) -> rx.Component:
    items = state.lists[group.key].to(list[dict[str, str]])
    visible = [
        f for f in group.fields if f.path.split(".")[-1] in _LIST_COLUMNS.get(group.key, ())
    ] or list(group.fields)
    return rx.vstack(
        rx.foreach(
            items,
            lambda item, i: rx.card(
                rx.hstack(
                    *[_item_input(state, edits, group, f, item, i) for f in visible],
                    rx.vstack(
                        rx.icon_button(
                            rx.icon("arrow-up", size=14),
                            size="1",
                            variant="soft",
                            aria_label=f"Move {group.label} item up",
                            on_click=edits.move_item(group.key, i, -1),
                        ),
                        rx.icon_button(
                            rx.icon("arrow-down", size=14),
                            size="1",
                            variant="soft",
                            aria_label=f"Move {group.label} item down",
                            on_click=edits.move_item(group.key, i, 1),
                        ),
                        rx.icon_button(
                            rx.icon("trash-2", size=14),
                            size="1",
                            variant="soft",
                            color_scheme="red",
                            aria_label=f"Remove {group.label} item",
                            on_click=edits.remove_item(group.key, i),
                        ),
                        spacing="1",
                    ),
                    spacing="3",
                    wrap="wrap",
                    align="start",
                    width="100%",
                ),
                width="100%",
                size="1",
            ),
        ),
        rx.button(
            rx.icon("plus", size=14),
            f"Add to {group.label.lower()}",
            size="1",
            variant="soft",
            on_click=edits.add_item(group.key),
        ),
        _error(state, group.key),
        spacing="2",
        width="100%",
    )


_LIST_COLUMNS = {
    "subjects": ("description", "type", "position", "action"),
    "color_palette": ("hex", "name", "proportion"),
    "text_render": ("text", "position", "style"),
}


def group_section(state: Any, edits: Any, group: FormGroup) -> rx.Component:
    if group.kind == "list":
        body = list_group(state, edits, group)
    elif group.kind == "object":
        body = rx.vstack(
            rx.grid(
                *[scalar_input(state, edits, f) for f in group.fields],
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
            _error(state, group.key),
            width="100%",
        )
    else:
        return rx.card(
            scalar_input(state, edits, group.fields[0]),
            width="100%",
            class_name="form-group",
            data_group=group.key,
        )
    return rx.card(
        rx.vstack(
            rx.heading(group.label, size="3", as_="h3"),
            rx.text(group.help, size="1", color_scheme="gray") if group.help else rx.fragment(),
            body,
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="form-group",
        data_group=group.key,
    )


def schema_form(state: Any, edits: Any) -> rx.Component:
    """`state` holds the values and errors (EditorState); `edits` takes the changes
    (PromptFieldsState)."""
    return rx.vstack(
        *[group_section(state, edits, g) for g in form_groups()], spacing="3", width="100%"
    )

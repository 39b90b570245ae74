"""The guided form's model: fields described by the JSON Schema, values as strings for inputs.

Plain Python (no reflex), so the conversions are unit-tested on their own. Pages build their
inputs from `form_fields()` at compile time; the editor state keeps `flatten()`-ed values.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from app.services.library.prompts import load_schema

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
LONG_TEXT = {"scene", "negative", "background"}
LIST_KEYS = ("subjects", "color_palette", "text_render")


@dataclass(frozen=True)
class FormField:
    path: str  # "scene", "lighting.key", or an item field "subjects[].description"
    label: str
    kind: str  # text | longtext | enum | number | bool | hex | strlist
    help: str
    options: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False


@dataclass(frozen=True)
class FormGroup:
    key: str
    label: str
    help: str
    kind: str  # scalar | object | list
    fields: tuple[FormField, ...]


def _resolve(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(schema["$defs"][ref.split("/")[-1]])
    return node


def _field(
    path: str, name: str, node: dict[str, Any], schema: dict[str, Any], required: bool
) -> FormField:
    node = _resolve(node, schema)
    label = str(node.get("title") or name.replace("_", " ").capitalize())
    help_text = str(node.get("description", ""))
    if "enum" in node:
        return FormField(
            path, label, "enum", help_text, tuple(str(o) for o in node["enum"]), required=required
        )
    kind = node.get("type")
    if kind in ("number", "integer"):
        return FormField(
            path, label, "number", help_text, (), node.get("minimum"), node.get("maximum"), required
        )
    if kind == "boolean":
        return FormField(path, label, "bool", help_text, required=required)
    if kind == "array":
        return FormField(path, label, "strlist", help_text, required=required)
    if name == "hex":
        return FormField(path, label, "hex", help_text, required=required)
    return FormField(
        path, label, "longtext" if path in LONG_TEXT else "text", help_text, required=required
    )


def form_groups() -> list[FormGroup]:
    schema = load_schema()
    top_required = set(schema.get("required", []))
    groups: list[FormGroup] = []
    for key, raw in schema["properties"].items():
        if key in ("schema_version", "meta"):
            continue
        node = _resolve(raw, schema)
        label = str(node.get("title") or key.replace("_", " ").capitalize())
        help_text = str(node.get("description", ""))
        if node.get("type") == "object":
            required = set(node.get("required", []))
            fields = tuple(
                _field(f"{key}.{name}", name, sub, schema, name in required)
                for name, sub in node.get("properties", {}).items()
            )
            groups.append(FormGroup(key, label, help_text, "object", fields))
        elif node.get("type") == "array" and key in LIST_KEYS:
            item = _resolve(node.get("items", {}), schema)
            required = set(item.get("required", []))
            fields = tuple(
                _field(f"{key}[].{name}", name, sub, schema, name in required)
                for name, sub in item.get("properties", {}).items()
            )
            groups.append(FormGroup(key, label, help_text, "list", fields))
        else:
            groups.append(
                FormGroup(
                    key,
                    label,
                    help_text,
                    "scalar",
                    (_field(key, key, node, schema, key in top_required),),
                )
            )
    return groups


def _field_index() -> dict[str, FormField]:
    return {f.path: f for g in form_groups() for f in g.fields}


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def flatten(data: dict[str, Any]) -> tuple[dict[str, str], dict[str, list[dict[str, str]]]]:
    """(scalar values by path, list items by key) as strings, the way inputs show them."""
    values: dict[str, str] = {}
    lists: dict[str, list[dict[str, str]]] = {}
    for group in form_groups():
        if group.kind == "list":
            items = data.get(group.key) if isinstance(data.get(group.key), list) else []
            lists[group.key] = [
                {
                    f.path.split(".")[-1]: _to_text(item.get(f.path.split(".")[-1]))
                    for f in group.fields
                }
                for item in items or []
                if isinstance(item, dict)
            ]
            continue
        for f in group.fields:
            head, _, tail = f.path.partition(".")
            source = data.get(head)
            value = (
                source.get(tail)
                if tail and isinstance(source, dict)
                else (source if not tail else None)
            )
            values[f.path] = _to_text(value)
    return values, lists


def _coerce(field: FormField, text: str) -> tuple[bool, Any]:
    """(keep, value): empty optional inputs remove the key instead of storing "". A number that
    doesn't parse is kept as text so the validator can say what is wrong."""
    text = text.strip() if field.kind != "longtext" else text
    if text == "":
        return False, None
    if field.kind == "number":
        try:
            number = float(text)
        except ValueError:
            return True, text
        return True, int(number) if number.is_integer() else number
    if field.kind == "bool":
        return True, text.lower() in ("true", "on", "yes", "1")
    if field.kind == "strlist":
        return True, [part.strip() for part in text.split(",") if part.strip()]
    return True, text


def set_value(data: dict[str, Any], path: str, text: str) -> dict[str, Any]:
    field = _field_index().get(path)
    if field is None:
        return data
    result = copy.deepcopy(data)
    keep, value = _coerce(field, text)
    head, _, tail = path.partition(".")
    if not tail:
        if keep:
            result[head] = value
        else:
            result.pop(head, None)
        return result
    target = result.get(head) if isinstance(result.get(head), dict) else {}
    if keep:
        target[tail] = value
    else:
        target.pop(tail, None)
    if target:
        result[head] = target
    else:
        result.pop(head, None)
    return result


def set_item(data: dict[str, Any], key: str, index: int, name: str, text: str) -> dict[str, Any]:
    field = _field_index().get(f"{key}[].{name}")
    items = data.get(key)
    if field is None or not isinstance(items, list) or not 0 <= index < len(items):
        return data
    result = copy.deepcopy(data)
    keep, value = _coerce(field, text)
    item = result[key][index] if isinstance(result[key][index], dict) else {}
    if keep:
        item[name] = value
    else:
        item.pop(name, None)
    result[key][index] = item
    return result


NEW_ITEMS: dict[str, dict[str, Any]] = {
    "subjects": {"description": "", "type": "object"},
    "color_palette": {"hex": "#888888", "proportion": 0.1},
    "text_render": {"text": ""},
}


def add_item(data: dict[str, Any], key: str) -> dict[str, Any]:
    if key not in NEW_ITEMS:
        return data
    result = copy.deepcopy(data)
    result.setdefault(key, []).append(copy.deepcopy(NEW_ITEMS[key]))
    return result


def remove_item(data: dict[str, Any], key: str, index: int) -> dict[str, Any]:
    items = data.get(key)
    if not isinstance(items, list) or not 0 <= index < len(items):
        return data
    result = copy.deepcopy(data)
    del result[key][index]
    return result


def move_item(data: dict[str, Any], key: str, index: int, delta: int) -> dict[str, Any]:
    items = data.get(key)
    target = index + delta
    if not isinstance(items, list) or not (0 <= index < len(items) and 0 <= target < len(items)):
        return data
    result = copy.deepcopy(data)
    result[key][index], result[key][target] = result[key][target], result[key][index]
    return result


def error_map(field_errors: list[Any]) -> dict[str, str]:
    """FieldError paths (`subjects[0].description`) → the form's keys (`subjects.0.description`,
    or the group key for whole-object problems); first message per key wins."""
    out: dict[str, str] = {}
    for error in field_errors:
        path = re.sub(r"\[(\d+)\]", r".\1", str(error.path)) or "(top level)"
        out.setdefault(path, str(error.message))
    return out

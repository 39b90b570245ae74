"""Canonical key order and pretty printing for JSON prompts.

Canonical order is the order of the properties in the schema file, recursively, which is also
the order of the guided form: a formatted prompt reads top to bottom like the editor. Keys the
schema does not know keep their relative order after the known ones (formatting never drops
data; the linter is the place that offers to move or remove them). Arrays keep their order,
because order means something there (subjects and colours are "most important first").
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from app.services.library.prompts import load_schema


@cache
def _schema() -> dict[str, Any]:
    return load_schema()


def resolve(node: object) -> dict[str, Any]:
    """A schema node with a local `$ref` (subjects, colours) followed; {} for anything else."""
    if not isinstance(node, dict):
        return {}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = _schema()["$defs"].get(ref.removeprefix("#/$defs/"), {})
        return target if isinstance(target, dict) else {}
    return node


def root_schema() -> dict[str, Any]:
    return _schema()


def properties(node: object) -> dict[str, Any]:
    """The `properties` of an object node, in schema order ({} if it is not an object node)."""
    props = resolve(node).get("properties", {})
    return props if isinstance(props, dict) else {}


def child(node: object, key: str | int) -> dict[str, Any]:
    """The schema node for `key` inside `node` (an array index gives the `items` schema)."""
    resolved = resolve(node)
    if isinstance(key, int):
        return resolve(resolved.get("items", {}))
    return resolve(properties(resolved).get(key, {}))


def allows_extra_keys(node: object) -> bool:
    return resolve(node).get("additionalProperties", True) is not False


def canonical(data: Any, node: object | None = None) -> Any:
    """`data` with every object's keys in schema order; a new structure, `data` is untouched."""
    schema = resolve(_schema() if node is None else node)
    if isinstance(data, dict):
        known = properties(schema)
        ordered = [k for k in known if k in data] + [k for k in data if k not in known]
        return {k: canonical(data[k], known.get(k, {})) for k in ordered}
    if isinstance(data, list):
        items = schema.get("items", {})
        return [canonical(item, items) for item in data]
    return data


def format_json(data: Any) -> str:
    """The prompt as the editor's "Format" button writes it: 2-space indent, schema order,
    real characters instead of \\u escapes (prompts are written in every language), and a
    trailing newline so files diff cleanly."""
    return json.dumps(canonical(data), indent=2, ensure_ascii=False) + "\n"

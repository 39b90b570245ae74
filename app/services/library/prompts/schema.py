"""The canonical JSON prompt schema, and validation that explains itself to non-technical users.

The schema lives in `jsoncraft-prompt.schema.json` beside this module (Draft 2020-12) so that
other tools, the REST docs and the guided form can all read the very same file. jsonschema's own
messages ("'x' is not of type 'object'") are written for developers; `validate_prompt` rewrites
each one using the `title` of the field it concerns, so the editor can show it next to that field.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from app.services.core.errors import InvalidInputError

SCHEMA_VERSION = "1.0"
SCHEMA_FILENAME = "jsoncraft-prompt.schema.json"

# How many field errors the summary message spells out before saying "and N more".
_SUMMARY_LIMIT = 5

_TYPE_WORDS = {
    "object": "a group of fields",
    "array": "a list",
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "empty (null)",
}


@dataclass(frozen=True)
class FieldError:
    """One problem with one field.

    `path` is written the way people read it (`subjects[0].description`, `lighting.contrast`);
    it is empty when the problem is with the prompt as a whole. `keyword` is the JSON Schema
    keyword that failed (`required`, `pattern`, ...), for code that wants to react to the kind.
    """

    path: str
    message: str
    keyword: str = ""


class PromptValidationError(InvalidInputError):
    """A prompt that does not match the schema; `field_errors` lists every problem found."""

    def __init__(self, message: str, *, field_errors: list[FieldError]) -> None:
        super().__init__(message)
        self.field_errors = field_errors


@cache
def _schema() -> dict[str, Any]:
    text = resources.files(__package__).joinpath(SCHEMA_FILENAME).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    schema = _schema()
    # Checking the schema once costs little and turns a broken edit of the file into a
    # clear error at first use instead of confusing validation results.
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def load_schema() -> dict[str, Any]:
    """The prompt schema as a dict (a copy, so callers may change it freely)."""
    return copy.deepcopy(_schema())


def validate_prompt(data: object) -> list[FieldError]:
    """Every way `data` fails the schema; an empty list means it is valid.

    The order is stable: it follows the order of the schema itself, which is also the order of
    the guided form, so the first error listed is the first one a user meets on the page.
    """
    errors: list[FieldError] = []
    for error in _validator().iter_errors(data):
        errors.extend(_explain(error))
    return list(dict.fromkeys(errors))  # one rule can be reached twice through $ref


def assert_valid_prompt(data: object) -> dict[str, Any]:
    """Return `data` if it is a valid prompt, else raise `PromptValidationError` listing why."""
    field_errors = validate_prompt(data)
    if field_errors:
        raise PromptValidationError(summarize(field_errors), field_errors=field_errors)
    assert isinstance(data, dict)  # the schema's top-level "type": "object" guarantees it
    return data


def summarize(field_errors: list[FieldError]) -> str:
    """One readable sentence (or a few) for a toast or an API error body."""
    count = len(field_errors)
    noun = "problem" if count == 1 else "problems"
    shown = [_line(e) for e in field_errors[:_SUMMARY_LIMIT]]
    more = count - len(shown)
    tail = f" …and {more} more." if more else ""
    return f"The prompt has {count} {noun}: " + " ".join(shown) + tail


def format_path(parts: Iterable[str | int]) -> str:
    """`["subjects", 0, "description"]` -> `subjects[0].description`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _line(error: FieldError) -> str:
    return f"{error.path}: {error.message}" if error.path else error.message


def _title(schema: object, fallback: str) -> str:
    if isinstance(schema, dict) and isinstance(schema.get("title"), str):
        return str(schema["title"])
    return fallback or "This value"


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (subjects and palette entries are defined under `$defs`)."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved: dict[str, Any] = _schema()["$defs"][ref.removeprefix("#/$defs/")]
        return resolved
    return schema


def _child_schema(parent: dict[str, Any], key: str) -> dict[str, Any]:
    props = _resolve(parent).get("properties", {})
    child = props.get(key, {})
    return _resolve(child) if isinstance(child, dict) else {}


def _show(value: object) -> str:
    """A short rendering of the offending value, so users see what they typed."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 40 else text[:37] + "…"


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true or false"
    for name, py in (("object", dict), ("array", list), ("string", str)):
        if isinstance(value, py):
            return _TYPE_WORDS[name]
    if isinstance(value, int | float):
        return "a number"
    return "empty (null)" if value is None else type(value).__name__


def _explain(error: ValidationError) -> list[FieldError]:
    """Turn one jsonschema error into one or more FieldErrors with plain-language messages."""
    parts = list(error.absolute_path)
    path = format_path(parts)
    keyword = str(error.validator)
    schema = error.schema if isinstance(error.schema, dict) else {}
    title = _title(schema, str(parts[-1])) if parts else "The prompt"
    value = error.instance
    limit = error.validator_value

    if keyword == "required":
        missing = [k for k in limit if isinstance(value, dict) and k not in value]
        return [
            FieldError(
                format_path([*parts, key]),
                f"{_title(_child_schema(schema, key), key)} is missing. "
                f"{_child_schema(schema, key).get('description', '')}".strip(),
                keyword,
            )
            for key in missing
        ]
    if keyword == "additionalProperties":
        known = set(_resolve(schema).get("properties", {}))
        extras = sorted(k for k in value if k not in known) if isinstance(value, dict) else []
        where = "the prompt" if not parts else title
        hint = " Move it under meta to keep it." if not parts else ""
        return [
            FieldError(
                format_path([*parts, key]),
                f'"{key}" is not a field of {where}. Check the spelling or remove it.{hint}',
                keyword,
            )
            for key in extras
        ]
    return [FieldError(path, _message(keyword, title, value, limit, schema), keyword)]


def _message(keyword: str, title: str, value: object, limit: Any, schema: dict[str, Any]) -> str:
    """The sentence for a single-field failure, keyed by the JSON Schema keyword."""
    if keyword == "type":
        types = [limit] if isinstance(limit, str) else list(limit)
        wanted = " or ".join(_TYPE_WORDS.get(t, t) for t in types)
        return f"{title} must be {wanted}, not {_kind(value)}."
    if keyword == "const":
        return f"{title} must be {_show(limit)} (got {_show(value)})."
    if keyword == "enum":
        choices = ", ".join(str(c) for c in limit)
        return f"{title} must be one of: {choices} (got {_show(value)})."
    if keyword == "pattern":
        hint = schema.get("x-pattern-hint") or f"the pattern {limit}"
        return f"{title} must be {hint} (got {_show(value)})."
    if keyword in ("minimum", "exclusiveMinimum"):
        return f"{title} must be at least {limit} (got {_show(value)})."
    if keyword in ("maximum", "exclusiveMaximum"):
        return f"{title} must be at most {limit} (got {_show(value)})."
    if keyword == "minLength":
        if limit == 1:
            return f"{title} must not be empty."
        return f"{title} must be at least {limit} characters long."
    if keyword == "maxLength":
        return f"{title} is too long: at most {limit} characters (it has {len(str(value))})."
    if keyword == "minItems":
        return f"{title} needs at least {limit} item{'s' if limit != 1 else ''}."
    if keyword == "maxItems":
        return f"{title} can have at most {limit} items."
    if keyword == "uniqueItems":
        return f"{title} must not contain the same entry twice."
    if keyword == "format":
        return f"{title} must be a valid {limit} (got {_show(value)})."
    return f"{title}: {_show(value)} is not allowed here."

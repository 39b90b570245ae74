"""Lint rules for JSON prompts, each with a one-click fix.

The schema says what a prompt *may* contain; the linter says what is probably a mistake even when
the schema is happy (an empty mood, the same subject twice, "blurry" both wanted and avoided) and
offers to repair the commonest schema failures a person or a model makes (colour names instead of
hex codes, keys the schema does not know). Schema errors that have no mechanical fix (a missing
scene) stay with `validate_prompt`; the editor shows both lists.

Every issue carries a `fix_id`, an opaque token the editor passes back to `apply_fix`. Fixes
return a new dict and never mutate their input. A fix is only applied if linting the data it is
given still reports it, so a stale button (the user edited the field meanwhile) cannot damage
the prompt; it raises `InvalidInputError` instead.

Rules (code: severity):
    unknown-key: error          a key the schema does not define -> moved under `meta.unknown`
    misspelled-key: error       "Colour_Palette" for "color_palette" -> renamed
    palette-not-hex: error      "tomato", "rgb(…)", "#abc" -> "#rrggbb"; unreadable -> removed
    empty-field: warning        "", [] or {} in an optional field -> removed
    duplicate-subject: warning  same description (ignoring case and spacing) -> later one removed
    negative-conflict: warning  a term to avoid that the prompt also asks for -> dropped from avoid
    lighting-conflict: warning  e.g. low-key with "bright midday sun" -> one aligned to the other
    palette-proportions: warning (over 100%) / info (well under 100%) -> scaled to sum to 1
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from PIL import ImageColor

from app.services.core.errors import InvalidInputError
from app.services.library.prompts import format_path
from app.services.library.tools import lighting_rules
from app.services.library.tools.format import (
    allows_extra_keys,
    child,
    properties,
    resolve,
    root_schema,
)

Severity = Literal["error", "warning", "info"]
Path = tuple[str | int, ...]

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_BARE_HEX = re.compile(r"^[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")
# Proportions within this distance of 1 count as "sums to one" (rounding by people and models).
_PROPORTION_TOLERANCE = 0.05
# Shorter negative terms ("a", "it") match too much ordinary text to be worth flagging.
_MIN_TERM_LENGTH = 3
# `apply_all_fixes` stops after this many fixes even if, against expectation, fixes keep
# producing new issues: a bounded loop is better than a hung request.
_MAX_FIX_ROUNDS = 500


@dataclass(frozen=True)
class LintIssue:
    """One finding. `path` is written like `subjects[1].description` ("" = the whole prompt);
    `fix_id` is None when there is no safe mechanical fix."""

    code: str
    path: str
    message: str
    severity: Severity
    fix_id: str | None


def lint(data: object) -> list[LintIssue]:
    """Every lint finding for `data`, most serious first, then in the order of the form."""
    if not isinstance(data, dict):
        return [
            LintIssue(
                "not-an-object",
                "",
                "The prompt must be a group of fields in curly braces { … }.",
                "error",
                None,
            )
        ]
    issues = [
        *_unknown_keys(data),
        *_palette_hex(data),
        *_empty_fields(data),
        *_duplicate_subjects(data),
        *_negative_conflicts(data),
        *_lighting_conflicts(data),
        *_palette_proportions(data),
    ]
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(issues, key=lambda issue: order[issue.severity])  # stable: keeps form order


def apply_fix(data: dict[str, Any], fix_id: str) -> dict[str, Any]:
    """A copy of `data` with the fix applied. Raises InvalidInputError if it no longer applies."""
    if fix_id not in {issue.fix_id for issue in lint(data) if issue.fix_id}:
        raise InvalidInputError(
            "That fix no longer applies: the prompt changed since it was checked. Check it again."
        )
    code, parts, arg = _decode_fix(fix_id)
    fixed = copy.deepcopy(data)
    _FIXES[code](fixed, parts, arg)
    return fixed


def apply_all_fixes(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of `data` with every fixable issue fixed (the editor's "Fix all")."""
    fixed = copy.deepcopy(data)
    for _ in range(_MAX_FIX_ROUNDS):
        fix_id = next((i.fix_id for i in lint(fixed) if i.fix_id), None)
        if fix_id is None:
            break
        fixed = apply_fix(fixed, fix_id)
    return fixed


# -- fix ids --------------------------------------------------------------------------------


def _fix_id(code: str, parts: Path, arg: str = "") -> str:
    # JSON keeps paths unambiguous even when a stray key contains dots or brackets.
    return json.dumps([code, list(parts), arg], separators=(",", ":"), ensure_ascii=False)


def _decode_fix(fix_id: str) -> tuple[str, Path, str]:
    code, parts, arg = json.loads(fix_id)
    return str(code), tuple(parts), str(arg)


def _issue(code: str, parts: Path, message: str, severity: Severity, arg: str = "") -> LintIssue:
    return LintIssue(code, format_path(parts), message, severity, _fix_id(code, parts, arg))


def _get(data: Any, parts: Path) -> Any:
    for part in parts:
        data = data[part]
    return data


def _delete(data: Any, parts: Path) -> None:
    parent = _get(data, parts[:-1])
    del parent[parts[-1]]


def _label(parts: Path) -> str:
    """A field name for messages: the schema's title where there is one ("Mood"), else the key."""
    node: object = root_schema()
    titles: list[str] = []
    for part in parts:
        node = child(node, part)
        if isinstance(part, int):
            # "Subjects" + [1] reads "Subject 2": the item's own title, counted from one.
            titles[-1:] = [f"{resolve(node).get('title') or 'Item'} {part + 1}"]
        else:
            titles.append(str(resolve(node).get("title") or part))
    return " › ".join(titles) if titles else "The prompt"


# -- unknown and misspelled keys ------------------------------------------------------------


def _normal_key(key: str) -> str:
    key = re.sub(r"[\s\-]+", "_", key.strip().lower())
    return key.replace("colour", "color")


def _unknown_keys(data: dict[str, Any]) -> Iterator[LintIssue]:
    def walk(value: Any, node: object, parts: Path) -> Iterator[LintIssue]:
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from walk(item, child(node, i), (*parts, i))
            return
        if not isinstance(value, dict) or not resolve(node):
            return
        known = properties(node)
        strict = not allows_extra_keys(node)
        for key, item in value.items():
            if key in known:
                yield from walk(item, known[key], (*parts, key))
                continue
            if not strict:
                continue  # meta is free-form on purpose
            guess = next(
                (k for k in known if _normal_key(k) == _normal_key(str(key)) and k not in value),
                None,
            )
            if guess is not None:
                yield _issue(
                    "misspelled-key",
                    (*parts, key),
                    f'"{key}" is not a field here. Did you mean "{guess}"? '
                    f'The fix renames it to "{guess}".',
                    "error",
                    guess,
                )
            else:
                where = "the prompt" if not parts else _label(parts)
                yield _issue(
                    "unknown-key",
                    (*parts, key),
                    f'"{key}" is not a field of {where}, so image models would not know what '
                    "to do with it. The fix keeps it under meta.unknown, where it is stored "
                    "but not used.",
                    "error",
                )

    yield from walk(data, root_schema(), ())


def _fix_unknown_key(data: dict[str, Any], parts: Path, _arg: str) -> None:
    value = _get(data, parts)
    meta = data.setdefault("meta", {})
    if not isinstance(meta, dict):
        raise InvalidInputError("meta is not a group of fields; correct it before this fix.")
    unknown = meta.setdefault("unknown", {})
    if not isinstance(unknown, dict):
        raise InvalidInputError("meta.unknown is not a group of fields; correct it first.")
    unknown[format_path(parts)] = value
    _delete(data, parts)


def _fix_misspelled_key(data: dict[str, Any], parts: Path, guess: str) -> None:
    parent = _get(data, parts[:-1])
    # Rebuild the object so the renamed key keeps its place among its siblings.
    renamed = {(guess if k == parts[-1] else k): v for k, v in parent.items()}
    parent.clear()
    parent.update(renamed)


# -- colours --------------------------------------------------------------------------------


def to_hex(value: object) -> str | None:
    """ "tomato", "rgb(255, 99, 71)", "#f63", "f63", "#FF6347" -> "#ff6347"; None if unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if _BARE_HEX.fullmatch(text):
        text = "#" + text
    for candidate in (text, text.replace(" ", "")):
        try:
            rgb = ImageColor.getrgb(candidate)
        except ValueError:
            continue
        if all(0 <= c <= 255 for c in rgb[:3]):
            return "#{:02x}{:02x}{:02x}".format(*rgb[:3])
    return None


def _palette_entries(data: dict[str, Any]) -> list[Any]:
    palette = data.get("color_palette")
    return palette if isinstance(palette, list) else []


def _palette_hex(data: dict[str, Any]) -> Iterator[LintIssue]:
    for i, entry in enumerate(_palette_entries(data)):
        if isinstance(entry, dict):
            raw = entry.get("hex")
            if isinstance(raw, str) and _HEX.fullmatch(raw):
                continue
            converted = to_hex(raw) or to_hex(entry.get("name"))  # the name is a fair guess
        elif isinstance(entry, str):
            raw, converted = entry, to_hex(entry)
        else:
            raw, converted = entry, None
        shown = json.dumps(raw, ensure_ascii=False) if raw is not None else "missing"
        if converted:
            message = (
                f"Color {i + 1} is {shown}, not a hex code like #e8a33d. "
                f"The fix writes it as {converted}."
            )
        else:
            message = (
                f"Color {i + 1} ({shown}) cannot be read as a color. "
                "The fix removes it from the palette."
            )
        yield _issue("palette-not-hex", ("color_palette", i), message, "error")


def _fix_palette_hex(data: dict[str, Any], parts: Path, _arg: str) -> None:
    palette = data["color_palette"]
    index = int(parts[-1])
    entry = palette[index]
    if isinstance(entry, dict):
        raw = entry.get("hex")
        converted = to_hex(raw) or to_hex(entry.get("name"))  # the name is a fair guess
        if converted:
            entry["hex"] = converted
            return
    elif (converted := to_hex(entry)) is not None:
        palette[index] = {"hex": converted}
        return
    del palette[index]


def _palette_proportions(data: dict[str, Any]) -> Iterator[LintIssue]:
    entries = [e for e in _palette_entries(data) if isinstance(e, dict)]
    shares = [e["proportion"] for e in entries if _is_number(e.get("proportion"))]
    total = sum(shares)
    if not shares or total <= 0:
        return
    everyone = len(shares) == len(_palette_entries(data))
    if total > 1 + _PROPORTION_TOLERANCE:
        yield _issue(
            "palette-proportions",
            ("color_palette",),
            f"The color proportions add up to {total:.0%}, more than the whole image. "
            "The fix scales them so they add up to 100%.",
            "warning",
        )
    elif everyone and total < 1 - _PROPORTION_TOLERANCE:
        yield _issue(
            "palette-proportions",
            ("color_palette",),
            f"The color proportions add up to {total:.0%}, not 100%. If these colors cover "
            "the whole image, the fix scales them so they add up to 100%.",
            "info",
        )


def _fix_palette_proportions(data: dict[str, Any], _parts: Path, _arg: str) -> None:
    entries = [e for e in _palette_entries(data) if isinstance(e, dict)]
    total = sum(e["proportion"] for e in entries if _is_number(e.get("proportion")))
    for entry in entries:
        if _is_number(entry.get("proportion")):
            entry["proportion"] = round(entry["proportion"] / total, 3)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# -- empty fields ---------------------------------------------------------------------------


def _is_empty(value: object) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict) and not value


def _empty_fields(data: dict[str, Any]) -> Iterator[LintIssue]:
    def walk(value: Any, node: object, parts: Path) -> Iterator[LintIssue]:
        if isinstance(value, list):
            for i, item in enumerate(value):
                if _is_empty(item):
                    yield _issue(
                        "empty-field",
                        (*parts, i),
                        f"{_label((*parts, i))} is empty. The fix removes it from the list.",
                        "warning",
                    )
                else:
                    yield from walk(item, child(node, i), (*parts, i))
            return
        if not isinstance(value, dict):
            return
        known = properties(node)
        # Required fields are the schema's business: removing an empty one would only swap a
        # warning for an error (and an empty subjects list is allowed for abstract images).
        required = set(resolve(node).get("required", []))
        for key, item in value.items():
            if key not in known and not allows_extra_keys(node):
                continue  # reported as unknown; its insides are not ours to judge
            if _is_empty(item) and key not in required:
                yield _issue(
                    "empty-field",
                    (*parts, key),
                    f"{_label((*parts, key))} is empty. Fill it in or let the fix remove it; "
                    "empty fields make the prompt longer without telling the model anything.",
                    "warning",
                )
            elif not _is_empty(item):
                yield from walk(item, known.get(key, {}), (*parts, key))

    yield from walk(data, root_schema(), ())


def _fix_remove(data: dict[str, Any], parts: Path, _arg: str) -> None:
    _delete(data, parts)


# -- subjects -------------------------------------------------------------------------------


def _subjects(data: dict[str, Any]) -> list[Any]:
    subjects = data.get("subjects")
    return subjects if isinstance(subjects, list) else []


def _duplicate_subjects(data: dict[str, Any]) -> Iterator[LintIssue]:
    first_seen: dict[str, int] = {}
    for i, subject in enumerate(_subjects(data)):
        if not isinstance(subject, dict) or not isinstance(subject.get("description"), str):
            continue
        key = " ".join(subject["description"].lower().split())
        if not key:
            continue
        if key in first_seen:
            yield _issue(
                "duplicate-subject",
                ("subjects", i),
                f'Subject {i + 1} repeats subject {first_seen[key] + 1} ("{_short(key)}"). '
                "Describing it twice can make the model draw it twice. The fix removes the "
                "repeat.",
                "warning",
            )
        else:
            first_seen[key] = i


# -- negative terms -------------------------------------------------------------------------


def _negative_terms(negative: str) -> list[str]:
    return [t.strip() for t in re.split(r"[,;\n|]", negative) if t.strip()]


def _core_term(term: str) -> str:
    """ "no watermark" / "without people" -> "watermark" / "people": the thing to avoid."""
    return re.sub(r"^(no|without|avoid|not)\s+", "", term.strip().lower())


def _positive_texts(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(field label, text) for everything the prompt asks the model to draw."""
    texts: list[tuple[str, str]] = [
        (_label((key,)), data[key])
        for key in ("scene", "background")
        if isinstance(data.get(key), str)
    ]
    for i, subject in enumerate(_subjects(data)):
        if isinstance(subject, dict):
            for key, value in subject.items():
                if isinstance(value, str) and key != "type":
                    texts.append((f"Subject {i + 1}", value))
    style = data.get("style")
    if isinstance(style, dict):
        for value in style.values():
            values = value if isinstance(value, list) else [value]
            texts.extend(("Style", v) for v in values if isinstance(v, str))
    return texts


def _mentions(text: str, term: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text, flags=re.IGNORECASE) is not None


def _negative_conflicts(data: dict[str, Any]) -> Iterator[LintIssue]:
    negative = data.get("negative")
    if not isinstance(negative, str):
        return
    positives = _positive_texts(data)
    for term in _negative_terms(negative):
        core = _core_term(term)
        if len(core) < _MIN_TERM_LENGTH:
            continue
        where = next((label for label, text in positives if _mentions(text, core)), None)
        if where is not None:
            yield _issue(
                "negative-conflict",
                ("negative",),
                f'"{term}" is listed under Avoid, but {where} asks for it. The model gets '
                "mixed signals. The fix removes it from Avoid.",
                "warning",
                term,
            )


def _fix_negative_conflict(data: dict[str, Any], _parts: Path, term: str) -> None:
    kept = [t for t in _negative_terms(data["negative"]) if t != term]
    if kept:
        data["negative"] = ", ".join(kept)
    else:
        del data["negative"]


# -- lighting -------------------------------------------------------------------------------


def _lighting_conflicts(data: dict[str, Any]) -> Iterator[LintIssue]:
    light = data.get("lighting")
    if not isinstance(light, dict):
        return
    for rule, message in lighting_rules.conflicts(data, light):
        if rule.fix is None:
            yield LintIssue("lighting-conflict", "lighting", message, "warning", None)
        else:
            yield _issue("lighting-conflict", ("lighting",), message, "warning", rule.name)


def _fix_lighting(data: dict[str, Any], _parts: Path, rule_name: str) -> None:
    lighting_rules.fix(data, data["lighting"], rule_name)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_FIXES: dict[str, Callable[[dict[str, Any], Path, str], None]] = {
    "unknown-key": _fix_unknown_key,
    "misspelled-key": _fix_misspelled_key,
    "palette-not-hex": _fix_palette_hex,
    "palette-proportions": _fix_palette_proportions,
    "empty-field": _fix_remove,
    "duplicate-subject": _fix_remove,
    "negative-conflict": _fix_negative_conflict,
    "lighting-conflict": _fix_lighting,
}

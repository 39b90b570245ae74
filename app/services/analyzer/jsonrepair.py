"""Turn a model's almost-JSON answer into a dict, and nudge values toward the schema.

Models wrap JSON in prose and ```json fences, leave trailing commas, write Python's
True/None, use single quotes, add comments, or get cut off mid-object. `repair_json` fixes
the syntax with a forgiving parser and says, in plain words, what it changed, so the UI can
show it. `coerce_to_schema` then fixes types the schema makes unambiguous ("35" where a
number belongs, "#E8A33D" for a hex colour). Neither ever makes up content: what cannot be
read is dropped and reported, never guessed.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from app.services.core.errors import InvalidOutputError
from app.services.library.prompts.schema import format_path

_UNUSABLE = "The model's answer did not contain usable JSON. Try again, or pick another model."
_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\r?\n(.*?)(?:```|\Z)", re.S)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")
_JSON_WORDS: dict[str, Any] = {"true": True, "false": False, "null": None}
_PYTHON_WORDS: dict[str, Any] = {"True": True, "False": False, "None": None}
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "/": "/"}
_CLOSES_STRING = frozenset(",:}]")

FENCED = "Took the JSON out of a ```json code block."
BEFORE = "Ignored text before the JSON."
AFTER = "Ignored text after the JSON."
EXTRA_CLOSERS = "Removed extra closing brackets."
TRAILING_COMMAS = "Removed trailing commas."
EXTRA_COMMAS = "Removed extra commas."
MISSING_COMMAS = "Added missing commas."
MISSING_COLON = "Added a missing colon after a key."
SINGLE_QUOTES = "Changed single quotes to double quotes."
PYTHON_WORDS = "Changed Python's True/False/None to JSON's true/false/null."
COMMENTS = "Removed comments."
BARE_KEYS = "Put quotes around keys that had none."
CUT_OFF = "Closed what the answer left open (it looks cut off)."
DROPPED_KEY = "Dropped a key that had no value."
MISMATCHED = "Fixed mismatched closing brackets."
STRAY_QUOTES = "Kept unescaped quotes inside text."
NUMBERS = "Fixed number formats such as +1 or .5."


class _TruncatedError(Exception):
    """The text ended before a value started or while a number/literal was being written."""


class _UnreadableError(Exception):
    pass


def repair_json(text: str) -> tuple[dict[str, Any], list[str]]:
    """The JSON object in `text`, and human notes on what had to be repaired (empty if none).

    Raises `InvalidOutputError` when there is no object to be found at all.
    """
    stripped = text.strip()
    if not stripped:
        raise InvalidOutputError(
            "The model sent an empty answer. Try again, or pick another model."
        )
    try:
        value = json.loads(stripped)
    except ValueError:
        pass
    else:
        if isinstance(value, dict):
            return value, []
    notes: dict[str, None] = {}
    body = stripped
    fence = next((m for m in _FENCE.finditer(stripped) if "{" in m.group(1)), None)
    if fence is not None:
        body = fence.group(1)
        notes[FENCED] = None
    start = body.find("{")
    if start < 0:
        raise InvalidOutputError(_UNUSABLE)
    if fence is None and body[:start].strip():
        notes[BEFORE] = None
    try:
        value, end = json.JSONDecoder(strict=False).raw_decode(body, start)
    except ValueError:
        parser = _Lenient(body, start, notes)
        try:
            value = parser.parse()
        except (_UnreadableError, _TruncatedError, RecursionError) as e:
            raise InvalidOutputError(_UNUSABLE) from e
        end = parser.i
    rest = body[end:].strip()
    if rest and fence is None:
        notes[EXTRA_CLOSERS if set(rest) <= set("}] \t\r\n") else AFTER] = None
    elif rest and set(rest) <= set("}] \t\r\n"):
        notes[EXTRA_CLOSERS] = None
    if not isinstance(value, dict):
        raise InvalidOutputError(_UNUSABLE)
    return value, list(notes)


class _Lenient:
    """A forgiving recursive-descent JSON reader; every liberty it takes adds a note."""

    def __init__(self, text: str, start: int, notes: dict[str, None]) -> None:
        self.s = text
        self.i = start
        self.n = len(text)
        self.notes = notes

    def note(self, message: str) -> None:
        self.notes[message] = None

    def parse(self) -> Any:
        return self.value()

    def skip(self) -> None:
        """Whitespace and comments (//, #, /* */)."""
        s = self.s
        while self.i < self.n:
            c = s[self.i]
            if c in " \t\r\n":
                self.i += 1
            elif c == "#" or s.startswith("//", self.i):
                newline = s.find("\n", self.i)
                self.i = self.n if newline < 0 else newline + 1
                self.note(COMMENTS)
            elif s.startswith("/*", self.i):
                close = s.find("*/", self.i + 2)
                self.i = self.n if close < 0 else close + 2
                self.note(COMMENTS)
            else:
                return

    def at_end(self) -> bool:
        self.skip()
        return self.i >= self.n

    def value(self) -> Any:
        if self.at_end():
            raise _TruncatedError
        c = self.s[self.i]
        if c == "{":
            return self.obj()
        if c == "[":
            return self.arr()
        if c in "\"'":
            return self.string()
        if c in "-+.0123456789":
            return self.number()
        if c.isalpha() or c == "_":
            return self.word()
        raise _UnreadableError(f"unexpected {c!r} at {self.i}")

    def obj(self) -> dict[str, Any]:
        self.i += 1
        out: dict[str, Any] = {}
        while True:
            if self.at_end():
                self.note(CUT_OFF)
                return out
            c = self.s[self.i]
            if c in "}]":
                if c == "]":
                    self.note(MISMATCHED)
                self.i += 1
                return out
            if c == ",":
                self.note(EXTRA_COMMAS)
                self.i += 1
                continue
            key = self.key()
            if key is None:  # the text ended inside the key
                self.note(CUT_OFF)
                return out
            if self.at_end():
                self.note(CUT_OFF)
                self.note(DROPPED_KEY)
                return out
            if self.s[self.i] == ":":
                self.i += 1
            else:
                self.note(MISSING_COLON)
            if not self.at_end() and self.s[self.i] in ",}]":
                self.note(DROPPED_KEY)
                continue
            try:
                out[key] = self.value()
            except _TruncatedError:
                self.note(CUT_OFF)
                self.note(DROPPED_KEY)
                return out
            self.after_item()

    def arr(self) -> list[Any]:
        self.i += 1
        out: list[Any] = []
        while True:
            if self.at_end():
                self.note(CUT_OFF)
                return out
            c = self.s[self.i]
            if c in "]}":
                if c == "}":
                    self.note(MISMATCHED)
                self.i += 1
                return out
            if c == ",":
                self.note(EXTRA_COMMAS)
                self.i += 1
                continue
            try:
                out.append(self.value())
            except _TruncatedError:
                self.note(CUT_OFF)
                return out
            self.after_item()

    def after_item(self) -> None:
        """Consume the comma after an item, noting a trailing or a missing one."""
        if self.at_end():
            return
        c = self.s[self.i]
        if c == ",":
            self.i += 1
            if not self.at_end() and self.s[self.i] in "}]":
                self.note(TRAILING_COMMAS)
        elif c not in "}]":
            self.note(MISSING_COMMAS)

    def key(self) -> str | None:
        """The key at self.i, or None when the text ends inside it (the key is dropped)."""
        if self.s[self.i] in "\"'":
            text, closed = self.read_string(in_key=True)
            return text if closed else None
        match = _WORD.match(self.s, self.i)
        if match is None:
            raise _UnreadableError(f"expected a key at {self.i}")
        self.i = match.end()
        self.note(BARE_KEYS)
        return match.group()

    def string(self) -> str:
        text, closed = self.read_string()
        if not closed:
            self.note(CUT_OFF)
        return text

    def read_string(self, *, in_key: bool = False) -> tuple[str, bool]:
        s, quote = self.s, self.s[self.i]
        if quote == "'":
            self.note(SINGLE_QUOTES)
        self.i += 1
        out: list[str] = []
        while self.i < self.n:
            c = s[self.i]
            if c == quote:
                # Keys hardly ever hold quotes, so in a key any matching quote ends it.
                if in_key or self.closes_string():
                    self.i += 1
                    return "".join(out), True
                self.note(STRAY_QUOTES)
                out.append(c)
                self.i += 1
            elif c == "\\":
                if self.i + 1 >= self.n:
                    break
                out.append(self.escape())
            else:
                out.append(c)
                self.i += 1
        self.i = self.n
        return "".join(out), False

    def closes_string(self) -> bool:
        """Is the quote at self.i the end of the string, or a stray quote inside it?"""
        j = self.i + 1
        while j < self.n and self.s[j] in " \t\r\n":
            j += 1
        # Another quote next means a missing comma more often than a quote in text.
        return j >= self.n or self.s[j] in _CLOSES_STRING or self.s[j] in "\"'"

    def escape(self) -> str:
        s, nxt = self.s, self.s[self.i + 1]
        self.i += 2
        if nxt in _ESCAPES:
            return _ESCAPES[nxt]
        if nxt == "'":
            return "'"
        if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", s[self.i : self.i + 4]):
            code = int(s[self.i : self.i + 4], 16)
            self.i += 4
            low = s[self.i + 2 : self.i + 6]
            if (
                0xD800 <= code <= 0xDBFF
                and s.startswith("\\u", self.i)
                and re.fullmatch(r"[dD][c-fC-F][0-9a-fA-F]{2}", low)
            ):
                self.i += 6
                return chr(0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00))
            return chr(code)
        return "\\" + nxt  # not an escape JSON knows: keep both characters as written

    def number(self) -> int | float:
        match = _NUMBER.match(self.s, self.i)
        if match is None:
            raise _UnreadableError(f"bad number at {self.i}")
        text = match.group()
        self.i = match.end()
        if self.i >= self.n:
            raise _TruncatedError  # the number may have been cut short: don't trust it
        clean = text.lstrip("+")
        if clean != text or clean.startswith((".", "-.")) or clean.endswith("."):
            self.note(NUMBERS)
        if re.fullmatch(r"-?\d+", clean):
            return int(clean)
        return float(clean)

    def word(self) -> Any:
        match = _WORD.match(self.s, self.i)
        assert match is not None  # value() saw a letter or underscore here
        word = match.group()
        self.i = match.end()
        if word in _JSON_WORDS:
            return _JSON_WORDS[word]
        if word in _PYTHON_WORDS:
            self.note(PYTHON_WORDS)
            return _PYTHON_WORDS[word]
        if self.i >= self.n and any(w.startswith(word) for w in (*_JSON_WORDS, *_PYTHON_WORDS)):
            raise _TruncatedError
        raise _UnreadableError(f"unexpected word {word!r}")


# -- schema-guided coercion -------------------------------------------------------------------


def coerce_to_schema(
    data: Mapping[str, Any], schema: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """A copy of `data` with unambiguous type slips fixed, and a note per change.

    Fixes: numbers written as text, "true"/"false" as text, one value where a list belongs,
    numbers where text belongs, hex colours (case, missing `#`, #abc shorthand), enum values
    in another case or with spaces for hyphens, text that only breaks its pattern by case or
    surrounding spaces, and `null` in optional fields (removed). Everything else is left for
    validation to report.
    """
    notes: list[str] = []
    result = _Coercer(schema, notes).coerce(copy.deepcopy(dict(data)), schema, [])
    return (result if isinstance(result, dict) else dict(data)), notes


class _Coercer:
    def __init__(self, root: Mapping[str, Any], notes: list[str]) -> None:
        self.root = root
        self.notes = notes

    def note(self, path: list[str | int], old: Any, new: Any) -> None:
        where = format_path(path) or "(top level)"
        self.notes.append(f"{where}: changed {_show(old)} to {_show(new)}.")

    def resolve(self, schema: Any) -> Mapping[str, Any]:
        seen = 0
        while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and seen < 20:
            ref = schema["$ref"]
            if not ref.startswith("#/"):
                return {}
            target: Any = self.root
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, Mapping) else {}
            schema, seen = target, seen + 1
        return schema if isinstance(schema, Mapping) else {}

    def coerce(self, value: Any, schema: Any, path: list[str | int]) -> Any:
        sub = self.resolve(schema)
        types = _types(sub)
        new = value
        if "const" in sub:
            new = _const(value, sub["const"])
        elif "enum" in sub and isinstance(value, str):
            new = _enum(value, sub["enum"])
        elif types == {"array"} and not isinstance(value, list) and value is not None:
            new = [value]
        elif isinstance(value, str) and types & {"number", "integer"} and "string" not in types:
            new = _number(value, integer="number" not in types)
        elif isinstance(value, str) and types == {"boolean"}:
            new = {"true": True, "false": False}.get(value.strip().lower(), value)
        elif _is_number(value) and types == {"string"}:
            new = json.dumps(value)
        elif isinstance(value, str) and "string" in types:
            new = _pattern(value, sub.get("pattern"))
        if isinstance(new, list) and not isinstance(value, list):
            self.notes.append(f"{format_path(path)}: put the single value in a list.")
        elif new != value or type(new) is not type(value):
            self.note(path, value, new)
        if isinstance(new, list):
            items = sub.get("items")
            return [self.coerce(v, items, [*path, i]) for i, v in enumerate(new)]
        if isinstance(new, dict):
            return self.coerce_object(new, sub, path)
        return new

    def coerce_object(
        self, value: dict[str, Any], sub: Mapping[str, Any], path: list[str | int]
    ) -> dict[str, Any]:
        props = sub.get("properties") or {}
        extra = sub.get("additionalProperties")
        required = set(sub.get("required") or ())
        out: dict[str, Any] = {}
        for key, item in value.items():
            child = props.get(key, extra if isinstance(extra, Mapping) else None)
            if child is None:
                out[key] = item  # unknown field: validation explains it, we don't drop it
                continue
            if item is None and key not in required and "null" not in _types(self.resolve(child)):
                self.notes.append(f"{format_path([*path, key])}: removed an empty (null) value.")
                continue
            out[key] = self.coerce(item, child, [*path, key])
        return out


def _types(sub: Mapping[str, Any]) -> set[str]:
    declared = sub.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {t for t in declared if isinstance(t, str)}
    if "properties" in sub:
        return {"object"}
    if "items" in sub:
        return {"array"}
    return set()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: str, *, integer: bool) -> Any:
    text = value.strip()
    if not re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text):
        return value
    number = float(text)
    if number.is_integer() and ("." not in text and "e" not in text.lower() or integer):
        return int(number)
    return value if integer else number


def _const(value: Any, const: Any) -> Any:
    if isinstance(const, str) and _is_number(value):
        try:
            return const if float(const) == value else value
        except ValueError:
            return value
    if isinstance(const, str) and isinstance(value, str) and value.strip() == const:
        return const
    return value


def _norm(text: str) -> str:
    return re.sub(r"[\s_-]+", "-", text.strip().casefold())


def _enum(value: str, options: list[Any]) -> Any:
    if value in options:
        return value
    matches = [o for o in options if isinstance(o, str) and _norm(o) == _norm(value)]
    return matches[0] if len(matches) == 1 else value


def _pattern(value: str, pattern: Any) -> str:
    if not isinstance(pattern, str):
        return value
    if "#" in pattern and "{6}" in pattern:  # a hex colour: one spelling, lowercase
        digits = value.strip().lstrip("#").lower()
        if re.fullmatch(r"[0-9a-f]{3}", digits):
            digits = "".join(d * 2 for d in digits)
        candidate = "#" + digits
        return candidate if re.search(pattern, candidate) else value
    if re.search(pattern, value):
        return value
    for candidate in (value.strip(), value.strip().lower()):
        if re.search(pattern, candidate):
            return candidate
    return value


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "…"

"""Best-effort parsing of a JSON object while it is still being streamed.

A model writes its answer a few characters at a time; the UI wants to show each field as
soon as it starts. `PartialJSONParser` scans every character exactly once, rewriting the
text into clean JSON as it goes (trailing commas dropped, Python's True/False/None turned
into JSON) and remembering the last place where the text could be cut and closed. A
snapshot is then one `json.loads` of that prefix plus the closing brackets, in C.

What a snapshot shows: every finished field; a text value that is still arriving, cut where
it stands; objects and arrays that are still open, closed. What it hides until finished: a
key without its value yet, and numbers and literals (`12` may still become `125`).
Anything before the first `{` (prose, a ```json fence) and after the closing `}` is ignored.
"""

from __future__ import annotations

import json
import re
from typing import Any

_LITERALS = {
    "true": "true",
    "false": "false",
    "null": "null",
    "True": "true",
    "False": "false",
    "None": "null",
}
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_NUMBER_CHARS = frozenset("0123456789+-.eE")
_STRING_RUN = re.compile(r'[^"\\]+')
_SPACE_RUN = re.compile(r"[ \t\r\n]+")
_HEX = frozenset("0123456789abcdefABCDEF")


class _Frame:
    """One open object or array, and what it expects next."""

    __slots__ = ("kind", "state")

    def __init__(self, kind: str) -> None:
        self.kind = kind  # "{" or "["
        # objects: key -> colon -> value -> comma; arrays: value -> comma
        self.state = "key" if kind == "{" else "value"


class PartialJSONParser:
    """Feed content deltas; get the object as far as it has arrived.

    Dicts returned by `feed` are shared between calls that see no change: read, don't mutate.
    """

    def __init__(self) -> None:
        self._raw: list[str] = []
        self._out = ""  # clean JSON written so far
        self._pieces: list[str] = []  # written during the current feed, not yet in _out
        self._n = 0  # len(_out) + len of _pieces
        self._stack: list[_Frame] = []
        self._started = False
        self._done = False
        self._error: str | None = None
        self._safe = 0  # _out[:_safe] + _safe_closers is valid JSON
        self._safe_closers = ""
        self._pending_comma = False
        # The token being read: None, "str", "num" or "lit".
        self._tok: str | None = None
        self._is_key = False
        self._esc = 0  # 0: none, 1: after a backslash, 2-5: that many \u digits read + 2
        self._esc_start = 0
        self._surrogate_at = -1  # where a \uD8xx waiting for its low half starts
        self._word = ""
        self._key_start = 0
        self._key: str | None = None
        self._completed: dict[str, None] = {}
        self._snapshot_text = ""
        self._snapshot: dict[str, Any] | None = None

    # -- public ---------------------------------------------------------------------------

    def feed(self, text: str) -> dict[str, Any] | None:
        """Add a delta; return the object parsed so far, or None before its `{` arrives."""
        self._raw.append(text)
        if not self._done and self._error is None:
            self._scan(text)
            self._flush()
        return self._take_snapshot()

    @property
    def value(self) -> dict[str, Any] | None:
        return self._snapshot

    @property
    def completed_keys(self) -> tuple[str, ...]:
        """Top-level keys whose values have fully arrived, in the order they finished."""
        return tuple(self._completed)

    @property
    def done(self) -> bool:
        """The top-level object has been closed."""
        return self._done

    @property
    def error(self) -> str | None:
        """Why scanning stopped early (text that is not JSON); snapshots then stay put and
        the whole answer is left to `jsonrepair` at the end."""
        return self._error

    @property
    def text(self) -> str:
        """Everything fed so far, as it came."""
        return "".join(self._raw)

    # -- snapshot -------------------------------------------------------------------------

    def _take_snapshot(self) -> dict[str, Any] | None:
        if not self._started:
            return None
        if self._tok == "str" and not self._is_key and self._error is None and not self._done:
            cut = self._n
            if self._esc >= 2:
                cut = self._esc_start
            if self._surrogate_at >= 0:
                cut = min(cut, self._surrogate_at)
            text = self._out[:cut] + '"' + self._closers()
        else:
            text = self._out[: self._safe] + self._safe_closers
        if text != self._snapshot_text:
            parsed = json.loads(text, strict=False)
            self._snapshot_text = text
            self._snapshot = parsed if isinstance(parsed, dict) else None
        return self._snapshot

    def _closers(self) -> str:
        return "".join("}" if f.kind == "{" else "]" for f in reversed(self._stack))

    # -- scanning -------------------------------------------------------------------------

    def _emit(self, text: str) -> None:
        self._pieces.append(text)
        self._n += len(text)

    def _flush(self) -> None:
        self._out += "".join(self._pieces)
        self._pieces = []

    def _mark_safe(self) -> None:
        self._flush()
        self._safe = self._n
        self._safe_closers = self._closers()

    def _fail(self, reason: str) -> None:
        self._error = reason

    def _scan(self, text: str) -> None:
        i, end = 0, len(text)
        while i < end and not self._done and self._error is None:
            if not self._started:
                brace = text.find("{", i)
                if brace < 0:
                    return
                self._started = True
                self._open("{")
                i = brace + 1
            elif self._tok == "str":
                i = self._string(text, i)
            elif self._tok is not None:
                c = text[i]
                if self._word_char(c):
                    self._word += c
                    i += 1
                    if self._tok == "lit" and self._word in _LITERALS:
                        self._finish_word()
                else:
                    self._finish_word()  # the character is handled structurally next round
            else:
                space = _SPACE_RUN.match(text, i)
                if space:
                    i = space.end()
                    continue
                self._structural(text[i])
                i += 1

    def _word_char(self, c: str) -> bool:
        if self._tok == "num":
            return c in _NUMBER_CHARS
        return c.isalpha()

    def _finish_word(self) -> None:
        word, self._word, tok = self._word, "", self._tok
        self._tok = None
        if tok == "lit":
            if word not in _LITERALS:
                self._fail(f"unexpected word {word!r}")
                return
            self._emit(_LITERALS[word])
        else:
            if not _NUMBER.fullmatch(word):
                self._fail(f"bad number {word!r}")
                return
            self._emit(word)
        self._value_done()

    def _structural(self, c: str) -> None:
        frame = self._stack[-1]
        state = frame.state
        if c in "}]":
            # Closing right after a key or its colon would lose the key: not JSON.
            if (c == "}") != (frame.kind == "{") or state in ("colon", "value") and c == "}":
                self._fail(f"unexpected {c!r}")
                return
            self._close(c)
        elif frame.kind == "{" and state == "key":
            if c != '"':
                self._fail(f"expected a key, got {c!r}")
                return
            self._begin_string(is_key=True)
        elif state == "colon":
            if c != ":":
                self._fail(f"expected ':', got {c!r}")
                return
            self._emit(":")
            frame.state = "value"
        elif state == "comma":
            if c != ",":
                self._fail(f"expected ',', got {c!r}")
                return
            # Held back: a trailing comma before } or ] is dropped, not written.
            self._pending_comma = True
            frame.state = "key" if frame.kind == "{" else "value"
        else:
            self._begin_value(c, frame)

    def _begin_value(self, c: str, frame: _Frame) -> None:
        frame.state = "comma"  # what the frame expects once this value is done
        if c == '"':
            self._begin_string(is_key=False)
        elif c in "{[":
            self._open(c)
        elif c == "-" or c.isdigit():
            self._write_comma()
            self._tok, self._word = "num", c
        elif c.isalpha():
            self._write_comma()
            self._tok, self._word = "lit", c
        else:
            self._fail(f"unexpected {c!r}")

    def _write_comma(self) -> None:
        if self._pending_comma:
            self._emit(",")
            self._pending_comma = False

    def _open(self, c: str) -> None:
        self._write_comma()
        self._emit(c)
        self._stack.append(_Frame(c))
        self._mark_safe()

    def _close(self, c: str) -> None:
        self._pending_comma = False
        self._emit(c)
        self._stack.pop()
        if not self._stack:
            self._done = True
            self._mark_safe()
            return
        self._value_done()

    def _begin_string(self, *, is_key: bool) -> None:
        self._write_comma()
        self._tok, self._is_key = "str", is_key
        self._esc, self._surrogate_at = 0, -1
        if is_key:
            self._key_start = self._n
        self._emit('"')

    def _string(self, text: str, i: int) -> int:
        """Consume string characters from text[i:]; return the next index."""
        if self._esc == 0:
            run = _STRING_RUN.match(text, i)
            if run:
                self._emit(run.group())
                self._surrogate_at = -1
                return run.end()
            c = text[i]
            if c == '"':
                self._emit('"')
                self._end_string()
            else:  # a backslash: written once we know what it escapes
                self._esc, self._esc_start = 1, self._n
            return i + 1
        c = text[i]
        if self._esc == 1:
            if c == "u":
                self._emit("\\u")
                self._esc = 2
                return i + 1
            if c in '"\\/bfnrt':
                self._emit("\\" + c)
            elif c == "'":
                self._emit("'")  # \' is Python, not JSON
            else:
                self._emit("\\\\" + c)  # keep the backslash as a character
            self._esc, self._surrogate_at = 0, -1
            return i + 1
        if c not in _HEX:
            self._fail("bad \\u escape")
            return i
        self._emit(c)
        self._esc += 1
        if self._esc == 6:
            self._esc = 0
            self._flush()
            code = int(self._out[-4:], 16)
            self._surrogate_at = self._esc_start if 0xD800 <= code <= 0xDBFF else -1
        return i + 1

    def _end_string(self) -> None:
        self._tok = None
        frame = self._stack[-1]
        if self._is_key:
            frame.state = "colon"
            if len(self._stack) == 1:
                # Not a safe point (a key without its value), but remember which key it is.
                self._flush()
                self._key = json.loads(self._out[self._key_start :], strict=False)
            return
        self._value_done()

    def _value_done(self) -> None:
        self._mark_safe()
        if len(self._stack) == 1 and self._key is not None:
            self._completed[self._key] = None

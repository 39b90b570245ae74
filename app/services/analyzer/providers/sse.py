"""Server-sent events, decoded line by line as the WHATWG spec describes.

Only `data:` fields matter to chat-completion streams; comment lines (OpenRouter sends
`: OPENROUTER PROCESSING` as a keep-alive while a model thinks) and the other fields are
skipped. An event may span several `data:` lines, which are joined with newlines.
"""

from __future__ import annotations


class SSEDecoder:
    """Feed it lines (without their line ending); it returns the data of each finished event."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed_line(self, line: str) -> str | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if name == "data":
            # The spec strips exactly one space after the colon, not all whitespace.
            self._data.append(value.removeprefix(" "))
        return None

    def close(self) -> str | None:
        """Data still pending when the connection ended without a final blank line."""
        return self._dispatch()

    def _dispatch(self) -> str | None:
        if not self._data:
            return None
        data = "\n".join(self._data)
        self._data = []
        return data

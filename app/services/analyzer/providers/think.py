"""Split `<think>…</think>` out of the content of reasoning models served without a parser.

vLLM, LM Studio and older Ollama builds can put a reasoning model's thoughts at the start of
`content` instead of a separate field. Only a leading `<think>` counts, so a JSON answer that
merely mentions the tag is left alone. Tags may arrive split across deltas.
"""

from __future__ import annotations

from app.services.analyzer.providers.base import ContentDelta, ReasoningDelta, StreamEvent

_OPEN = "<think>"
_CLOSE = "</think>"


class ThinkSplitter:
    def __init__(self) -> None:
        self._mode = "start"  # start -> (think ->) content
        self._buf = ""

    def feed(self, text: str) -> list[StreamEvent]:
        if self._mode == "content":
            return [ContentDelta(text)]
        self._buf += text
        if self._mode == "start":
            head = self._buf.lstrip()
            if len(head) < len(_OPEN) and _OPEN.startswith(head):
                return []  # could still become "<think>"
            if not head.startswith(_OPEN):
                return self._become_content()
            self._mode = "think"
            self._buf = head[len(_OPEN) :]
        return self._think()

    def flush(self) -> list[StreamEvent]:
        """Whatever is held back when the stream ends."""
        text, self._buf = self._buf, ""
        if not text:
            return []
        return [ReasoningDelta(text)] if self._mode == "think" else [ContentDelta(text)]

    def _become_content(self) -> list[StreamEvent]:
        self._mode = "content"
        text, self._buf = self._buf, ""
        return [ContentDelta(text)] if text else []

    def _think(self) -> list[StreamEvent]:
        end = self._buf.find(_CLOSE)
        if end >= 0:
            thought, self._buf = self._buf[:end], self._buf[end + len(_CLOSE) :].lstrip()
            events: list[StreamEvent] = [ReasoningDelta(thought)] if thought else []
            return events + self._become_content()
        # Hold back a tail that could be the start of "</think>".
        keep = next((n for n in range(len(_CLOSE) - 1, 0, -1) if self._buf.endswith(_CLOSE[:n])), 0)
        cut = len(self._buf) - keep
        thought, self._buf = self._buf[:cut], self._buf[cut:]
        return [ReasoningDelta(thought)] if thought else []

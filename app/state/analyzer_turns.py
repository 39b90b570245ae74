"""The analyzer thread's bubbles as the page shows them: plain dicts of small values."""

from __future__ import annotations

from typing import Any

from app.services.analyzer.chat import ChatImage, LoadedChat
from app.services.library.diff import diff
from app.state.prompt_view import cards, pretty


def assistant_turn(model: str) -> dict[str, Any]:
    return {
        "role": "assistant",
        "status": "streaming",
        "model": model,
        "reasoning": "",
        "cards": [],
        "json": "",
        "error": "",
        "changes": [],
        "examples": [],
        "notes": [],
        "text": "",
        "image_url": "",
        "size": "",
    }


def user_turn(text: str, image: ChatImage | None = None) -> dict[str, Any]:
    return {
        **assistant_turn(""),
        "role": "user",
        "status": "done",
        "text": text,
        "image_url": image.url if image else "",
        "size": image.size if image else "",
    }


def replayed_turns(loaded: LoadedChat) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A reloaded conversation's bubbles (the image on the first), and its latest prompt."""
    turns: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for i, view in enumerate(loaded.turns):
        if view.role == "user":
            turns.append(user_turn(view.text, loaded.image if i == 0 else None))
            continue
        turns.append(
            {
                **assistant_turn(view.model),
                "status": "done" if view.data else "error",
                "reasoning": view.text,
                "cards": cards(view.data),
                "json": pretty(view.data),
            }
        )
        if view.data:
            current = view.data
    return turns, current


def change_lines(previous: dict[str, Any], data: dict[str, Any]) -> list[str]:
    """What a refinement changed, one line per field, at most 40."""
    lines = [f"{c.op} {c.path}: {c.old or '∅'} → {c.new or '∅'}" for c in diff(previous, data)]
    return lines[:40]

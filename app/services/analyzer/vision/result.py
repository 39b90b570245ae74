"""What each analysis stage hands back, and the shared state stages read from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldResult:
    """One top-level field of the prompt, as soon as the stage that fills it has finished.

    `field` is a top-level key of the prompt schema and `value` is valid for that key on its
    own, so a streaming UI can show each field the moment it arrives. `heuristic` is true when
    the value is guessed by rules rather than measured from the pixels or the file.
    """

    field: str
    value: Any
    note: str
    heuristic: bool

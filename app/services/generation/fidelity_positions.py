"""Where a prompt's words put something in the frame: "lower right" -> a region of 0..1 coordinates.

The analyzer names positions on a grid of thirds ("top left", "center right"); people and
vision models write freer text ("left third", "upper middle", "centered"). Only the words
that pin down an axis count: "left third" says nothing about height, so height is left free,
and text with no position words at all ("on the horizon line") gives no region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Span = tuple[float, float]

_THIRDS: dict[str, Span] = {"low": (0.0, 1 / 3), "mid": (1 / 3, 2 / 3), "high": (2 / 3, 1.0)}
_X_WORDS = {"left": "low", "right": "high"}
_Y_WORDS = {"top": "low", "upper": "low", "bottom": "high", "lower": "high"}
_CENTRE_WORDS = {"center", "centre", "centered", "centred", "middle", "central"}


@dataclass(frozen=True)
class Region:
    """The spans a position allows on each axis; None where the words leave the axis free."""

    x: Span | None
    y: Span | None

    def distance(self, point: tuple[float, float]) -> float:
        """How far (in frame units, the larger of the two axes) `point` lies outside the region."""
        return max(_outside(point[0], self.x), _outside(point[1], self.y))


def region_for(text: str) -> Region | None:
    words = set(re.findall(r"[a-z]+", text.lower()))
    x = next((_THIRDS[v] for w, v in _X_WORDS.items() if w in words), None)
    y = next((_THIRDS[v] for w, v in _Y_WORDS.items() if w in words), None)
    if words & _CENTRE_WORDS:
        # "top center" centres x; "center left" centres y; "center" alone centres both.
        x = x or _THIRDS["mid"]
        y = y or _THIRDS["mid"]
    if x is None and y is None:
        return None
    return Region(x, y)


def _outside(value: float, span: Span | None) -> float:
    if span is None:
        return 0.0
    low, high = span
    return max(0.0, low - value, value - high)

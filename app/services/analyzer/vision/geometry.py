"""Words for where things sit in the frame and how it is shaped."""

from __future__ import annotations

# Ratios people name; a measured ratio within 2% of one is reported as that name, because
# "3:2" is what a photographer expects for a 6000x4000 or a 1500x1001 image alike.
_COMMON_RATIOS = ((1, 1), (5, 4), (4, 3), (3, 2), (16, 10), (16, 9), (2, 1), (21, 9), (3, 1))
_RATIO_TOLERANCE = 0.02
_MAX_RATIO = 999.0  # the schema allows at most three digits on each side


def aspect_ratio(width: int, height: int) -> str:
    """`4032x3024` -> "4:3"; `1000x730` -> "1.37:1"; always matches the schema's pattern."""
    width, height = max(1, width), max(1, height)
    ratio = width / height
    for a, b in _COMMON_RATIOS:
        for w, h in ((a, b), (b, a)):
            if abs(ratio / (w / h) - 1) <= _RATIO_TOLERANCE:
                return f"{w}:{h}"
    if ratio >= 1:
        return f"{_short(min(ratio, _MAX_RATIO))}:1"
    return f"1:{_short(min(1 / ratio, _MAX_RATIO))}"


def _short(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def orientation(width: int, height: int) -> str:
    if width == height:
        return "square"
    return "landscape" if width > height else "portrait"


def position_name(x: float, y: float) -> str:
    """A point in 0..1 frame coordinates -> "top left", "center", "bottom center", ...

    The frame is cut in thirds each way, the same grid a photographer composes with.
    """
    column = ("left", "center", "right")[_third(x)]
    row = ("top", "center", "bottom")[_third(y)]
    if row == "center":
        return "center" if column == "center" else f"center {column}"
    return f"{row} {column}"


def _third(t: float) -> int:
    return min(2, max(0, int(t * 3)))

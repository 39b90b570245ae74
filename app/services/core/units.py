"""Quantities as people read them. Pure functions: the image engine uses them too."""

from __future__ import annotations

_BYTE_UNITS = (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024))


def format_bytes(size: int) -> str:
    """A byte count for a message or a list: "2 GB", "1.5 MB", "300 KB", "512 bytes"."""
    for unit, factor in _BYTE_UNITS:
        if size >= factor:
            # One decimal, dropped when it is zero: "10 MB", not "10.0 MB".
            return f"{size / factor:,.1f}".removesuffix(".0") + f" {unit}"
    return "1 byte" if size == 1 else f"{size} bytes"

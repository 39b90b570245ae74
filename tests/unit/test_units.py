"""The one byte-size formatter behind every size shown in messages and lists."""

from __future__ import annotations

import pytest

from app.services.core.units import format_bytes


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1023 bytes"),
        (1024, "1 KB"),
        (1536, "1.5 KB"),
        (2048, "2 KB"),
        (10 * 1024**2, "10 MB"),
        (int(1.25 * 1024**2), "1.2 MB"),
        (1024**3, "1 GB"),
        (2 * 1024**3, "2 GB"),
        (1500 * 1024**3, "1,500 GB"),
    ],
)
def test_sizes_read_as_people_write_them(size: int, shown: str) -> None:
    assert format_bytes(size) == shown

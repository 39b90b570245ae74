"""CLAMD_ADDRESS: what it accepts, and a scanner that isn't there is an error, never "clean"."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services.core.errors import ConfigurationError
from app.services.uploads.scanner import ClamdScanner, ScannerError, stream_of


@pytest.mark.parametrize(
    "address",
    ["", "127.0.0.1:3310", "http://127.0.0.1:3310", "tcp://", "tcp://host:notaport", "unix://"],
)
def test_bad_addresses_are_refused_with_the_expected_shape(address: str) -> None:
    with pytest.raises(ConfigurationError, match="CLAMD_ADDRESS"):
        ClamdScanner(address, timeout=1)


def test_a_missing_unix_socket_is_a_scanner_error(tmp_path: Path) -> None:
    scanner = ClamdScanner(f"unix://{tmp_path / 'clamd.ctl'}", timeout=1)
    with pytest.raises(ScannerError, match="did not answer"):
        scanner.ping()
    with pytest.raises(ScannerError, match="failed"):
        scanner.scan(iter([b"data"]))


def test_the_chunk_stream_gives_every_byte_once_in_reads_of_at_most_the_size() -> None:
    # Short reads are allowed (like a socket's); an empty read is the end.
    stream = stream_of(iter([b"abc", b"", b"defgh", b"i"]))
    reads = []
    while piece := stream.read(4):
        assert len(piece) <= 4
        reads.append(piece)
    assert b"".join(reads) == b"abcdefghi" and stream.read(4) == b""
    assert stream_of(iter([b"ab", b"cd"])).read() == b"abcd"

"""Virus scanning by ClamAV's daemon (clamd) over its INSTREAM protocol.

The client is `clamav-client` (maintained, typed, no dependencies), which speaks INSTREAM over a
TCP or unix socket. The object is streamed to clamd in chunks, so memory stays flat whatever
the file's size; clamd unpacks archives within its own limits (clamd.conf), never in our process.

A scan has three outcomes: clean, infected (with the signature's name), or an error
(`ScannerError`: clamd unreachable, or it could not finish). The caller decides what an error
means; it is never "clean".
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, cast
from urllib.parse import urlsplit

from clamav_client.clamd import ClamdError, ClamdNetworkSocket, ClamdUnixSocket

from app.services.core.errors import ConfigurationError, RetryableError
from app.settings import Settings

_REASON_LIMIT = 200  # the width of uploads.scan_detail


class ScannerError(RetryableError):
    """clamd could not be reached, or could not scan this file; worth another try."""


@dataclass(frozen=True)
class ScanVerdict:
    infected: bool
    signature: str | None = None  # the signature clamd matched, when infected


class ClamdScanner:
    """One clamd, reached by address: "tcp://host:port" or "unix:///path/to/clamd.ctl"."""

    def __init__(self, address: str, *, timeout: float) -> None:
        self.address = address
        self._client = _client_for(address, timeout=timeout)

    def ping(self) -> None:
        try:
            reply = self._client.ping()
        except (ClamdError, OSError) as e:
            raise ScannerError(f"clamd at {self.address} did not answer: {e}") from e
        if reply != "PONG":
            raise ScannerError(f"clamd at {self.address} answered PING with {reply[:80]!r}")

    def scan(self, chunks: Iterator[bytes]) -> ScanVerdict:
        """Stream the bytes to clamd and read its verdict."""
        try:
            results = self._client.instream(stream_of(chunks))
        except (ClamdError, OSError) as e:
            raise ScannerError(_short(f"clamd at {self.address} failed: {e}")) from e
        if not results:
            raise ScannerError(f"clamd at {self.address} closed the connection without a verdict")
        status, detail = next(iter(results.values()))
        if status == "OK":
            return ScanVerdict(infected=False)
        if status == "FOUND":
            return ScanVerdict(infected=True, signature=_short(detail or "unknown"))
        raise ScannerError(_short(f"clamd could not scan the file: {detail or status}"))


def scanner_from_settings(settings: Settings) -> ClamdScanner | None:
    """The configured scanner, or None when CLAMD_ADDRESS is unset."""
    if not settings.clamd_address:
        return None
    return ClamdScanner(settings.clamd_address, timeout=settings.clamd_timeout_seconds)


def stream_of(chunks: Iterator[bytes]) -> BinaryIO:
    """A read-only file over an iterator of chunks (what Storage.open_stream returns), for the
    code that takes a file and only ever calls read()."""
    return cast(BinaryIO, ChunkReader(chunks))


def _client_for(address: str, *, timeout: float) -> ClamdNetworkSocket:
    parts = urlsplit(address)
    if parts.scheme == "tcp" and parts.hostname:
        try:
            port = parts.port or 3310
        except ValueError as e:
            raise ConfigurationError(f"CLAMD_ADDRESS has a bad port: {address!r}") from e
        return ClamdNetworkSocket(parts.hostname, port, timeout=timeout)
    if parts.scheme == "unix" and parts.path:
        # ClamdUnixSocket annotates its timeout as int but passes it to socket.settimeout.
        return ClamdUnixSocket(parts.path, timeout=timeout)  # type: ignore[arg-type]
    raise ConfigurationError(
        f"CLAMD_ADDRESS must be tcp://host:port or unix:///path/to/socket, not {address!r}"
    )


def _short(text: str) -> str:
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 1] + "…"


class ChunkReader(io.RawIOBase):
    """A file-like view of an iterator of byte chunks. The client reads 1 KiB at a time, so
    reads slice the current chunk by offset instead of copying what is left of it each time."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._chunk = b""
        self._offset = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            rest = [self._chunk[self._offset :], *self._chunks]
            self._chunk, self._offset = b"", 0
            return b"".join(rest)
        while self._offset >= len(self._chunk):
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._chunk, self._offset = chunk, 0
        out = self._chunk[self._offset : self._offset + size]
        self._offset += len(out)
        return out

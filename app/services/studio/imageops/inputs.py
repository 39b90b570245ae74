"""Uploaded files -> one input item per image, with zip files unpacked safely and lazily.

A zip is judged before it is unpacked: the entry count and central-directory size come from its
end record (a zip of millions of empty entries would otherwise fill memory just being listed),
and each entry's declared size and compression ratio are checked before it is read (zip bombs).
Entries that point outside the archive (`../`, absolute paths), zips inside zips, encrypted
entries and entries that are not images each get their own error row; the rest go on. Reading
is bounded by the declared size, which zipfile enforces while it decompresses.
"""

from __future__ import annotations

import re
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, BinaryIO

from app.services.core.errors import UserFacingError
from app.services.core.units import format_bytes
from app.services.images.decode import sanitize_filename
from app.services.studio.imageops.decode import read_header
from app.settings import Settings, get_settings

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# An entry that inflates more than this many times is refused, if it is big enough to matter
# (a 50 kB flat-colour BMP legitimately compresses 300 times).
MAX_RATIO = 100
_RATIO_FLOOR = 1024 * 1024
# Bytes of central directory allowed per entry (46 fixed + name + extra fields + comment).
_DIRECTORY_BYTES_PER_ENTRY = 1024
_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_SPOOL_MEMORY = 8 * 1024 * 1024
_JUNK = re.compile(r"(^|/)(__MACOSX/|\._[^/]*$|\.DS_Store$|Thumbs\.db$|desktop\.ini$)", re.I)
_ARCHIVE_NAMES = re.compile(r"\.(zip|jar|cbz)$", re.I)
_UNPACK_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError)


@dataclass(frozen=True)
class InputItem:
    """One row of a batch: `data` to process, or the `error` that stopped it before that."""

    name: str
    data: bytes | None
    error: str | None

    def __repr__(self) -> str:
        size = f"{len(self.data):,} bytes" if self.data is not None else "no data"
        return f"InputItem({self.name!r}, {size}, error={self.error!r})"


def iter_inputs(
    files: Iterable[tuple[str, BinaryIO]],
    *,
    max_items: int,
    settings: Settings | None = None,
) -> Iterator[InputItem]:
    """One item per image, zips expanded, in upload order. Files are read one at a time and
    each item's bytes are only held while it is being yielded. After `max_items` items, one
    more item says the batch limit was reached, and nothing else is read."""
    settings = settings or get_settings()
    count = 0
    for name, stream in files:
        for item in _expand(sanitize_filename(name), stream, settings):
            if count >= max_items:
                yield InputItem(
                    item.name,
                    None,
                    f"The batch limit of {max_items} images was reached; this file and the "
                    "ones after it were not processed.",
                )
                return
            count += 1
            yield item


def _expand(name: str, stream: BinaryIO, settings: Settings) -> Iterator[InputItem]:
    if not stream.seekable():
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY) as spool:
            copied = _copy_limited(stream, spool, settings.max_upload_bytes + 1)
            if copied > settings.max_upload_bytes:
                yield _too_big(name, settings)
                return
            spool.seek(0)
            yield from _expand(name, spool, settings)  # type: ignore[arg-type]
        return
    start = stream.tell()
    head = stream.read(4)
    stream.seek(start)
    if head in _ZIP_MAGIC:
        yield from _zip_items(name, stream, settings)
        return
    data = stream.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        yield _too_big(name, settings)
        return
    yield _checked(name, data, settings)


def _zip_items(zip_name: str, stream: BinaryIO, settings: Settings) -> Iterator[InputItem]:
    try:
        entries, directory_size = _zip_directory_size(stream)
    except ValueError:
        yield InputItem(zip_name, None, f"{zip_name} is not a readable zip file (truncated?).")
        return
    limit = settings.imageops_zip_max_entries
    if entries > limit or directory_size > limit * _DIRECTORY_BYTES_PER_ENTRY:
        yield InputItem(
            zip_name,
            None,
            f"{zip_name} holds {entries:,} entries; a zip may hold at most {limit:,}. "
            "Split it into smaller zips.",
        )
        return
    try:
        archive = zipfile.ZipFile(stream)
    except _UNPACK_ERRORS:
        yield InputItem(zip_name, None, f"{zip_name} is not a readable zip file (truncated?).")
        return
    budget = settings.imageops_zip_max_bytes
    with archive:
        for info in archive.infolist():
            if info.is_dir() or _JUNK.search(info.filename):
                continue  # folders and the files macOS and Windows add by themselves
            label = f"{zip_name}/{_printable(info.filename)}"
            problem = _entry_problem(info, settings, budget=budget)
            if problem:
                yield InputItem(label, None, problem)
                continue
            try:
                with archive.open(info) as entry:
                    data = entry.read(info.file_size + 1)
            except _UNPACK_ERRORS:
                yield InputItem(
                    label,
                    None,
                    "This zip entry could not be unpacked: it is damaged, or packed with a "
                    "method other than deflate, bzip2 or lzma.",
                )
                continue
            budget -= len(data)
            if data[:4] in _ZIP_MAGIC:
                yield InputItem(label, None, _NESTED_ZIP)
                continue
            yield _checked(label, data, settings)


_NESTED_ZIP = "Zip files inside a zip are not opened. Unzip it and upload its contents."


def _entry_problem(info: zipfile.ZipInfo, settings: Settings, *, budget: int) -> str | None:
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in name.split("/"):
        return (
            "This zip entry's path points outside the archive (../ or an absolute path); skipped."
        )
    if info.flag_bits & 0x1:
        return "This zip entry is password-protected; unzip it yourself and upload the image."
    if _ARCHIVE_NAMES.search(name):
        return _NESTED_ZIP
    if info.file_size == 0:
        return "The file is empty."
    if info.file_size > settings.max_upload_bytes:
        limit = format_bytes(settings.max_upload_bytes)
        return f"The file is larger than the {limit} upload limit."
    if info.file_size > _RATIO_FLOOR and (
        info.compress_size == 0 or info.file_size / info.compress_size > MAX_RATIO
    ):
        return (
            f"This entry would expand more than {MAX_RATIO} times ({format_bytes(info.file_size)} "
            f"from {format_bytes(info.compress_size)}), which is how zip bombs look; skipped."
        )
    if info.file_size > budget:
        return (
            f"The zip unpacks to more than {format_bytes(settings.imageops_zip_max_bytes)} in "
            "total; this entry and the rest were skipped. Split it into smaller zips."
        )
    return None


def _zip_directory_size(stream: IO[bytes]) -> tuple[int, int]:
    """(entry count, central directory bytes) from the end records; ValueError if missing."""
    start = stream.tell()
    stream.seek(0, 2)
    end = stream.tell()
    tail_size = min(end - start, _EOCD.size + 0xFFFF)  # the record, then a comment <= 64 KiB
    stream.seek(end - tail_size)
    tail = stream.read(tail_size)
    stream.seek(start)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        raise ValueError("no end of central directory record")
    _sig, _disk, _cd_disk, _here, entries, size, _offset, _comment = _EOCD.unpack_from(tail, at)
    if entries != 0xFFFF and size != 0xFFFFFFFF:
        return entries, size
    # ZIP64: a locator just before the record points at the 64-bit end record.
    locator_at = at - _ZIP64_LOCATOR.size
    if locator_at < 0:
        raise ValueError("ZIP64 locator missing")
    sig, _disk, record_offset, _disks = _ZIP64_LOCATOR.unpack_from(tail, locator_at)
    if sig != b"PK\x06\x07":
        raise ValueError("ZIP64 locator missing")
    stream.seek(start + record_offset)
    record = stream.read(_ZIP64_EOCD.size)
    stream.seek(start)
    if len(record) < _ZIP64_EOCD.size or not record.startswith(b"PK\x06\x06"):
        raise ValueError("ZIP64 end record missing")
    fields = _ZIP64_EOCD.unpack(record)
    return int(fields[7]), int(fields[8])


def _checked(name: str, data: bytes, settings: Settings) -> InputItem:
    """Refuse what is plainly not an image (or a bomb) now, from its header alone, so the
    batch knows its usable count before any work is queued."""
    try:
        read_header(data, max_pixels=settings.max_image_pixels)
    except UserFacingError as e:
        return InputItem(name, None, e.message)
    return InputItem(name, data, None)


def _copy_limited(source: BinaryIO, target: IO[bytes], limit: int) -> int:
    copied = 0
    while copied < limit and (chunk := source.read(min(1024 * 1024, limit - copied))):
        target.write(chunk)
        copied += len(chunk)
    return copied


def _too_big(name: str, settings: Settings) -> InputItem:
    return InputItem(
        name,
        None,
        f"The file is larger than the {format_bytes(settings.max_upload_bytes)} upload limit.",
    )


def _printable(name: str) -> str:
    cleaned = "".join(ch for ch in unicodedata.normalize("NFC", name) if ch.isprintable())
    return cleaned[:255] or "entry"

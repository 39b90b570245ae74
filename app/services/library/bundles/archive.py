"""Reading a bundle's zip archive safely and checking every item before anything is written."""

from __future__ import annotations

import hashlib
import json
import re
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, BinaryIO

from app.services.core.errors import (
    ImageTooLargeError,
    InvalidImageError,
    InvalidInputError,
)
from app.services.core.storage import CHUNK_SIZE
from app.services.core.units import format_bytes
from app.services.images.intake import make_thumbnail
from app.services.library.bundles.format import (
    FIELD_ERRORS_PER_VERSION,
    FORMAT_NAME,
    FORMAT_VERSION,
    IMAGE_NAME,
    MANIFEST,
    MAX_ENTRIES,
    MAX_JSON_BYTES,
    MAX_MANIFEST_BYTES,
    MAX_RATIO,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TITLE_LENGTH,
    MAX_TOTAL_BYTES,
    PROMPT_NAME,
    RATIO_CHECK_FROM,
    VISIBILITIES,
    hash_in_name,
    parse_time,
    short,
)
from app.services.library.prompts import validate_prompt
from app.settings import Settings


@dataclass
class ParsedItem:
    index: int
    title: str
    errors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    visibility: str = "private"
    model: str = ""
    style: str = ""
    versions: list[tuple[dict[str, Any], str, datetime | None]] = field(default_factory=list)
    image: str | None = None  # name inside the zip
    origin: str | None = None  # "analyzed" | "generated"; None when the bundle doesn't say


PROMPT_ORIGINS = ("analyzed", "generated")


class Seekable:
    """Spool a non-seekable upload to a temporary file (zip needs to seek to its directory)."""

    def __init__(self, source: BinaryIO) -> None:
        self.source = source
        self.spool: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        if is_seekable(self.source):
            return self.source
        self.spool = tempfile.TemporaryFile()
        copied = 0
        while chunk := self.source.read(CHUNK_SIZE):
            copied += len(chunk)
            if copied > MAX_TOTAL_BYTES:
                raise InvalidInputError(
                    f"The bundle is larger than {format_bytes(MAX_TOTAL_BYTES)}; split it into "
                    "smaller bundles (export by tag)."
                )
            self.spool.write(chunk)
        self.spool.seek(0)
        return self.spool

    def __exit__(self, *_exc: object) -> None:
        if self.spool is not None:
            self.spool.close()


def as_seekable(source: BinaryIO) -> Seekable:
    return Seekable(source)


def is_seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, ValueError, OSError):
        return False


def open_zip(source: IO[bytes], *, settings: Settings) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise InvalidInputError(
            "This file is not a JSONCraft bundle: it is not a zip archive, or it is damaged."
        ) from e
    try:
        check_directory(zf.infolist(), settings=settings)
    except BaseException:
        zf.close()
        raise
    return zf


def check_directory(infos: list[zipfile.ZipInfo], *, settings: Settings) -> None:
    """Refuse unsafe archives from their directory alone, before a byte is decompressed."""
    if len(infos) > MAX_ENTRIES:
        raise InvalidInputError(
            f"The bundle holds {len(infos):,} files; the limit is {MAX_ENTRIES:,}. "
            "Split it into smaller bundles (export by tag)."
        )
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if unsafe_name(name):
            raise InvalidInputError(
                f'The bundle contains an unsafe file path ("{short(name)}"). '
                "Bundles may only hold relative paths without '..' or backslashes; "
                "nothing was imported."
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InvalidInputError(
                f'The bundle contains a symbolic link ("{short(name)}"). '
                "Bundles may only hold plain files; nothing was imported."
            )
        if info.flag_bits & 0x1:
            raise InvalidInputError(
                "The bundle has password-protected files. Export it again without a password."
            )
        if name in seen:
            raise InvalidInputError(f'The bundle lists the file "{short(name)}" twice.')
        seen.add(name)
        limit = entry_limit(name, settings=settings)
        if info.file_size > limit:
            raise InvalidInputError(
                f'The file "{short(name)}" in the bundle is {format_bytes(info.file_size)} '
                f"unpacked; the limit for it is {format_bytes(limit)}."
            )
        if info.file_size > RATIO_CHECK_FROM and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise InvalidInputError(
                f'The file "{short(name)}" in the bundle is compressed more than '
                f"{MAX_RATIO}:1, which is how zip bombs look; the bundle was refused."
            )
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise InvalidInputError(
                f"The bundle would unpack to more than {format_bytes(MAX_TOTAL_BYTES)}. "
                "Split it into smaller bundles (export by tag)."
            )


def unsafe_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name:
        return True
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return True
    return any(part in ("..", ".") for part in name.split("/"))


def entry_limit(name: str, *, settings: Settings) -> int:
    if name == MANIFEST:
        return MAX_MANIFEST_BYTES
    if name.startswith("images/"):
        return settings.max_upload_bytes
    if name.endswith(".json"):
        return MAX_JSON_BYTES
    return settings.max_upload_bytes


def read_json(zf: zipfile.ZipFile, name: str, *, limit: int) -> Any:
    """Parse one JSON entry, reading at most `limit` bytes whatever the header claims."""
    with zf.open(name) as f:
        raw = f.read(limit + 1)
    if len(raw) > limit:
        raise InvalidInputError(f"{name} is larger than {format_bytes(limit)}.")
    return json.loads(raw.decode("utf-8"))


def read_manifest(zf: zipfile.ZipFile) -> list[Any]:
    if MANIFEST not in zf.namelist():
        raise InvalidInputError(
            "This zip is not a JSONCraft bundle: it has no manifest.json at its top level."
        )
    try:
        manifest = read_json(zf, MANIFEST, limit=MAX_MANIFEST_BYTES)
    except (
        ValueError,
        RecursionError,  # absurdly deep nesting
        zipfile.BadZipFile,
        NotImplementedError,
        OSError,
        EOFError,
    ) as e:
        raise InvalidInputError("The bundle's manifest.json is damaged or not valid JSON.") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise InvalidInputError(
            f'manifest.json does not describe a JSONCraft bundle (its "format" must be '
            f'"{FORMAT_NAME}").'
        )
    version = manifest.get("version")
    if version != FORMAT_VERSION:
        if isinstance(version, int) and not isinstance(version, bool) and version > 1:
            raise InvalidInputError(
                f"This bundle uses format version {version}, but this JSONCraft reads version "
                f"{FORMAT_VERSION}. Update JSONCraft, or export the bundle again from a version "
                "that matches."
            )
        raise InvalidInputError(
            f"manifest.json has an unknown format version ({short(json.dumps(version))}); "
            f"this JSONCraft reads version {FORMAT_VERSION}."
        )
    items = manifest.get("items")
    if not isinstance(items, list):
        raise InvalidInputError('manifest.json has no "items" list.')
    if len(items) > MAX_ENTRIES:
        # Items may point at the same file, so the entry limit alone would not bound the work.
        raise InvalidInputError(
            f"The bundle lists {len(items):,} prompts; the limit is {MAX_ENTRIES:,}. "
            "Split it into smaller bundles (export by tag)."
        )
    return items


def parse_item(zf: zipfile.ZipFile, names: set[str], index: int, entry: object) -> ParsedItem:
    title = str(entry.get("title", "")) if isinstance(entry, dict) else ""
    item = ParsedItem(index=index, title=title[:MAX_TITLE_LENGTH])
    path = entry.get("path") if isinstance(entry, dict) else None
    if not isinstance(path, str) or not PROMPT_NAME.fullmatch(path):
        item.errors.append('its manifest entry has no "path" like prompts/1.json.')
        return item
    if path not in names:
        item.errors.append(f"its file {path} is missing from the bundle.")
        return item
    try:
        record = read_json(zf, path, limit=MAX_JSON_BYTES)
    except InvalidInputError as e:
        item.errors.append(e.message)
        return item
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        item.errors.append(f"{path} is not valid JSON.")
        return item
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError):
        item.errors.append(f"{path} is damaged in the zip file.")
        return item
    if not isinstance(record, dict):
        item.errors.append(f"{path} must hold a group of fields in curly braces.")
        return item
    check_fields(item, record)
    return item


def flag_repeated_paths(entries: list[Any], items: list[ParsedItem]) -> None:
    first: dict[str, int] = {}
    for entry, item in zip(entries, items, strict=True):
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str):
            continue
        if path in first:
            item.errors.append(f"its file {path} is already used by item {first[path]}.")
        else:
            first[path] = item.index


def check_fields(item: ParsedItem, record: dict[str, Any]) -> None:
    errors = item.errors
    title = record.get("title")
    if not isinstance(title, str) or not title.strip():
        errors.append("it has no title.")
    elif len(title.strip()) > MAX_TITLE_LENGTH:
        errors.append(f"its title is longer than {MAX_TITLE_LENGTH} characters.")
    else:
        item.title = title.strip()

    tags = record.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        errors.append("its tags must be a list of words.")
    elif len(tags) > MAX_TAGS:
        errors.append(f"it has {len(tags)} tags; the limit is {MAX_TAGS}.")
    else:
        long = [t for t in tags if len(t.strip()) > MAX_TAG_LENGTH]
        if long:
            errors.append(f'the tag "{short(long[0])}" is longer than {MAX_TAG_LENGTH} characters.')
        item.tags = [t for t in tags if t.strip()]

    visibility = record.get("visibility", "private")
    if visibility not in VISIBILITIES:
        errors.append(
            f'its visibility must be "private" or "public", not {short(str(visibility))}.'
        )
    else:
        item.visibility = str(visibility)
    for key in ("model", "style"):
        value = record.get(key, "")
        if not isinstance(value, str) or len(value) > 120:
            errors.append(f"its {key} must be text of at most 120 characters.")
        else:
            setattr(item, key, value)

    origin = record.get("origin")
    if origin is not None and origin not in PROMPT_ORIGINS:
        errors.append(f'its origin must be "analyzed" or "generated", not {short(str(origin))}.')
    else:
        item.origin = origin

    image = record.get("image")
    if image is not None and (not isinstance(image, str) or not IMAGE_NAME.fullmatch(image)):
        errors.append(
            f"its image must be a file name like images/<sha256>.png, not {short(str(image))}."
        )
    else:
        item.image = image

    versions = record.get("versions")
    if not isinstance(versions, list) or not versions:
        errors.append("it has no versions.")
        return
    for position, version in enumerate(versions, start=1):
        check_version(item, position, version)


def check_version(item: ParsedItem, position: int, version: object) -> None:
    if not isinstance(version, dict):
        item.errors.append(f"version {position} is not a group of fields.")
        return
    data = version.get("data")
    field_errors = validate_prompt(data)
    if field_errors:
        shown = "; ".join(
            f"{e.path}: {e.message}" if e.path else e.message
            for e in field_errors[:FIELD_ERRORS_PER_VERSION]
        )
        more = len(field_errors) - FIELD_ERRORS_PER_VERSION
        item.errors.append(
            f"version {position} does not match the prompt schema: {shown}"
            + (f" …and {more} more." if more > 0 else "")
        )
        return
    message = version.get("message", "")
    if not isinstance(message, str):
        item.errors.append(f"version {position} has a message that is not text.")
        return
    created_at = parse_time(version.get("created_at"))
    assert isinstance(data, dict)  # validate_prompt passed, so the schema's "type": "object" held
    item.versions.append((data, message[:500], created_at))


def check_images(
    zf: zipfile.ZipFile, names: set[str], items: list[ParsedItem], *, settings: Settings
) -> None:
    """Check each referenced image once: present, checksum right, decodes within limits."""
    verdicts: dict[str, str | None] = {}
    for item in items:
        if item.image is None or item.errors:
            continue
        if item.image not in verdicts:
            verdicts[item.image] = image_problem(zf, names, item.image, settings=settings)
        problem = verdicts[item.image]
        if problem:
            item.errors.append(problem)


def image_problem(
    zf: zipfile.ZipFile, names: set[str], name: str, *, settings: Settings
) -> str | None:
    if name not in names:
        return f"its image {name} is missing from the bundle."
    expected = hash_in_name(name)
    hasher = hashlib.sha256()
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        try:
            with zf.open(name) as f:
                for chunk in read_chunks(f, limit=settings.max_upload_bytes):
                    hasher.update(chunk)
                    spool.write(chunk)
        except InvalidInputError as e:
            return f"its image {name}: {e.message}"
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError):
            return f"its image {name} is damaged in the zip file."
        if hasher.hexdigest() != expected:
            return f"its image {name} is damaged: its content does not match its checksum name."
        spool.seek(0)
        try:
            # Decoding it fully (into a tiny thumbnail) is the same test an upload gets: real
            # format, pixel limit, not truncated.
            make_thumbnail(spool, size=32, max_pixels=settings.max_image_pixels)  # type: ignore[arg-type]
        except (InvalidImageError, ImageTooLargeError) as e:
            return f"its image {name} is not usable: {e.message}"
    return None


def read_chunks(f: IO[bytes], *, limit: int) -> Iterator[bytes]:
    read = 0
    while chunk := f.read(CHUNK_SIZE):
        read += len(chunk)
        if read > limit:
            raise InvalidInputError(f"it is larger than the {format_bytes(limit)} image limit.")
        yield chunk

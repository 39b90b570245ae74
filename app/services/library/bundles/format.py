"""The bundle format's limits and names, and what import and export report back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.services.core.errors import (
    InvalidInputError,
)

FORMAT_NAME = "jsoncraft-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MAX_ENTRIES = 50_000
MAX_TOTAL_BYTES = 2 * 1024**3
MAX_JSON_BYTES = 16 * 1024**2  # one prompt file with a long history is a few hundred kB
MAX_MANIFEST_BYTES = 64 * 1024**2
MAX_RATIO = 100
# Small files compress far better than 100:1 only when they are tiny; checking the ratio from
# this size on catches real bombs without refusing a short, repetitive JSON file.
RATIO_CHECK_FROM = 4 * 1024**2
MAX_TITLE_LENGTH = 200
MAX_TAGS = 50
MAX_TAG_LENGTH = 64
VISIBILITIES = ("private", "public")
# A rejected 10,000-item bundle should produce a readable report, not a 10,000-line one.
MAX_REPORTED_ERRORS = 200
FIELD_ERRORS_PER_VERSION = 5
IMAGE_NAME = re.compile(r"images/([0-9a-f]{64})\.([a-z0-9]{1,10})")
PROMPT_NAME = re.compile(r"prompts/[^/]{1,200}\.json")
# SQLite allows 32,766 bound parameters; stay well under it (and under other databases' limits).
ID_CHUNK = 500
EXPORT_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
}


class BundleRejectedError(InvalidInputError):
    """The bundle was readable but some items are invalid; `report` names each one."""

    def __init__(self, message: str, *, report: ImportReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class ExportResult:
    bundle_id: int
    filename: str
    storage_key: str | None
    item_count: int
    image_count: int
    missing_images: int
    size_bytes: int


@dataclass(frozen=True)
class ItemError:
    index: int  # 1-based, as in prompts/<n>.json and in the message shown to people
    title: str
    message: str


@dataclass(frozen=True)
class ItemRef:
    index: int
    title: str
    existing_prompt_id: int | None = None


@dataclass
class ImportReport:
    ok: bool
    filename: str
    item_count: int
    message: str = ""
    imported: int = 0
    skipped_duplicates: int = 0
    images_added: int = 0
    images_reused: int = 0
    bundle_id: int | None = None
    prompt_ids: list[int] = field(default_factory=list)
    duplicates: list[ItemRef] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    errors_omitted: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BundleInfo:
    id: int
    kind: str
    status: str
    filename: str
    item_count: int
    storage_key: str | None
    created_at: datetime
    report: dict[str, Any]


def chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), ID_CHUNK):
        yield ids[start : start + ID_CHUNK]


def iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.isoformat()


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None  # a date is history, not content: an unreadable one is simply not kept
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def hash_in_name(name: str | None) -> str | None:
    """The SHA-256 an image file's name in the bundle carries (images/<sha256>.<ext>)."""
    match = IMAGE_NAME.fullmatch(name) if name else None
    return match.group(1) if match else None

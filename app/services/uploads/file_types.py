"""File types of the upload platform: declared types, a project's allowed list, and the type
sniffed from a stored file's first bytes (never its name).

Images are read by the gallery's own sniffer (app/services/images/decode.py), everything else by
`puremagic`'s signatures. A file passes when its bytes are of a type the project allows and of
the family (`image`, `video`, `application`...) the client declared.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass

import puremagic

from app.services.core.errors import InvalidImageError, InvalidInputError
from app.services.images.decode import ACCEPTED_FORMATS, open_image_header, sanitize_filename

MIME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}$"
_MIME = re.compile(MIME_PATTERN)
# SVG is XML that can carry script: a wildcard like "image/*" does not let it in, only a project
# that lists "image/svg+xml" itself.
_EXPLICIT_ONLY = frozenset({"image/svg+xml"})
# Text formats no signature can tell apart: UTF-8 bytes pass as any of these when declared so.
_TEXT_LIKE = frozenset(
    {"application/json", "application/xml", "application/x-ndjson", "application/yaml"}
)
OCTET_STREAM = "application/octet-stream"
_KEY_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
MAX_KEY_NAME = 120


def normalise_type(declared: str) -> str:
    """`Image/PNG; charset=x` -> `image/png`; InvalidInputError for anything not a MIME type."""
    bare = declared.split(";", 1)[0].strip().lower()
    if not _MIME.fullmatch(bare):
        raise InvalidInputError(f"'{declared[:100]}' is not a MIME type such as image/png.")
    return bare


def family(mime: str) -> str:
    return mime.split("/", 1)[0]


def type_allowed(mime: str, allowed: list[str]) -> bool:
    """Whether `allowed` (MIME types or "type/*"; empty = anything) takes `mime`."""
    if not allowed:
        return mime not in _EXPLICIT_ONLY
    if mime in allowed:
        return True
    if mime in _EXPLICIT_ONLY:
        return False
    return f"{family(mime)}/*" in allowed


def allowed_text(allowed: list[str]) -> str:
    return ", ".join(allowed) if allowed else "any type"


@dataclass(frozen=True)
class Sniffed:
    """What a file's first bytes say it is: candidate MIME types, best first."""

    candidates: tuple[str, ...]
    is_text: bool
    width: int | None = None
    height: int | None = None


def sniff(prefix: bytes) -> Sniffed:
    header = io.BytesIO(prefix)
    try:
        image = open_image_header(header)
    except InvalidImageError:
        pass
    else:
        mime = ACCEPTED_FORMATS[image.format or ""][0] if image.format in ACCEPTED_FORMATS else None
        if mime:
            width, height = image.size
            return Sniffed((mime,), is_text=False, width=width, height=height)
    candidates: list[str] = []
    if prefix:
        try:
            matches = puremagic.magic_string(prefix)
        except (puremagic.PureError, ValueError):
            matches = []
        for match in matches:
            mime = (match.mime_type or "").lower()
            if mime and mime not in candidates:
                candidates.append(mime)
    return Sniffed(tuple(candidates), is_text=not candidates and _looks_like_text(prefix))


@dataclass(frozen=True)
class Verdict:
    detected_type: str
    reason: str | None  # None: the file passes
    width: int | None = None
    height: int | None = None


def check_content(*, declared: str, prefix: bytes, allowed: list[str]) -> Verdict:
    """Whether the bytes match the declared type's family and the project's allowed types."""
    found = sniff(prefix)
    dims = {"width": found.width, "height": found.height}
    if declared in found.candidates:
        detected = declared
    elif found.candidates:
        detected = found.candidates[0]
        if family(detected) != family(declared):
            return Verdict(
                detected,
                f"The file's bytes are {detected}, not {declared} as declared.",
                **dims,
            )
    elif found.is_text and (family(declared) == "text" or declared in _TEXT_LIKE):
        detected = declared
    elif found.is_text:
        return Verdict("text/plain", f"The file is plain text, not {declared} as declared.")
    elif declared == OCTET_STREAM:
        detected = OCTET_STREAM
    else:
        return Verdict(
            OCTET_STREAM, f"The file's bytes could not be recognised as {declared} (no signature)."
        )
    if not type_allowed(detected, allowed):
        return Verdict(
            detected,
            f"The file is {detected}; this project accepts {allowed_text(allowed)}.",
            **dims,
        )
    return Verdict(detected, None, **dims)


def display_name(name: str) -> str:
    """The name shown for the upload: the last path segment, no control characters."""
    cleaned = sanitize_filename(name)
    # The gallery's sanitizer falls back to "image"; an upload may be anything.
    return "file" if cleaned == "image" and "image" not in name else cleaned


def key_name(name: str) -> str:
    """A storage-key-safe version of a file name: ASCII letters, digits, '.', '_', '-'."""
    ascii_name = unicodedata.normalize("NFKD", display_name(name)).encode("ascii", "ignore")
    cleaned = _KEY_NAME_CHARS.sub("_", ascii_name.decode()).strip("._-")
    if not cleaned:
        return "file"
    if len(cleaned) > MAX_KEY_NAME:
        stem, dot, ext = cleaned.rpartition(".")
        keep = MAX_KEY_NAME - len(ext) - 1
        cleaned = f"{stem[:keep]}.{ext}" if dot and len(ext) <= 10 else cleaned[:MAX_KEY_NAME]
    return cleaned


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= len(head) - 3  # a character cut off by the prefix window
    return True

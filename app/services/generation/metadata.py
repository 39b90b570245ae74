"""Generation parameters inside the image file, as InvokeAI does, and read back on import.

PNG gets an iTXt chunk (keyword `jsoncraft_generation`, UTF-8 JSON); JPEG and WebP get an XMP
packet whose `jsoncraft:generation` element holds the same JSON. The chunk or segment is
spliced into the file's bytes, never re-encoded, so the pixels stay exactly as the model made
them. Embedding again replaces the earlier metadata (for JPEG and WebP that means any XMP packet
the file had: one packet per file is what the XMP spec allows).

The reader walks the container's chunks itself instead of decoding the image, so a huge or
hostile image costs nothing, and it refuses garbage with an InvalidInputError: an oversized
chunk, a broken checksum, JSON that does not parse or lacks the fields.
"""

from __future__ import annotations

import json
import math
import re
import struct
import zlib
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal
from xml.etree import ElementTree

from app.services.core.errors import InvalidImageError, InvalidInputError

PNG_KEYWORD = b"jsoncraft_generation"
FORMAT_NAME = "jsoncraft.generation"
FORMAT_VERSION = 1
XMP_NAMESPACE = "urn:jsoncraft:ns:generation:1.0/"
# PNG chunks could be larger, but the metadata of one generation is a few kilobytes; anything
# much bigger is not ours. JPEG caps a segment at 64 KiB, so XMP gets a little less.
MAX_PNG_METADATA = 1024 * 1024
MAX_XMP_PACKET = 65_000
MAX_TEXT = 200_000
MAX_NAME = 300

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_ELEMENT = f"{{{XMP_NAMESPACE}}}generation"


@dataclass(frozen=True)
class GenerationMetadata:
    """Everything needed to reproduce one generated image."""

    provider: str
    model: str
    width: int
    height: int
    prompt_format: Literal["text", "json"]
    prompt_sent: str
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    preset: str | None = None
    negative: str | None = None
    prompt_id: int | None = None
    prompt_version: int | None = None
    request_id: str | None = None
    # The canonical JSON prompt the image was made from (after the style preset), so importing
    # the file restores it exactly even when the model was sent prose. Optional: older files
    # and files whose details would not fit without it have none.
    prompt_data: dict[str, Any] | None = None

    def to_json(self) -> str:
        body = {"format": FORMAT_NAME, "version": FORMAT_VERSION, **asdict(self)}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def embed(image: bytes, metadata: GenerationMetadata) -> bytes:
    """The same image with `metadata` inside (PNG, JPEG or WebP, chosen by its bytes)."""
    check(metadata)
    payload = metadata.to_json().encode("utf-8")
    kind = _kind(image)
    if kind == "png":
        if len(payload) > MAX_PNG_METADATA:
            raise InvalidInputError("The generation's details are too large to store in the file.")
        return _png_embed(image, payload)
    packet = _xmp_packet(payload.decode("utf-8"))
    if len(packet) > MAX_XMP_PACKET:
        raise InvalidInputError(
            "The generation's details are too large for a JPEG or WebP file: download it as PNG."
        )
    return _jpeg_embed(image, packet) if kind == "jpeg" else _webp_embed(image, packet)


def read(image: bytes) -> GenerationMetadata | None:
    """The metadata `embed` wrote, None if the file has none; InvalidInputError for garbage."""
    kind = _kind(image)
    if kind == "png":
        raw = _png_find(image)
        return None if raw is None else parse(raw)
    packet = _jpeg_find(image) if kind == "jpeg" else _webp_find(image)
    if packet is None:
        return None
    text = _xmp_text(packet)
    return None if text is None else parse(text.encode("utf-8"))


def parse(raw: bytes) -> GenerationMetadata:
    """Our JSON back into metadata, checked field by field."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise InvalidInputError("The file's generation details are not valid JSON.") from e
    if not isinstance(body, dict) or body.get("format") != FORMAT_NAME:
        raise InvalidInputError("The file's generation details are not in JSONCraft's format.")
    if body.get("version") != FORMAT_VERSION:
        raise InvalidInputError(
            "The file's generation details come from a newer JSONCraft: update to read them."
        )
    known = {f.name for f in fields(GenerationMetadata)}
    values = {k: v for k, v in body.items() if k in known}
    try:
        metadata = GenerationMetadata(**values)
    except TypeError as e:
        raise InvalidInputError("The file's generation details are missing fields.") from e
    check(metadata)
    return metadata


def check(metadata: GenerationMetadata) -> None:
    """InvalidInputError unless every field has the type and range it should."""
    for name in ("provider", "model"):
        _string(name, getattr(metadata, name), MAX_NAME, required=True)
    _string("prompt_sent", metadata.prompt_sent, MAX_TEXT, required=True)
    for name in ("preset", "request_id"):
        _string(name, getattr(metadata, name), MAX_NAME, required=False)
    _string("negative", metadata.negative, MAX_TEXT, required=False)
    _json_object("prompt_data", metadata.prompt_data)
    if metadata.prompt_format not in ("text", "json"):
        raise InvalidInputError('The prompt format must be "text" or "json".')
    for name in ("width", "height"):
        _integer(name, getattr(metadata, name), low=1, high=100_000, required=True)
    _integer("seed", metadata.seed, low=0, high=2**64 - 1, required=False)
    _integer("steps", metadata.steps, low=1, high=1000, required=False)
    for name in ("prompt_id", "prompt_version"):
        _integer(name, getattr(metadata, name), low=1, high=2**63 - 1, required=False)
    guidance = metadata.guidance
    if guidance is not None and (
        isinstance(guidance, bool)
        or not isinstance(guidance, int | float)
        or not math.isfinite(guidance)
        or not 0 <= guidance <= 100
    ):
        raise InvalidInputError("The guidance must be a number from 0 to 100.")


def _string(name: str, value: object, limit: int, *, required: bool) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInputError(f"The generation's {name} must be text.")
    if len(value) > limit:
        raise InvalidInputError(f"The generation's {name} is too long.")


def _json_object(name: str, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise InvalidInputError(f"The generation's {name} must be a JSON object.")
    try:
        size = len(json.dumps(value, ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError, RecursionError) as e:
        raise InvalidInputError(f"The generation's {name} is not plain JSON.") from e
    if size > MAX_TEXT:
        raise InvalidInputError(f"The generation's {name} is too long.")


def _integer(name: str, value: object, *, low: int, high: int, required: bool) -> None:
    if value is None and not required:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInputError(f"The generation's {name} must be a whole number from {low}.")


def _kind(image: object) -> Literal["png", "jpeg", "webp"]:
    if not isinstance(image, bytes | bytearray):
        raise InvalidImageError("Expected the bytes of a PNG, JPEG or WebP image.")
    if image.startswith(_PNG_SIGNATURE):
        return "png"
    if image.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(image) >= 12 and image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        return "webp"
    raise InvalidImageError("That file is not a PNG, JPEG or WebP image.")


# -- PNG ----------------------------------------------------------------------------------------


def _png_chunks(image: bytes) -> list[tuple[int, bytes, int, int]]:
    """(start, type, data start, data end) of each chunk up to IEND; refuses a broken file."""
    chunks = []
    pos = len(_PNG_SIGNATURE)
    while True:
        if pos + 8 > len(image):
            raise InvalidImageError("The PNG file is truncated.")
        length, kind = struct.unpack(">I4s", image[pos : pos + 8])
        end = pos + 8 + length
        if end + 4 > len(image):
            raise InvalidImageError("The PNG file is truncated.")
        chunks.append((pos, kind, pos + 8, end))
        if kind == b"IEND":
            return chunks
        pos = end + 4


def _is_ours(image: bytes, kind: bytes, start: int) -> bool:
    head = image[start : start + len(PNG_KEYWORD) + 1]
    return kind == b"iTXt" and head == PNG_KEYWORD + b"\x00"


def _png_embed(image: bytes, payload: bytes) -> bytes:
    chunks = _png_chunks(image)
    data = PNG_KEYWORD + b"\x00" + b"\x00\x00" + b"\x00" + b"\x00" + payload
    chunk = struct.pack(">I", len(data)) + b"iTXt" + data
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + data))
    out = bytearray(image[: len(_PNG_SIGNATURE)])
    for start, kind, data_start, data_end in chunks:
        if _is_ours(image, kind, data_start):
            continue
        if kind == b"IEND":
            out += chunk
        out += image[start : data_end + 4]
    return bytes(out)


def _png_find(image: bytes) -> bytes | None:
    for _, kind, start, end in _png_chunks(image):
        if not _is_ours(image, kind, start):
            continue
        if end - start > MAX_PNG_METADATA:
            raise InvalidInputError("The file's generation details are too large to read.")
        crc = struct.unpack(">I", image[end : end + 4])[0]
        if zlib.crc32(b"iTXt" + image[start:end]) != crc:
            raise InvalidInputError("The file's generation details are damaged (bad checksum).")
        data = image[start + len(PNG_KEYWORD) + 1 : end]
        if len(data) < 2 or data[0] != 0:
            raise InvalidInputError("The file's generation details are compressed or damaged.")
        # Skip the compression method, then the language tag and translated keyword.
        parts = data[2:].split(b"\x00", 2)
        if len(parts) != 3:
            raise InvalidInputError("The file's generation details are damaged.")
        return parts[2]
    return None


# -- XMP (JPEG and WebP) ------------------------------------------------------------------------


def _xmp_packet(text: str) -> bytes:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:jsoncraft="{XMP_NAMESPACE}">'
        f"<jsoncraft:generation>{escaped}</jsoncraft:generation>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


_DOCTYPE = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def _xmp_text(packet: bytes) -> str | None:
    if len(packet) > MAX_XMP_PACKET:
        raise InvalidInputError("The file's generation details are too large to read.")
    # A DOCTYPE is how entity-expansion bombs get in; XMP never needs one.
    if _DOCTYPE.search(packet):
        raise InvalidInputError("The file's XMP metadata is not plain XMP.")
    try:
        root = ElementTree.fromstring(packet)
    except ElementTree.ParseError as e:
        raise InvalidInputError("The file's XMP metadata is not valid XML.") from e
    element = root.find(f".//{_XMP_ELEMENT}")
    if element is None:
        return None
    return element.text or ""


def _jpeg_segments(image: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each segment before the image data; refuses a broken file."""
    segments = []
    pos = 2
    while True:
        if pos + 4 > len(image) or image[pos] != 0xFF:
            raise InvalidImageError("The JPEG file is truncated or damaged.")
        marker = image[pos + 1]
        length = struct.unpack(">H", image[pos + 2 : pos + 4])[0]
        if length < 2 or pos + 2 + length > len(image):
            raise InvalidImageError("The JPEG file is truncated or damaged.")
        segments.append((marker, pos, pos + 2 + length))
        if marker == 0xDA:  # start of scan: the compressed pixels follow
            return segments
        pos += 2 + length


def _is_xmp(image: bytes, marker: int, start: int) -> bool:
    header = image[start + 4 : start + 4 + len(_JPEG_XMP_HEADER)]
    return marker == 0xE1 and header == _JPEG_XMP_HEADER


def _jpeg_embed(image: bytes, packet: bytes) -> bytes:
    segments = _jpeg_segments(image)
    body = _JPEG_XMP_HEADER + packet
    segment = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    out = bytearray(image[:2])
    placed = False
    for marker, start, end in segments:
        if _is_xmp(image, marker, start):
            continue
        # JFIF wants its APP0 first, so the XMP goes after it (or first if there is none).
        if not placed and marker != 0xE0:
            out += segment
            placed = True
        out += image[start:end]
    out += image[segments[-1][2] :]
    return bytes(out)


def _jpeg_find(image: bytes) -> bytes | None:
    for marker, start, end in _jpeg_segments(image):
        if _is_xmp(image, marker, start):
            return image[start + 4 + len(_JPEG_XMP_HEADER) : end]
    return None


def _webp_chunks(image: bytes) -> list[tuple[bytes, int, int]]:
    """(fourcc, data start, data end) of each chunk of the RIFF container."""
    riff_size = struct.unpack("<I", image[4:8])[0]
    if riff_size + 8 > len(image):
        raise InvalidImageError("The WebP file is truncated.")
    chunks = []
    pos = 12
    while pos < riff_size + 8:
        if pos + 8 > len(image):
            raise InvalidImageError("The WebP file is truncated.")
        fourcc = image[pos : pos + 4]
        size = struct.unpack("<I", image[pos + 4 : pos + 8])[0]
        if pos + 8 + size > len(image):
            raise InvalidImageError("The WebP file is truncated.")
        chunks.append((fourcc, pos + 8, pos + 8 + size))
        pos += 8 + size + (size & 1)
    if not chunks:
        raise InvalidImageError("The WebP file is empty.")
    return chunks


def _chunk(fourcc: bytes, data: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) & 1 else b"")


def _webp_embed(image: bytes, packet: bytes) -> bytes:
    chunks = _webp_chunks(image)
    first, start, end = chunks[0]
    body = bytearray()
    if first == b"VP8X":
        flagged = bytearray(image[start:end])
        flagged[0] |= 0x04  # the XMP flag
        body += _chunk(b"VP8X", bytes(flagged))
        rest = chunks[1:]
    else:
        # A simple WebP (one VP8 or VP8L chunk) needs the extended header to carry XMP.
        width, height, alpha = _webp_canvas(first, image[start:end])
        flags = 0x04 | (0x10 if alpha else 0)
        header = struct.pack("<B3x", flags)
        header += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        body += _chunk(b"VP8X", header)
        rest = chunks
    for fourcc, data_start, data_end in rest:
        if fourcc != b"XMP ":
            body += _chunk(fourcc, image[data_start:data_end])
    body += _chunk(b"XMP ", packet)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + bytes(body)


def _webp_canvas(fourcc: bytes, data: bytes) -> tuple[int, int, bool]:
    if fourcc == b"VP8 " and len(data) >= 10 and data[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    if fourcc == b"VP8L" and len(data) >= 5 and data[0] == 0x2F:
        bits = int.from_bytes(data[1:5], "little")
        width = (bits & 0x3FFF) + 1
        height = ((bits >> 14) & 0x3FFF) + 1
        return width, height, bool((bits >> 28) & 1)
    raise InvalidImageError("The WebP file is damaged: its image data is not readable.")


def _webp_find(image: bytes) -> bytes | None:
    for fourcc, start, end in _webp_chunks(image):
        if fourcc == b"XMP ":
            if end - start > MAX_XMP_PACKET:
                raise InvalidInputError("The file's generation details are too large to read.")
            return image[start:end]
    return None

"""What the engine hands back for one input: named files with their bytes."""

from __future__ import annotations

from dataclasses import dataclass

# Output format (as in the spec) -> (Pillow format, MIME type, file extension).
IMAGE_FORMATS: dict[str, tuple[str, str, str]] = {
    "jpeg": ("JPEG", "image/jpeg", "jpg"),
    "png": ("PNG", "image/png", "png"),
    "webp": ("WEBP", "image/webp", "webp"),
    "avif": ("AVIF", "image/avif", "avif"),
}
TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"
JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class OutputFile:
    """One result file. Names: the image `<stem>.<ext>`, OCR `<stem>.ocr.txt` and
    `<stem>.ocr.json`, thumbnails `<stem>_thumb_<size>.jpg` (`.webp` when it has alpha)."""

    name: str
    data: bytes
    media_type: str
    width: int | None = None
    height: int | None = None

    def __repr__(self) -> str:  # the bytes would flood logs and test failures
        size = f", {self.width}x{self.height}" if self.width else ""
        return f"OutputFile({self.name!r}, {len(self.data):,} bytes, {self.media_type}{size})"

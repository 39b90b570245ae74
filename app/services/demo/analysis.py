"""The landing page's live demo: the offline analyzer on one image, for visitors without an account.

Nothing is kept. The bytes are read into memory (at most `DEMO_MAX_BYTES`), validated exactly as
uploads are (`images.sniff_image`: the format is sniffed from the content, the pixel count is
checked before decoding, truncated files are caught), described by the offline analyzer, and
dropped when this function returns: no storage object, no Asset, no Analysis row, no credits.
The caller rate-limits per client address (`rate_limits` policy "demo").
"""

from __future__ import annotations

from typing import IO, Any

from app.services.analyzer.vision import analyze_image
from app.services.core.errors import ImageTooLargeError, InvalidImageError
from app.services.images.intake import sniff_image
from app.settings import Settings, get_settings

# Smaller than the account limit: the demo holds the whole file in memory.
DEMO_MAX_BYTES = 10 * 1024 * 1024
_CHUNK = 1024 * 1024


def demo_limit(settings: Settings | None = None) -> int:
    settings = settings or get_settings()
    return min(DEMO_MAX_BYTES, settings.max_upload_bytes)


def read_bounded(stream: IO[bytes], *, max_bytes: int) -> bytes:
    """The whole stream, refusing it as soon as it passes `max_bytes` (never reads it all)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise ImageTooLargeError(
                f"The demo takes images up to {max_bytes // (1024 * 1024)} MB. "
                "Sign up to analyze bigger files."
            )
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise InvalidImageError("The file is empty.")
    return data


def describe_upload(
    stream: IO[bytes], *, filename: str = "", settings: Settings | None = None
) -> dict[str, Any]:
    """A schema-valid JSON prompt for the image in `stream`; UserFacingError on bad input."""
    settings = settings or get_settings()
    data = read_bounded(stream, max_bytes=demo_limit(settings))
    sniff_image(data, settings=settings)  # the same checks as every upload, before any analysis
    return analyze_image(data, filename=filename)

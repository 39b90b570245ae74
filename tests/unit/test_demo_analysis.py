"""The landing page's live demo: the offline analyzer for visitors, keeping nothing."""

from __future__ import annotations

import io

import pytest
from sqlmodel import Session, func, select

from app.services.core.errors import ImageTooLargeError, InvalidImageError
from app.services.core.models import Analysis, Asset
from app.services.demo import analysis as demo_analysis
from app.services.library.prompts import validate_prompt
from app.settings import Settings
from tests.utils.images import jpeg_bytes, png_bomb, truncated_jpeg


def test_an_image_gets_a_schema_valid_prompt_and_nothing_is_kept(
    session: Session, isolated_settings: Settings
) -> None:
    data = demo_analysis.describe_upload(
        io.BytesIO(jpeg_bytes((320, 240), (30, 90, 200))), filename="blue.jpg"
    )
    assert validate_prompt(data) == []
    assert data["color_palette"][0]["hex"].lower().startswith("#")
    assert session.exec(select(func.count()).select_from(Asset)).one() == 0
    assert session.exec(select(func.count()).select_from(Analysis)).one() == 0
    storage_root = isolated_settings.data_dir / "storage"
    assert not storage_root.exists() or not any(p.is_file() for p in storage_root.rglob("*"))


@pytest.mark.parametrize(
    ("payload", "error", "message"),
    [
        (b"", InvalidImageError, "empty"),
        (b"hello, I am a text file", InvalidImageError, "JPEG, PNG, WebP or GIF"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", InvalidImageError, "an SVG drawing"),
        (truncated_jpeg(), InvalidImageError, "truncated or corrupt"),
        (png_bomb(), ImageTooLargeError, "megapixels"),
    ],
)
def test_bad_files_get_the_upload_messages(
    payload: bytes, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        demo_analysis.describe_upload(io.BytesIO(payload), filename="x")


def test_a_huge_file_is_refused_without_reading_it_all() -> None:
    class Endless(io.RawIOBase):
        reads = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.reads += 1
            return b"\xff" * (size if size > 0 else 1024)

    stream = Endless()
    with pytest.raises(ImageTooLargeError, match="10 MB"):
        demo_analysis.describe_upload(stream, filename="big.jpg")  # type: ignore[arg-type]
    assert stream.reads <= demo_analysis.DEMO_MAX_BYTES // (1024 * 1024) + 1

"""Uploads to input items: zips unpacked safely, each bad entry its own error row."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

import pytest

from app.services.studio.imageops import InputItem, iter_inputs
from app.settings import Settings, reset_settings
from tests.utils.imageops_samples import photo_jpeg, zip_of
from tests.utils.vision_images import solid

JPEG = photo_jpeg((64, 48))
PNG = solid((10, 200, 30), (40, 30))


def items(*files: tuple[str, bytes], max_items: int = 100) -> list[InputItem]:
    return list(
        iter_inputs([(name, io.BytesIO(data)) for name, data in files], max_items=max_items)
    )


def rows(result: list[InputItem]) -> list[tuple[str, bool]]:
    return [(item.name, item.data is not None) for item in result]


def test_plain_files_pass_through_and_non_images_get_an_error() -> None:
    result = items(("a.jpg", JPEG), ("notes.txt", b"hello"), ("../../b.png", PNG))
    assert rows(result) == [("a.jpg", True), ("notes.txt", False), ("b.png", True)]
    assert result[0].data == JPEG
    assert result[1].error is not None and "text file" in result[1].error


def test_zip_is_expanded_in_order_and_skips_folders_and_os_junk() -> None:
    archive = zip_of(
        {
            "trip/": b"",
            "trip/one.jpg": JPEG,
            "trip/two.png": PNG,
            "__MACOSX/trip/._one.jpg": b"\x00\x05\x16\x07junk",
            "trip/.DS_Store": b"\x00\x00\x00\x01Bud1",
        }
    )
    assert rows(items(("photos.zip", archive))) == [
        ("photos.zip/trip/one.jpg", True),
        ("photos.zip/trip/two.png", True),
    ]


def test_zip_entries_with_escaping_paths_are_refused_one_by_one() -> None:
    archive = zip_of({"../evil.jpg": JPEG, "/etc/abs.jpg": JPEG, "ok.jpg": JPEG})
    result = items(("x.zip", archive))
    assert rows(result) == [
        ("x.zip/../evil.jpg", False),
        ("x.zip//etc/abs.jpg", False),
        ("x.zip/ok.jpg", True),
    ]
    assert all("outside the archive" in (item.error or "") for item in result[:2])


def test_nested_zips_are_not_opened() -> None:
    inner = zip_of({"a.jpg": JPEG})
    archive = zip_of({"inner.zip": inner, "renamed.jpg": inner, "ok.png": PNG})
    result = items(("outer.zip", archive))
    assert rows(result) == [
        ("outer.zip/inner.zip", False),
        ("outer.zip/renamed.jpg", False),
        ("outer.zip/ok.png", True),
    ]
    assert "inside a zip" in (result[0].error or "")
    assert "inside a zip" in (result[1].error or "")


def test_zip_bomb_entry_is_refused_by_its_ratio_before_reading() -> None:
    bomb = b"\x00" * (50 * 1024 * 1024)  # 50 MB of zeros deflates to ~50 kB
    archive = zip_of({"bomb.bmp": bomb, "ok.jpg": JPEG})
    assert len(archive) < 200_000
    result = items(("b.zip", archive))
    assert rows(result) == [("b.zip/bomb.bmp", False), ("b.zip/ok.jpg", True)]
    assert "zip bombs" in (result[0].error or "")


def test_a_zip_that_unpacks_to_too_much_stops_unpacking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGEOPS_ZIP_MAX_BYTES", str(len(JPEG) * 2 + 10))
    reset_settings()
    archive = zip_of({f"{i}.jpg": JPEG for i in range(4)}, compression=zipfile.ZIP_STORED)
    result = items(("big.zip", archive))
    assert [item.data is not None for item in result] == [True, True, False, False]
    assert "in total" in (result[2].error or "")


def test_a_zip_with_too_many_entries_is_refused_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGEOPS_ZIP_MAX_ENTRIES", "3")
    reset_settings()
    archive = zip_of({f"{i}.png": PNG for i in range(5)})
    [only] = items(("many.zip", archive))
    assert only.data is None
    assert "5 entries" in (only.error or "") and "at most 3" in (only.error or "")


def test_entry_count_is_read_from_a_zip64_end_record() -> None:
    from app.services.studio.imageops.inputs import _zip_directory_size

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", allowZip64=True) as archive:
        archive.writestr("a.png", PNG)
    data = bytearray(buf.getvalue())
    # Rewrite the end record as a ZIP64 archive would: counts 0xFFFF, real ones in the
    # ZIP64 record that the locator points at.
    end = data.rfind(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack_from("<LL", data, end + 12)
    zip64 = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 7, 7, cd_size, cd_offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, end, 1)
    record = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, cd_size, cd_offset, 0)
    patched = bytes(data[:end]) + zip64 + locator + record
    assert _zip_directory_size(io.BytesIO(patched)) == (7, cd_size)


def test_corrupt_zip_gets_one_error_row() -> None:
    archive = zip_of({"a.jpg": JPEG})
    [row] = items(("broken.zip", archive[: len(archive) // 2]))
    assert row.data is None and "not a readable zip" in (row.error or "")


def test_damaged_entry_is_its_own_error() -> None:
    archive = bytearray(zip_of({"a.png": PNG * 20, "b.jpg": JPEG}))
    start = archive.find(b"a.png") + len(b"a.png") + 10
    archive[start : start + 40] = b"\xff" * 40  # garble a.png's deflate stream
    result = items(("d.zip", bytes(archive)))
    assert rows(result) == [("d.zip/a.png", False), ("d.zip/b.jpg", True)]
    assert "could not be unpacked" in (result[0].error or "")


def test_encrypted_entries_are_refused() -> None:
    archive = bytearray(zip_of({"secret.jpg": JPEG, "open.jpg": JPEG}))
    # Set the "encrypted" flag on the first entry in both headers (writing real ZipCrypto
    # needs a tool zipfile does not have; the flag is what is checked before reading).
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = archive.find(signature)
        archive[at + flag_at] |= 0x01
    result = items(("e.zip", bytes(archive)))
    assert rows(result) == [("e.zip/secret.jpg", False), ("e.zip/open.jpg", True)]
    assert "password" in (result[0].error or "")


def test_batch_limit_adds_one_row_and_stops_reading() -> None:
    opened: list[str] = []

    def uploads() -> Iterator[tuple[str, BinaryIO]]:
        for i in range(10):
            opened.append(f"{i}.png")
            yield f"{i}.png", io.BytesIO(PNG)

    result = list(iter_inputs(uploads(), max_items=3))
    assert rows(result) == [("0.png", True), ("1.png", True), ("2.png", True), ("3.png", False)]
    assert "batch limit of 3" in (result[-1].error or "")
    assert opened == ["0.png", "1.png", "2.png", "3.png"]  # nothing after the limit was read


def test_oversized_file_is_refused_without_reading_it_all(isolated_settings: Settings) -> None:
    settings = isolated_settings.model_copy(update={"max_upload_bytes": 1000})
    [row] = iter_inputs([("big.jpg", io.BytesIO(JPEG))], max_items=5, settings=settings)
    assert row.data is None and "upload limit" in (row.error or "")


def test_unseekable_streams_are_spooled() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    stream = io.BufferedReader(Pipe(zip_of({"a.jpg": JPEG})))
    assert rows(list(iter_inputs([("p.zip", stream)], max_items=5))) == [("p.zip/a.jpg", True)]

"""The photos a LoRA is trained on: 4 to 50 images, uploaded one by one or as one zip.

Nothing is trusted but the bytes: each photo is sniffed and decoded to the end by the same
checks as gallery uploads (images.decode), with its size and pixels capped. A zip is judged
from its directory before anything is unpacked (too many files, a member or a total too big,
a compression ratio no photo has), and each member is read with a cap, so a zip bomb costs
nothing. The photos are then packed into a fresh zip of our own for Fal to fetch.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from app.services.core.errors import ImageTooLargeError, InvalidImageError, InvalidInputError
from app.services.core.units import format_bytes
from app.services.images.decode import ACCEPTED_TEXT, decode_upload, sanitize_filename

MIN_PHOTOS = 4
MAX_PHOTOS = 50
MAX_PHOTO_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 300 * 1024 * 1024
MAX_PHOTO_PIXELS = 50_000_000
# Photos are compressed already: a member that shrank more than this in the zip is not one.
MAX_RATIO = 20
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# What macOS and Windows add to zips made in their file managers: not photos, not errors.
_SYSTEM_FILES = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")


@dataclass(frozen=True)
class Photo:
    name: str
    data: bytes
    extension: str
    width: int
    height: int


def read_photos(files: list[tuple[str, bytes]]) -> list[Photo]:
    """Check the uploads: 4-50 images, or one zip of them. Raises InvalidInputError (or its
    image subclasses) with what to fix, naming the file at fault."""
    if not files:
        raise InvalidInputError(
            f"Add {MIN_PHOTOS} to {MAX_PHOTOS} photos of your subject, or one zip of them."
        )
    zips = [name for name, data in files if data.startswith(_ZIP_MAGIC)]
    if zips and len(files) > 1:
        raise InvalidInputError("Upload one zip on its own, or photos without a zip, not both.")
    if zips:
        name, data = files[0]
        entries = _unzip(name, data)
    else:
        entries = files
    check_count(len(entries), source="zip" if zips else None)
    total = 0
    photos = []
    for filename, data in entries:
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise ImageTooLargeError(
                f"The photos add up to more than {format_bytes(MAX_TOTAL_BYTES)}. "
                "Use fewer or smaller photos."
            )
        photos.append(_photo(filename, data))
    return photos


def build_zip(photos: list[Photo]) -> bytes:
    """The photos as the zip Fal fetches, under plain names (photo-01.jpg ...)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as archive:
        for index, photo in enumerate(photos, start=1):
            archive.writestr(f"photo-{index:02d}.{photo.extension}", photo.data)
    return buf.getvalue()


def check_count(count: int, *, source: str | None) -> None:
    where = " in the zip" if source else ""
    if count < MIN_PHOTOS:
        raise InvalidInputError(
            f"A LoRA needs at least {MIN_PHOTOS} photos; there {'is' if count == 1 else 'are'} "
            f"{count}{where}. Add more photos of the same subject or style."
        )
    if count > MAX_PHOTOS:
        raise InvalidInputError(
            f"A LoRA takes at most {MAX_PHOTOS} photos; there are {count}{where}. "
            f"Keep the best {MAX_PHOTOS}."
        )


def _photo(filename: str, data: bytes) -> Photo:
    name = sanitize_filename(filename)
    if not data:
        raise InvalidImageError(f"{name} is empty.")
    if len(data) > MAX_PHOTO_BYTES:
        raise ImageTooLargeError(
            f"{name} is larger than {format_bytes(MAX_PHOTO_BYTES)}. Use a smaller photo."
        )
    try:
        decoded = decode_upload(io.BytesIO(data), max_pixels=MAX_PHOTO_PIXELS, thumb_size=64)
    except InvalidInputError as e:
        # Same class (so the same status), with the file named: one bad photo among fifty.
        raise type(e)(f"{name}: {e.message}") from e
    return Photo(name, data, decoded.extension, decoded.width, decoded.height)


def _unzip(zip_name: str, data: bytes) -> list[tuple[str, bytes]]:
    name = sanitize_filename(zip_name)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise InvalidInputError(f"{name} is not a zip we can open; it looks damaged.") from e
    with archive:
        members = [i for i in infos if not i.is_dir() and not _system_file(i.filename)]
        check_count(len(members), source="zip")
        total = 0
        for info in members:
            member = sanitize_filename(info.filename)
            if info.flag_bits & 0x1:
                raise InvalidInputError(f"{member} in the zip is password-protected.")
            if info.file_size > MAX_PHOTO_BYTES:
                raise ImageTooLargeError(
                    f"{member} in the zip unpacks to {format_bytes(info.file_size)}; a photo "
                    f"may be {format_bytes(MAX_PHOTO_BYTES)} at most."
                )
            if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 1e6:
                ratio = info.file_size // max(info.compress_size, 1)
                raise ImageTooLargeError(
                    f"{member} in the zip is compressed {ratio} times: photos don't shrink "
                    "like that, so it was not unpacked."
                )
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise ImageTooLargeError(
                    f"The zip unpacks to more than {format_bytes(MAX_TOTAL_BYTES)}. "
                    "Use fewer or smaller photos."
                )
        return [(info.filename, _read_member(archive, info)) for info in members]


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    member = sanitize_filename(info.filename)
    try:
        with archive.open(info) as stream:
            # The directory may lie about sizes: never read past the cap.
            data = stream.read(MAX_PHOTO_BYTES + 1)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as e:
        raise InvalidInputError(
            f"{member} in the zip could not be unpacked: it looks damaged."
        ) from e
    if len(data) > MAX_PHOTO_BYTES:
        raise ImageTooLargeError(f"{member} in the zip is bigger than it claims; it was refused.")
    if not data:
        raise InvalidImageError(f"{member} in the zip is empty; use {ACCEPTED_TEXT} photos.")
    return data


def _system_file(path: str) -> bool:
    base = path.rsplit("/", 1)[-1]
    return path.startswith(_SYSTEM_FILES[0]) or base in _SYSTEM_FILES or base.startswith("._")

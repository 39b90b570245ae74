"""Files picked on /studio wait on disk until Run: the browser sends them once, on drop.

Each open studio tab gets its own folder under DATA_DIR/studio-staging (shared by every backend
worker). Run hands the files to `jobs.create_job`, which copies them into storage; the folder is
then removed. Folders a closed tab left behind are swept after a day.
"""

from __future__ import annotations

import secrets
import shutil
import time
import zipfile
from pathlib import Path
from typing import BinaryIO

from app.services.core.errors import ImageTooLargeError
from app.services.core.units import format_bytes
from app.services.images.intake import sanitize_filename
from app.settings import get_settings

STALE_AFTER_SECONDS = 24 * 3600
IMAGE_SUFFIXES = (
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".gif",
    ".bmp",
    ".tif",
    ".tiff",
    ".avif",
    ".heic",
)
CHUNK = 1024 * 1024


def staging_root() -> Path:
    return get_settings().data_dir / "studio-staging"


def new_staging_dir(user_id: int) -> str:
    root = staging_root()
    _sweep(root)
    path = root / f"{user_id}-{secrets.token_hex(8)}"
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def stage(folder: str, *, name: str, stream: BinaryIO) -> dict[str, object]:
    """Copy one picked file into the folder; returns the row the page lists."""
    safe = sanitize_filename(name)
    file_id = secrets.token_hex(6)
    target = Path(folder) / f"{file_id}-{safe}"
    limit, size = get_settings().max_upload_bytes, 0
    with target.open("wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                out.close()
                target.unlink(missing_ok=True)
                raise ImageTooLargeError(f"{safe} is larger than the upload limit.")
            out.write(chunk)
    is_zip = safe.lower().endswith(".zip")
    return {
        "id": file_id,
        "name": safe,
        "path": str(target),
        "bytes": size,
        "size": format_bytes(size),
        "kind": "zip" if is_zip else "image",
        "images": count_zip_images(target) if is_zip else 1,
    }


def count_zip_images(path: Path) -> int:
    """Image entries a zip seems to hold, for the cost preview; the job checks each one for real."""
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(
                1
                for info in archive.infolist()
                if not info.is_dir()
                and "__MACOSX" not in info.filename
                and info.filename.lower().endswith(IMAGE_SUFFIXES)
            )
    except (zipfile.BadZipFile, OSError):
        return 0


def remove(path: str) -> None:
    Path(path).unlink(missing_ok=True)


def discard(folder: str) -> None:
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def _sweep(root: Path) -> None:
    if not root.is_dir():
        return
    cutoff = time.time() - STALE_AFTER_SECONDS
    for child in root.iterdir():
        try:
            if child.stat().st_mtime < cutoff:
                shutil.rmtree(child, ignore_errors=True)
        except OSError:
            continue

"""Getting results out of a job: one zip of everything finished, or one output into the gallery."""

from __future__ import annotations

import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable
from typing import BinaryIO

from sqlmodel import Session, col, select

from app.services.core.errors import ConflictError, InvalidInputError, NotFoundError
from app.services.core.models import JobItem, User, utcnow
from app.services.core.storage import get_storage
from app.services.images.intake import ACCEPTED_FORMATS, ingest_image
from app.services.studio.jobs.records import load_job
from app.services.studio.jobs.views import FINISHED, ItemStatus

ERRORS_FILE = "errors.txt"
MAX_ENTRY_NAME = 150
# Already-compressed formats are stored as they are; deflating them again only costs CPU.
_STORED_TYPES = ("image/jpeg", "image/png", "image/webp", "image/avif", "image/gif")
_UNSAFE = re.compile(r'[<>:"|?*\\/]')
_ANALYZER_TYPES = {mime for mime, _ext in ACCEPTED_FORMATS.values()}
_SPOOL_MEMORY = 8 * 1024 * 1024


def write_zip(session: Session, *, user: User, job_id: int, out: BinaryIO) -> str:
    """Write every output of the job's finished items to `out` as a zip, plus errors.txt naming
    the images that failed or were cancelled. Works while the job runs (what is done so far).
    Returns the file name to offer for download."""
    job = load_job(session, user=user, job_id=job_id)
    items = list(
        session.exec(
            select(JobItem).where(JobItem.job_id == job_id).order_by(col(JobItem.position))
        )
    )
    done = [i for i in items if i.status == ItemStatus.done and i.outputs]
    if not done:
        if job.status in FINISHED:
            raise ConflictError("This job has no results to download: no image was processed.")
        raise ConflictError("Nothing to download yet: no image has finished. Try again shortly.")
    storage = get_storage()
    names = UniqueNames(reserved={ERRORS_FILE})
    stamp = utcnow().timetuple()[:6]
    with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
        for item in done:
            for output in item.outputs:
                info = zipfile.ZipInfo(names.add(output["name"]), date_time=stamp)
                info.compress_type = (
                    zipfile.ZIP_STORED
                    if output["media_type"] in _STORED_TYPES
                    else zipfile.ZIP_DEFLATED
                )
                with archive.open(info, "w") as entry:
                    for chunk in storage.open_stream(output["key"]):
                        entry.write(chunk)
        problems = [i for i in items if i.status in (ItemStatus.failed, ItemStatus.cancelled)]
        if problems:
            lines = [
                f"{i.position + 1}. {i.name}: {i.error or 'cancelled before it ran'}"
                for i in problems
            ]
            archive.writestr(
                zipfile.ZipInfo(ERRORS_FILE, date_time=stamp),
                "\n".join(lines) + "\n",
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return f"jsoncraft-job-{job_id}.zip"


class UniqueNames:
    """Safe, distinct zip entry names: "photo.webp", then "photo (2).webp". Compared without
    case, since most desktops unzip onto case-insensitive file systems."""

    def __init__(self, *, reserved: Iterable[str] = ()) -> None:
        self._taken = {name.casefold() for name in reserved}

    def add(self, name: str) -> str:
        base = safe_entry_name(name)
        stem, dot, ext = base.rpartition(".")
        if not dot or not stem:
            stem, dot, ext = base, "", ""
        candidate, n = base, 1
        while candidate.casefold() in self._taken:
            n += 1
            candidate = f"{stem} ({n}){dot}{ext}"
        self._taken.add(candidate.casefold())
        return candidate


def safe_entry_name(name: str) -> str:
    """A flat file name: no folders, no `..`, no control or reserved characters."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = _UNSAFE.sub("_", text).strip(" .")
    if not text:
        return "file"
    if len(text) > MAX_ENTRY_NAME:
        stem, dot, ext = text.rpartition(".")
        keep = MAX_ENTRY_NAME - len(ext) - 1
        text = stem[:keep] + dot + ext if dot and len(ext) <= 10 else text[:MAX_ENTRY_NAME]
    return text


def send_output_to_analyzer(
    session: Session, *, user: User, job_id: int, position: int, name: str
) -> int:
    """Add one output image of a finished item to the user's images (an Asset the analyzer and
    the gallery use) and return its id. The caller commits."""
    load_job(session, user=user, job_id=job_id)
    item = session.exec(
        select(JobItem).where(JobItem.job_id == job_id, JobItem.position == position)
    ).first()
    if item is None or item.status != ItemStatus.done:
        raise NotFoundError("That image has no results in this job.")
    output = next((o for o in item.outputs if o["name"] == name), None)
    if output is None:
        raise NotFoundError(f"This image has no result named {name!r}.")
    if output["media_type"] not in _ANALYZER_TYPES:
        raise InvalidInputError(
            "The analyzer takes JPEG, PNG, WebP or GIF images: convert to one of those first."
        )
    storage = get_storage()
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY) as spool:
        for chunk in storage.open_stream(output["key"]):
            spool.write(chunk)
        spool.seek(0)
        asset = ingest_image(
            session=session,
            storage=storage,
            owner_id=user.id,
            stream=spool,  # type: ignore[arg-type]
            filename=name,
        )
    assert asset.id is not None
    return asset.id

"""The worker's "Describe as JSON prompts" step for one image of a studio job.

Which image: the job's processed image when it makes one the analyzer can read (so a crop or
a filter the person asked for is what gets described), otherwise the original upload.

Order, so that a worker killed at any point neither saves twice nor charges twice:
1. the image joins the person's images (an Asset; the same bytes give the same Asset again);
2. the credits are reserved under the image's own key (describe_credits.describe_key): a worker
   that takes over finds the same reservation instead of holding the credits again;
3. the analyzer runs (not billed by itself: this step holds the credits);
4. the prompt is saved in the same transaction that marks the item done (runner._save_item), so
   an item is either done with its prompt or still to do, never a prompt without its item;
5. the reservation is settled (`settle_item`), and finish_job settles any left held by a crash.
"""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.services.analyzer.analysis import run_analysis
from app.services.analyzer.providers import ImageInput
from app.services.analyzer.providers.setup import ensure_models
from app.services.billing import credits
from app.services.core.db import session_scope
from app.services.core.errors import (
    ConflictError,
    InsufficientCreditsError,
    NotFoundError,
    UserFacingError,
)
from app.services.core.models import Job
from app.services.core.storage import Storage
from app.services.images.intake import ACCEPTED_FORMATS, ingest_image
from app.services.studio.describe import save_description
from app.services.studio.imageops import OutputFile
from app.services.studio.imageops.pipeline import output_stem
from app.services.studio.jobs.describe_credits import DESCRIBE_CREDITS, describe_key
from app.services.studio.jobs.records import output_key

PROMPT_MEDIA_TYPE = "application/json"
ANALYZER_TYPES = {mime for mime, _ext in ACCEPTED_FORMATS.values()}


@dataclass(frozen=True)
class DescribeJob:
    """What the step needs of its job, read once when the worker starts it."""

    job_id: int
    user_id: int
    token: str
    model_id: str
    price: int  # credits per image, fixed when the job was created

    @property
    def tag(self) -> str:
        return job_tag(self.job_id)

    @classmethod
    def of(cls, job: Job) -> DescribeJob | None:
        describe = (job.spec or {}).get("describe")
        if not describe or job.id is None or job.user_id is None or job.token is None:
            return None
        return cls(
            job_id=job.id,
            user_id=job.user_id,
            token=job.token,
            model_id=str(describe["model"]),
            price=int(job.result.get(DESCRIBE_CREDITS, 0)),
        )


def job_tag(job_id: int) -> str:
    """The gallery tag of the prompts a studio job described."""
    return f"studio-job-{job_id}"


@dataclass(frozen=True)
class Description:
    """An analysis that succeeded and waits to be saved with its item."""

    asset_id: int
    analysis_id: int | None
    data: dict[str, Any]
    title: str
    output: dict[str, Any]  # the item's output entry for the JSON file (prompt_id added at save)

    def save(self, session: Session, job: DescribeJob) -> dict[str, Any]:
        """Save the prompt to the gallery in `session`'s transaction; the output entry."""
        prompt_id = save_description(
            session,
            user_id=job.user_id,
            asset_id=self.asset_id,
            title=self.title,
            model_id=job.model_id,
            analysis_id=self.analysis_id,
            data=self.data,
            tags=[job.tag],
        )
        return {**self.output, "prompt_id": prompt_id}


def describe_image(
    job: DescribeJob,
    *,
    position: int,
    index: int,
    name: str,
    input_key: str | None,
    processed: OutputFile | None,
    storage: Storage,
) -> Description | UserFacingError:
    """Steps 1-3 above for one image. A failure is returned as the item's message; the
    reservation (if any) stays held for `settle_item` to refund once the item is saved."""
    try:
        image = _image_to_describe(processed, input_key=input_key, storage=storage)
        asset_id, analyzed = _add_to_images(job.user_id, image, name, storage)
        _reserve(job, position)
        analysis_id, data = asyncio.run(_analyze(job, analyzed, asset_id))
    except UserFacingError as e:
        return UserFacingError(f"Describe as JSON prompts: {e.message}")
    title = output_stem(name)
    text = json.dumps(data, ensure_ascii=False, indent=2).encode()
    file_name = f"{title}.prompt.json"
    key = output_key(job.token, position, index, file_name)
    size = storage.put_bytes(key, text, content_type=PROMPT_MEDIA_TYPE)
    output = {
        "name": file_name,
        "key": key,
        "media_type": PROMPT_MEDIA_TYPE,
        "size": size,
        "width": None,
        "height": None,
    }
    return Description(
        asset_id=asset_id, analysis_id=analysis_id, data=data, title=name, output=output
    )


def settle_item(job: DescribeJob, *, position: int, described: bool) -> None:
    """Charge the image's reservation once its prompt is saved, or refund it. Idempotent."""
    if job.price <= 0:
        return
    key = describe_key(job.token, position)
    with session_scope() as session:
        try:
            if described:
                credits.commit(session, key=key, actual=job.price)
            else:
                credits.refund(session, key=key)
        except (NotFoundError, ConflictError):  # never reserved, or settled already
            return


def _image_to_describe(
    processed: OutputFile | None, *, input_key: str | None, storage: Storage
) -> bytes:
    if processed is not None and processed.media_type in ANALYZER_TYPES:
        return processed.data
    if input_key is None:
        raise NotFoundError("the uploaded file is no longer in storage.")
    return storage.read_bytes(input_key)


def _add_to_images(
    user_id: int, image: bytes, name: str, storage: Storage
) -> tuple[int, ImageInput]:
    """The image as one of the person's images (what the gallery card and the prompt's page
    show), and as the analyzer reads it. Refuses what the analyzer can't read."""
    with session_scope() as session:
        asset = ingest_image(
            session=session,
            storage=storage,
            owner_id=user_id,
            stream=io.BytesIO(image),
            filename=name,
        )
        session.commit()
        assert asset.id is not None
        asset_id, key, mime = asset.id, asset.storage_key, asset.mime_type
    return asset_id, ImageInput(data=storage.read_bytes(key), mime_type=mime)


def _reserve(job: DescribeJob, position: int) -> None:
    """Hold the image's credits; a worker taking over finds the reservation already made."""
    if job.price <= 0:
        return
    with session_scope() as session:
        try:
            credits.reserve(
                session,
                user_id=job.user_id,
                amount=job.price,
                idempotency_key=describe_key(job.token, position),
                reference=f"job:{job.job_id} image {position + 1}",
            )
        except InsufficientCreditsError as e:
            raise UserFacingError(
                f"out of credits. Describing this image costs {e.cost} and your balance is "
                f"{e.balance}. Add credits, then run the images left in a new job."
            ) from None


async def _analyze(
    job: DescribeJob, image: ImageInput, asset_id: int
) -> tuple[int | None, dict[str, Any]]:
    # A worker process registers the analyzer's models on first use (idempotent), as
    # generation's worker does; the web process did so at start-up.
    await asyncio.to_thread(ensure_models)
    result = None
    async for update in run_analysis(
        kind="describe",
        model_id=job.model_id,
        user_id=job.user_id,
        image=image,
        asset_id=asset_id,
        use_memory=False,
        billed=False,
    ):
        if update.kind == "error":
            raise UserFacingError(update.text)
        if update.kind == "result":
            result = update
    if result is None or not result.data:
        raise UserFacingError("the description did not finish.")
    return result.analysis_id, result.data

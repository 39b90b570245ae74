"""Image uploads over REST: the same ingest path as the web page."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, UploadFile
from pydantic import BaseModel
from sqlmodel import Session

from app.api.deps import current_user, db_session
from app.api.errors import COMMON, SIGNED_IN, UPLOAD
from app.services.core.models import User
from app.services.core.storage import get_storage
from app.services.images.intake import ingest_image

router = APIRouter(prefix="/api", tags=["assets"], responses=COMMON | SIGNED_IN)


class AssetPublic(BaseModel):
    id: int
    content_hash: str
    mime_type: str
    size_bytes: int
    width: int
    height: int
    original_filename: str
    created_at: datetime
    thumbnail_url: str | None


@router.post(
    "/assets",
    response_model=AssetPublic,
    status_code=201,
    summary="Upload an image",
    responses=UPLOAD,
)
def upload_asset(
    file: UploadFile,
    user: User = Depends(current_user),
    session: Session = Depends(db_session),
) -> AssetPublic:
    # A sync handler: FastAPI runs it in a thread, so Pillow and storage I/O stay off the loop.
    storage = get_storage()
    asset = ingest_image(
        session=session,
        storage=storage,
        owner_id=user.id,
        stream=file.file,
        filename=file.filename or "upload",
    )
    session.commit()
    return AssetPublic(
        id=asset.id or 0,
        content_hash=asset.content_hash,
        mime_type=asset.mime_type,
        size_bytes=asset.size_bytes,
        width=asset.width,
        height=asset.height,
        original_filename=asset.original_filename,
        created_at=asset.created_at,
        thumbnail_url=storage.presigned_get_url(asset.thumbnail_key)
        if asset.thumbnail_key
        else None,
    )

"""Health and identity."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.api.deps import current_user
from app.services.health import check_health
from app.services.models import User

router = APIRouter(prefix="/api", tags=["system"])


@router.get("/health", summary="Database, storage and queue status (503 when one is down)")
async def health() -> JSONResponse:
    report = await asyncio.to_thread(check_health)
    return JSONResponse(report.as_dict(), status_code=200 if report.ok else 503)


class MePublic(BaseModel):
    id: int
    email: str
    display_name: str
    role: str


@router.get("/me", response_model=MePublic, summary="The signed-in account")
def me(user: User = Depends(current_user)) -> MePublic:
    return MePublic(
        id=user.id or 0, email=user.email, display_name=user.display_name, role=user.role
    )

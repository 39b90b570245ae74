"""Health and identity."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.api.deps import current_user
from app.api.errors import COMMON, SIGNED_IN
from app.services.core.health import check_health
from app.services.core.models import User

router = APIRouter(prefix="/api", tags=["system"], responses=COMMON)


class CheckOut(BaseModel):
    status: Literal["up", "down", "not configured"]
    backend: str | None = None
    pending: int | None = Field(default=None, description="queue only: tasks waiting")


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    checks: dict[str, CheckOut]


@router.get(
    "/health",
    response_model=HealthOut,
    summary="Database, storage, queue and Redis status (503 when one is down)",
    responses={503: {"model": HealthOut, "description": "A part is down: `checks` says which"}},
)
async def health() -> JSONResponse:
    report = await asyncio.to_thread(check_health)
    return JSONResponse(report.as_dict(), status_code=200 if report.ok else 503)


class MePublic(BaseModel):
    id: int
    email: str
    display_name: str
    role: str


@router.get("/me", response_model=MePublic, summary="The signed-in account", responses=SIGNED_IN)
def me(user: User = Depends(current_user)) -> MePublic:
    return MePublic(
        id=user.id or 0, email=user.email, display_name=user.display_name, role=user.role
    )

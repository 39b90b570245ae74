"""Admin-only REST endpoints. Roles are checked by the service as well as the dependency."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.api.deps import admin_user, db_session
from app.services import users
from app.services.models import User

router = APIRouter(prefix="/api/admin", tags=["admin"])


class UserPublic(BaseModel):
    id: int
    email: str
    display_name: str
    role: str
    is_active: bool
    created_at: datetime


class RoleChange(BaseModel):
    role: str = Field(max_length=20)


@router.get("/users", response_model=list[UserPublic], summary="Accounts, newest first (admin)")
def list_users(
    q: str = "",
    limit: int = 50,
    admin: User = Depends(admin_user),
    session: Session = Depends(db_session),
) -> list[UserPublic]:
    return [
        UserPublic(**vars(row))
        for row in users.list_users(session, actor=admin, query=q, limit=limit)
    ]


@router.put("/users/{user_id}/role", response_model=UserPublic, summary="Change a role (admin)")
def change_role(
    user_id: int,
    body: RoleChange,
    admin: User = Depends(admin_user),
    session: Session = Depends(db_session),
) -> UserPublic:
    user = users.change_role(session, actor=admin, user_id=user_id, role=body.role)
    session.commit()
    return UserPublic(
        id=user.id or 0,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        is_active=user.is_active,
        created_at=user.created_at,
    )

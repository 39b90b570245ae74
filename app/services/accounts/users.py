"""Admin view of accounts: search by email, change roles, disable. Admin-only, checked here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.services.accounts.auth import close_all_sessions, require_role
from app.services.core.errors import ConflictError, InvalidInputError, NotFoundError
from app.services.core.models import Role, User


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    display_name: str
    role: str
    is_active: bool
    created_at: datetime


def list_users(
    session: Session, *, actor: User | None, query: str = "", limit: int = 50
) -> list[UserRow]:
    require_role(actor, Role.admin)
    stmt = (
        select(User)
        .order_by(col(User.created_at).desc(), col(User.id).desc())
        .limit(max(1, min(limit, 200)))
    )
    needle = query.strip().lower()
    if needle:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(col(User.email).like(f"%{escaped}%", escape="\\"))
    return [
        UserRow(
            id=u.id or 0,
            email=u.email,
            display_name=u.display_name,
            role=u.role,
            is_active=u.is_active,
            created_at=u.created_at,
        )
        for u in session.exec(stmt).all()
    ]


def find_by_email(session: Session, *, actor: User | None, email: str) -> User:
    """The account with this email, however it was typed (admins only), else NotFoundError."""
    require_role(actor, Role.admin)
    found = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if found is None or found.id is None:
        raise NotFoundError("No account with that email.")
    return found


def change_role(session: Session, *, actor: User | None, user_id: int, role: str) -> User:
    admin = require_role(actor, Role.admin)
    try:
        new_role = Role(role)
    except ValueError as e:
        raise InvalidInputError(f"Unknown role '{role[:20]}'. Use user, editor or admin.") from e
    target = session.get(User, user_id)
    if target is None:
        raise NotFoundError("No such user.")
    if target.id == admin.id and new_role != Role.admin:
        # A conflict with who is asking, not a malformed request: the same body is fine for others.
        raise ConflictError("You can't remove your own admin role; ask another admin.")
    target.role = new_role.value
    session.add(target)
    session.flush()
    return target


def set_active(session: Session, *, actor: User | None, user_id: int, active: bool) -> User:
    admin = require_role(actor, Role.admin)
    target = session.get(User, user_id)
    if target is None:
        raise NotFoundError("No such user.")
    if target.id == admin.id and not active:
        raise InvalidInputError("You can't disable your own account.")
    target.is_active = active
    session.add(target)
    if not active and target.id is not None:
        close_all_sessions(session, user_id=target.id)  # a disabled account is signed out at once
    session.flush()
    return target

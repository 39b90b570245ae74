"""The one gate of every ops reader: admins only."""

from __future__ import annotations

from app.services.accounts.auth import require_role
from app.services.core.models import Role, User


def require_admin(actor: User | None) -> User:
    return require_role(actor, Role.admin)

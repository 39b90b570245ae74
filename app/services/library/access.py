"""Who may see, edit and manage a prompt: one place, so gallery, search and mutations agree.

- see:    public prompts, your own, and (admins) everything. Trashed prompts only their owner
          and admins. Anyone else gets "not found", so ids don't reveal what exists.
- edit:   add versions, revert, tag. Owners their own, editors any public prompt, admins all.
- manage: favourite, rating, visibility, share links, trash/restore/purge. Owners and admins:
          these are the owner's decisions, an editor curates content but doesn't own it.

Admins *can* open any prompt (moderation), but the gallery does not flood them with everyone's
private work: a listing shows an admin public + own, and all of one person's prompts only when
filtered by that owner (see gallery.list_prompts).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, true
from sqlmodel import Session, col

from app.services.accounts.auth import has_role
from app.services.core.errors import NotFoundError, PermissionDeniedError
from app.services.core.models import Prompt, Role, User

PUBLIC = "public"
PRIVATE = "private"
VISIBILITIES = (PRIVATE, PUBLIC)


def is_admin(user: User | None) -> bool:
    return has_role(user, Role.admin)


def is_owner(user: User | None, prompt: Prompt) -> bool:
    return user is not None and user.id is not None and prompt.owner_id == user.id


def can_view(user: User | None, prompt: Prompt) -> bool:
    if is_admin(user) or is_owner(user, prompt):
        return True
    return prompt.deleted_at is None and prompt.visibility == PUBLIC


def can_edit(user: User | None, prompt: Prompt) -> bool:
    if is_admin(user) or is_owner(user, prompt):
        return True
    return has_role(user, Role.editor) and prompt.visibility == PUBLIC and prompt.deleted_at is None


def can_manage(user: User | None, prompt: Prompt) -> bool:
    return is_admin(user) or is_owner(user, prompt)


def visibility_clause(viewer: User | None) -> ColumnElement[bool]:
    """Rows a listing shows: public + the viewer's own (admins included, see the docstring)."""
    public = col(Prompt.visibility) == PUBLIC
    if viewer is None or viewer.id is None:
        return public
    return or_(public, col(Prompt.owner_id) == viewer.id)


def trash_clause(viewer: User | None) -> ColumnElement[bool]:
    """Which trashed rows a viewer may list: their own; admins everyone's."""
    if is_admin(viewer):
        return true()
    if viewer is None or viewer.id is None:
        return col(Prompt.id).is_(None)  # always false, typed as a column clause
    return col(Prompt.owner_id) == viewer.id


def load_prompt(
    session: Session, *, prompt_id: int, viewer: User | None, need: str = "view"
) -> Prompt:
    """The prompt if `viewer` may `need` ("view" | "edit" | "manage") it.

    Invisible prompts are NotFound (no existence leak); visible but not allowed is
    PermissionDenied, so the UI can say why the button did nothing.
    """
    prompt = session.get(Prompt, prompt_id)
    if prompt is None or not can_view(viewer, prompt):
        raise NotFoundError("That prompt doesn't exist, or it isn't shared with you.")
    allowed = {"view": can_view, "edit": can_edit, "manage": can_manage}[need]
    if not allowed(viewer, prompt):
        if need == "edit":
            raise PermissionDeniedError("Only the owner or an editor can change this prompt.")
        raise PermissionDeniedError("Only the owner of this prompt can do that.")
    return prompt

"""A project looked up for its owner: the one check every project page and route starts with.

Its own module so that both projects.py (create, delete) and buckets.py (a project's storage)
can use it without importing each other."""

from __future__ import annotations

from sqlmodel import Session

from app.services.core.errors import NotFoundError
from app.services.core.models import Project, User


def get_owned_project(session: Session, *, owner: User, project_id: int) -> Project:
    """The project, if `owner` owns it. Another person's project is "not found", like a
    missing one, so ids reveal nothing."""
    project = session.get(Project, project_id)
    if project is None or project.owner_id != owner.id:
        raise NotFoundError("No such project.")
    return project

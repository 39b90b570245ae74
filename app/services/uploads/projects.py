"""Projects of the upload platform: listed, created within the plan, renamed and deleted by
their owner. A project's upload rules live in project_config.py, its usage in project_usage.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, func, select

from app.services.billing.pricing import plan_limits
from app.services.core.errors import ConflictError, InvalidInputError, NotFoundError, PlanLimitError
from app.services.core.logs import get_logger
from app.services.core.models import (
    ApiKey,
    Project,
    Prompt,
    Upload,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.services.uploads.buckets import storage_for_project
from app.services.uploads.ownership import get_owned_project
from app.services.uploads.project_usage import month_start, uploads_since

MAX_NAME = 120
log = get_logger("uploads.projects")


def project_owner(session: Session, *, project_id: int) -> User:
    """Who owns the project (for a request made with one of its keys)."""
    project = session.get(Project, project_id)
    owner = session.get(User, project.owner_id) if project is not None else None
    if owner is None:
        raise NotFoundError("No such project.")
    return owner


@dataclass(frozen=True)
class ProjectSummary:
    """A row of the projects list."""

    id: int
    name: str
    created_at: datetime
    key_count: int  # keys that still work (not revoked)
    uploads_this_month: int


def list_projects(session: Session, *, owner: User) -> list[ProjectSummary]:
    """The owner's projects, newest first, with their live keys and this month's uploads."""
    projects = session.exec(
        select(Project)
        .where(Project.owner_id == owner.id)
        .order_by(col(Project.created_at).desc(), col(Project.id).desc())
    ).all()
    ids = [p.id for p in projects]
    keys = dict(
        session.exec(
            select(ApiKey.project_id, func.count())
            .where(col(ApiKey.project_id).in_(ids), col(ApiKey.revoked_at).is_(None))
            .group_by(col(ApiKey.project_id))
        ).all()
    )
    uploads = uploads_since(session, project_ids=ids, since=month_start())
    return [
        ProjectSummary(
            id=p.id,
            name=p.name,
            created_at=p.created_at,
            key_count=int(keys.get(p.id, 0)),
            uploads_this_month=uploads.get(p.id, 0),
        )
        for p in projects
        if p.id is not None
    ]


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInputError("Give the project a name.")
    if len(cleaned) > MAX_NAME:
        raise InvalidInputError(f"A project name can be at most {MAX_NAME} characters.")
    return cleaned


def _refuse_duplicate(session: Session, *, owner: User, name: str, other_than: int | None) -> None:
    same = session.exec(
        select(Project.id).where(Project.owner_id == owner.id, Project.name == name)
    ).all()
    if any(pid != other_than for pid in same):
        raise ConflictError(f"You already have a project named “{name}”.")


def create_project(session: Session, *, owner: User, name: str) -> Project:
    """A new project with the default upload rules, if the owner's plan has room for it."""
    cleaned = clean_name(name)
    plan = plan_limits(owner)
    # One create at a time per owner (PostgreSQL row lock; SQLite writes one at a time anyway),
    # so two at once can't both see room for one more project.
    session.exec(select(User.id).where(User.id == owner.id).with_for_update()).one()
    count = session.exec(select(func.count()).where(Project.owner_id == owner.id)).one()
    if count >= plan.max_projects:
        raise PlanLimitError(
            f"The {plan.display_name} plan allows {plan.max_projects} projects and you have "
            f"{count}. Delete one, or see the plans at /pricing for more."
        )
    _refuse_duplicate(session, owner=owner, name=cleaned, other_than=None)
    assert owner.id is not None
    project = Project(owner_id=owner.id, name=cleaned)
    # Never above the plan's cap, even when the cap is below the column's default.
    project.max_file_size = min(project.max_file_size, plan.max_upload_file_size)
    session.add(project)
    session.flush()
    return project


def rename_project(session: Session, *, owner: User, project_id: int, name: str) -> Project:
    project = get_owned_project(session, owner=owner, project_id=project_id)
    cleaned = clean_name(name)
    _refuse_duplicate(session, owner=owner, name=cleaned, other_than=project.id)
    project.name = cleaned
    session.add(project)
    session.flush()
    return project


@dataclass(frozen=True)
class DeletedProject:
    name: str
    uploads: int
    objects: int  # stored objects removed (files, thumbnails, CDN copies)


def delete_project(session: Session, *, owner: User, project_id: int) -> DeletedProject:
    """The project and everything in it: keys, uploads and their stored objects, webhook
    endpoints with their deliveries and attempts. Prompts filed under it stay, unfiled.

    Objects are deleted here, before the rows, in the caller's transaction: if the store fails
    part-way, the rows stay (the transaction rolls back) and deleting again finishes the job,
    since deleting a missing object is not an error. Nothing is left behind unlisted."""
    project = get_owned_project(session, owner=owner, project_id=project_id)
    storage = storage_for_project(project)
    rows = session.exec(
        select(Upload.storage_key, Upload.thumbnail_key, Upload.cdn_key).where(
            Upload.project_id == project_id
        )
    ).all()
    keys = {key for row in rows for key in row if key}
    for key in sorted(keys):
        storage.delete(key)
    endpoints = select(WebhookEndpoint.id).where(WebhookEndpoint.project_id == project_id)
    deliveries = select(WebhookDelivery.id).where(
        or_(
            col(WebhookDelivery.endpoint_id).in_(endpoints),
            col(WebhookDelivery.project_id) == project_id,
        )
    )
    # Children first: SQLite only cascades with its foreign_keys pragma on.
    session.exec(delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(deliveries)))
    session.exec(delete(WebhookDelivery).where(col(WebhookDelivery.id).in_(deliveries)))
    session.exec(delete(WebhookEndpoint).where(col(WebhookEndpoint.project_id) == project_id))
    session.exec(delete(Upload).where(col(Upload.project_id) == project_id))
    session.exec(delete(ApiKey).where(col(ApiKey.project_id) == project_id))
    session.exec(update(Prompt).where(col(Prompt.project_id) == project_id).values(project_id=None))
    name = project.name
    session.delete(project)
    session.flush()
    log.info("project deleted", extra={"project_id": project_id, "objects": len(keys)})
    return DeletedProject(name=name, uploads=len(rows), objects=len(keys))

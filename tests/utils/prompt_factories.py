"""Factories for library tests: users by role, valid prompts, prompts saved through the service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.services.accounts import auth
from app.services.core.models import Prompt, Role, User
from app.services.library.writes import create_prompt


def make_user(session: Session, name: str, role: Role = Role.user) -> User:
    # No password: hashing is slow and these users never sign in with one.
    return auth.create_user(
        session, email=f"{name}@example.com", password=None, display_name=name, role=role
    )


def prompt_data(scene: str = "An abstract pattern", **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schema_version": "1.0",
        "scene": scene,
        "subjects": [],
        "style": {},
        "color_palette": [],
        "lighting": {},
        "composition": {},
    }
    data.update(fields)
    return data


def make_prompt(
    session: Session,
    owner: User,
    title: str = "A prompt",
    *,
    scene: str = "An abstract pattern",
    visibility: str = "public",
    tags: list[str] | None = None,
    model: str = "",
    style: str = "",
    created_at: datetime | None = None,
    data: dict[str, Any] | None = None,
) -> Prompt:
    assert owner.id is not None
    prompt = create_prompt(
        session,
        owner_id=owner.id,
        title=title,
        data=data or prompt_data(scene),
        model=model,
        style=style,
        visibility=visibility,
        tags=tags or [],
    )
    if created_at is not None:
        prompt.created_at = created_at
        session.add(prompt)
        session.flush()
    return prompt

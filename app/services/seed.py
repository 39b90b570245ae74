"""Demo data: a public gallery of drawn images with prompts measured from their pixels.

Idempotent: running it again finds what is there and adds only what is missing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from sqlmodel import Session, select

from app.services.demo_images import demo_catalog, describe_demo, render_demo_png
from app.services.images import ingest_image
from app.services.library import create_prompt
from app.services.models import Prompt, User
from app.services.storage import Storage


@dataclass(frozen=True)
class SeedResult:
    created: int
    existing: int


def ensure_demo_user(session: Session, *, email: str) -> User:
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        # No password: the demo account owns the public examples and cannot be signed into.
        user = User(email=email, display_name="JSONCraft demo", password_hash=None)
        session.add(user)
        session.flush()
    return user


def seed_demo(session: Session, *, storage: Storage, email: str) -> SeedResult:
    user = ensure_demo_user(session, email=email)
    assert user.id is not None
    created = existing = 0
    for scene in demo_catalog():
        title = scene.title
        if session.exec(
            select(Prompt).where(Prompt.owner_id == user.id, Prompt.title == title)
        ).first():
            existing += 1
            continue
        image = scene.draw()
        png = render_demo_png(scene)
        asset = ingest_image(
            session=session,
            storage=storage,
            owner_id=user.id,
            stream=io.BytesIO(png),
            filename=f"{scene.slug}.png",
        )
        data = describe_demo(scene, image)
        create_prompt(
            session,
            owner_id=user.id,
            title=title,
            data=data,
            asset_id=asset.id,
            model="local/demo",
            style=str(scene.style.get("medium", "")),
            visibility="public",
            tags=list(scene.tags),
            message="Seeded demo prompt",
        )
        session.commit()
        created += 1
    return SeedResult(created=created, existing=existing)

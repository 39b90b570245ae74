"""Demo data: a public gallery of drawn images with prompts measured from their pixels.

Idempotent: running it again finds what is there and adds only what is missing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from sqlmodel import Session, select

from app.services.analyzer.style_memory import index_prompt
from app.services.core.models import Prompt, PromptEmbedding, PromptVersion, User
from app.services.core.storage import Storage
from app.services.demo.images import demo_catalog, describe_demo, render_demo_png
from app.services.images.intake import ingest_image
from app.services.library.writes import create_prompt


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
        found = session.exec(
            select(Prompt).where(Prompt.owner_id == user.id, Prompt.title == title)
        ).first()
        if found is not None:
            existing += 1
            _index_if_missing(session, found)
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
        prompt = create_prompt(
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
        assert prompt.id is not None
        index_prompt(session, prompt_id=prompt.id, data=data)
        session.commit()
        created += 1
    return SeedResult(created=created, existing=existing)


def _index_if_missing(session: Session, prompt: Prompt) -> None:
    """Prompts seeded before style memory existed get their embedding on the next seed."""
    if prompt.id is None or session.get(PromptEmbedding, prompt.id) is not None:
        return
    version = session.get(PromptVersion, prompt.current_version_id)
    if version is not None:
        index_prompt(session, prompt_id=prompt.id, data=dict(version.data))
        session.commit()

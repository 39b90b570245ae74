"""The maintenance job empties old trash and keeps recent trash."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from app.services.accounts import auth
from app.services.core.models import Prompt, PromptVersion, utcnow
from app.services.demo.images import demo_catalog, describe_demo
from app.services.library.writes import create_prompt
from app.services.worker.maintenance import run_maintenance


def test_old_trash_is_purged_and_recent_trash_kept(session: Session) -> None:
    owner = auth.create_user(session, email="o@example.com", password="a long passphrase here")
    assert owner.id is not None
    scene = demo_catalog()[0]
    data = describe_demo(scene, scene.draw())
    old = create_prompt(session, owner_id=owner.id, title="old", data=data)
    recent = create_prompt(session, owner_id=owner.id, title="recent", data=data)
    create_prompt(session, owner_id=owner.id, title="live", data=data)
    old.deleted_at = utcnow() - timedelta(days=31)
    recent.deleted_at = utcnow() - timedelta(days=1)
    session.add_all([old, recent])
    session.commit()
    old_id = old.id
    result = run_maintenance()
    assert result["purged_trash"] == 1
    session.expire_all()
    titles = {p.title for p in session.exec(select(Prompt)).all()}
    assert titles == {"recent", "live"}
    versions = session.exec(select(PromptVersion.prompt_id)).all()
    assert old_id not in versions and len(versions) == 2


def test_maintenance_gives_each_plan_its_monthly_credits_once(session: Session) -> None:
    from app.services.billing import credits, pricing

    user = auth.create_user(session, email="m@example.com", password="a long passphrase here")
    session.commit()
    assert user.id is not None
    first = run_maintenance()
    second = run_maintenance()
    assert first["plan_grants"] >= 1 and second["plan_grants"] >= 1  # the same grant, found again
    expected = pricing.PLANS["free"].monthly_credits
    assert credits.balance(session, user_id=user.id) == expected

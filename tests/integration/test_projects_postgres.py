"""Projects and keys on a real PostgreSQL: the list's counts, grace periods read back with their
zone, deleting a project with everything in it, and the plan's project limit under concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.services.accounts.api_keys import authenticate_project_key
from app.services.core.db import engine_for
from app.services.core.errors import PlanLimitError
from app.services.core.models import (
    ApiKey,
    Project,
    Prompt,
    Upload,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from app.services.core.storage import get_storage
from app.services.uploads.keys import create_project_key, list_keys, regenerate_key
from app.services.uploads.project_config import update_config
from app.services.uploads.project_usage import project_usage
from app.services.uploads.projects import create_project, delete_project, list_projects
from tests.utils.job_helpers import make_user

pytestmark = pytest.mark.integration


def test_keys_usage_rules_and_delete_on_postgres(pg_session: Session, pg_url: str) -> None:
    session = pg_session
    owner = make_user(session, "dev@example.com")
    project = create_project(session, owner=owner, name="Site")
    assert project.id is not None
    pid = project.id
    key = create_project_key(
        session, owner=owner, project_id=pid, name="server", scopes=["upload", "manage"]
    )
    regenerate_key(session, owner=owner, project_id=pid, key_id=key.key_id, grace="1h")
    update_config(session, owner=owner, project_id=pid, changes={"allowed_types": ["image/*"]})
    storage = get_storage()
    for n in range(2):
        upload = Upload(
            id=f"up_pg_{n}",
            project_id=pid,
            name="a.png",
            size=3,
            content_type="image/png",
            storage_key=f"uploads/{pid}/{n}.png",
            url_expires_at=utcnow(),
        )
        storage.put_bytes(upload.storage_key, b"png", content_type="image/png")
        session.add(upload)
    endpoint = WebhookEndpoint(project_id=pid, url="https://example.com/h", secret_enc="x")
    session.add(endpoint)
    session.flush()
    assert endpoint.id is not None
    session.add(
        WebhookDelivery(
            id="msg_pg", endpoint_id=endpoint.id, project_id=pid, event_type="e", payload="{}"
        )
    )
    session.flush()
    session.add(WebhookAttempt(delivery_id="msg_pg", endpoint_id=endpoint.id))
    session.add(Prompt(owner_id=owner.id, project_id=pid, title="filed", data={}))
    session.commit()

    with Session(engine_for(pg_url)) as fresh:  # read back: timestamps keep their zone
        assert authenticate_project_key(fresh, key.key, scope="upload").key_id == key.key_id
        views = {v.id: v for v in list_keys(fresh, owner=owner, project_id=pid)}
        end = views[key.key_id].expires_at
        assert end is not None and timedelta(minutes=59) < end - utcnow() <= timedelta(hours=1)
        [summary] = list_projects(fresh, owner=owner)
        assert (summary.key_count, summary.uploads_this_month) == (2, 2)
        assert project_usage(fresh, owner=owner, project=project).uploads_this_month == 2

        result = delete_project(fresh, owner=owner, project_id=pid)
        fresh.commit()
        assert (result.uploads, result.objects) == (2, 2)
        for model in (Project, ApiKey, Upload, WebhookEndpoint, WebhookDelivery, WebhookAttempt):
            assert fresh.exec(select(model)).all() == [], model
        assert fresh.exec(select(Prompt.project_id)).all() == [None]
        assert not storage.exists(f"uploads/{pid}/0.png")


def test_concurrent_creates_never_pass_the_plans_project_limit(
    pg_session: Session, pg_url: str
) -> None:
    owner = make_user(pg_session, "dev@example.com")  # Free: 3 projects
    engine = engine_for(pg_url)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def create(n: int) -> None:
        with Session(engine) as session:
            me = session.merge(owner)
            barrier.wait()
            try:
                create_project(session, owner=me, name=f"P{n}")
                session.commit()
                outcomes.append("created")
            except PlanLimitError:
                outcomes.append("refused")

    threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["created"] * 3 + ["refused"] * 3
    assert len(list_projects(pg_session, owner=owner)) == 3

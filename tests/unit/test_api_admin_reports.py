"""Admin reports over REST: usage over time (everyone's or one account's), top users, revenue.
Admins only, refused by the server for anyone else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api import create_api
from app.services.accounts import auth
from app.services.core.models import Analysis, Payment, User

PASSWORD = "correct horse battery staple"
ENDPOINTS = ["/api/admin/usage", "/api/admin/top-users", "/api/admin/revenue"]


@pytest.fixture
def client(db_url: str) -> TestClient:
    return TestClient(create_api(), raise_server_exceptions=False)


def bearer(session: Session, user: User) -> dict[str, str]:
    token = auth.open_session(session, user=user)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def ada(session: Session) -> User:
    user = auth.create_user(session, email="ada@example.com", password=PASSWORD)
    session.commit()
    return user


@pytest.fixture
def admin_headers(session: Session) -> dict[str, str]:
    admin, _ = auth.ensure_admin(session, email="boss@example.com", password=PASSWORD)
    session.commit()
    return bearer(session, admin)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_reports_refuse_everyone_but_admins(
    client: TestClient, session: Session, ada: User, path: str
) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers=bearer(session, ada)).status_code == 403
    editor = auth.create_user(session, email="ed@example.com", password=PASSWORD)
    editor.role = "editor"
    session.add(editor)
    session.commit()
    refused = client.get(path, headers=bearer(session, editor))
    assert refused.status_code == 403
    assert "credits" not in refused.text


def test_usage_over_time_for_everyone_and_for_one_account(
    client: TestClient, session: Session, ada: User, admin_headers: dict[str, str]
) -> None:
    bob = auth.create_user(session, email="bob@example.com", password=PASSWORD)
    now = datetime.now(UTC)
    for user, model, cost in [(ada, "a/model", 3), (ada, "b/model", 2), (bob, "a/model", 7)]:
        session.add(
            Analysis(
                user_id=user.id,
                provider="x",
                model=model,
                status="succeeded",
                cost_credits=cost,
                created_at=now,
            )  # fmt: skip
        )
    session.commit()

    everyone = client.get("/api/admin/usage", headers=admin_headers, params={"days": 7})
    assert everyone.status_code == 200, everyone.text
    body = everyone.json()
    assert (body["days"], body["user_id"], body["total"], body["calls"]) == (7, None, 12, 3)
    assert body["models"] == ["a/model", "b/model"]
    assert len(body["series"]) == 7
    assert body["series"][-1] == {
        "day": now.date().isoformat(),
        "credits": {"a/model": 10, "b/model": 2},
        "total": 12,
        "calls": 3,
    }
    assert all(d["total"] == 0 for d in body["series"][:-1])

    hers = client.get("/api/admin/usage", headers=admin_headers, params={"user_id": ada.id}).json()
    assert (hers["email"], hers["total"], len(hers["series"])) == ("ada@example.com", 5, 30)
    assert hers["series"][-1]["credits"] == {"a/model": 3, "b/model": 2}

    top = client.get("/api/admin/top-users", headers=admin_headers).json()
    assert [(t["email"], t["credits"], t["user_id"]) for t in top] == [
        ("bob@example.com", 7, bob.id),
        ("ada@example.com", 5, ada.id),
    ]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"days": 0}, 422),
        ({"days": 367}, 422),
        ({"days": "week"}, 422),
        ({"user_id": 0}, 422),
        ({"user_id": 999_999}, 404),
    ],
)
def test_bad_report_requests_say_what_is_wrong(
    client: TestClient, admin_headers: dict[str, str], params: dict[str, object], status: int
) -> None:
    reply = client.get("/api/admin/usage", headers=admin_headers, params=params)
    assert reply.status_code == status
    assert reply.json()["detail"]


def test_revenue_per_day(
    client: TestClient, session: Session, ada: User, admin_headers: dict[str, str]
) -> None:
    assert ada.id is not None
    for cents, kind, status in [(2000, "purchase", "paid"), (500, "refund", "refunded"),
                                (700, "purchase", "pending")]:  # fmt: skip
        session.add(Payment(user_id=ada.id, amount_cents=cents, status=status, kind=kind))
    session.commit()
    body = client.get("/api/admin/revenue", headers=admin_headers, params={"days": 3}).json()
    assert (body["cents"], body["payments"], body["refunds"], len(body["series"])) == (
        1500,
        1,
        1,
        3,
    )
    assert body["series"][-1] == {
        "day": datetime.now(UTC).date().isoformat(),
        "paid_cents": 2000,
        "refunded_cents": 500,
        "net_cents": 1500,
    }

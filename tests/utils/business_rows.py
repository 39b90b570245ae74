"""A small, hand-countable business for the /admin metrics tests (SQLite, PostgreSQL, browser):
six accounts and an admin, their subscriptions, analyses, generation runs and LoRA trainings.
The figures it must give are spelled out in EXPECTED, each worked out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from app.services.accounts import auth
from app.services.core.models import (
    Analysis,
    Generation,
    LoraTraining,
    StripeSubscription,
    User,
)

EXPECTED = {
    "mrr_cents": 2 * 1200,  # old2 (active) and new1 (past_due) on Pro at $12.00
    "pro_subscriptions": 2,
    "conversion": (4, 6),  # old1 (cancelled since), old2, new1, new4 (plan set) of 6 accounts
    "recent_conversion": (2, 4),  # new1, new4 of the 4 accounts from the last 30 days
    "first_analysis": (timedelta(hours=4), 3, 4),  # 2 h, 4 h, 6 h: median 4 h; 3 of 4
    "first_generation": (timedelta(hours=12, minutes=30), 2, 4),  # 5 h and 20 h
    "lora_completion": (3, 6),  # 2 done + 1 deleted with weights, of 6 finished
    "generations": (1.5, 1.5, 4),  # per active account 0, 1, 2, 3: mean, median, accounts
    "histogram": [("0", 1), ("1", 1), ("2-5", 2), ("6-20", 0), ("21+", 0)],
}


def seed_business(session: Session, *, now: datetime, tag: str = "") -> User:
    """Write the business (`tag` in its emails and Stripe ids, to write it more than once into
    one database); returns its admin."""
    admin, _ = auth.ensure_admin(session, email="boss@example.com", password=None)
    admin.created_at = now - timedelta(days=200)
    session.add(admin)

    def account(name: str, age: timedelta, plan: str = "free") -> User:
        user = auth.create_user(session, email=f"{name}{tag}@example.com", password=None)
        user.created_at, user.plan = now - age, plan
        session.add(user)
        session.flush()
        return user

    old1 = account("old1", timedelta(days=100))
    old2 = account("old2", timedelta(days=60), plan="pro")
    new1 = account("new1", timedelta(days=10), plan="pro")
    new2 = account("new2", timedelta(days=5))
    account("new3", timedelta(days=2))
    new4 = account("new4", timedelta(days=1), plan="pro")  # an admin's gift: no subscription

    for i, (user, status) in enumerate(
        [(old1, "canceled"), (old2, "active"), (new1, "past_due"), (new2, "incomplete")]
    ):
        assert user.id is not None
        session.add(
            StripeSubscription(
                subscription_id=f"sub_{tag}{i}",
                user_id=user.id,
                status=status,
                plan="pro",
                event_created_at=now,
                event_id=f"evt_{tag}{i}",
            )
        )

    def analysis(user: User, after: timedelta, status: str = "succeeded") -> None:
        session.add(
            Analysis(
                user_id=user.id,
                provider="offline",
                model="offline/vision",
                status=status,
                created_at=user.created_at + after,
            )
        )

    analysis(old1, timedelta(days=60))  # 40 days ago: before the window
    analysis(new1, timedelta(hours=2))
    analysis(new2, timedelta(hours=1), status="failed")  # a failure is no first analysis
    analysis(new2, timedelta(hours=4))
    analysis(new4, timedelta(hours=6))

    def generation(user: User, at: datetime, status: str = "done") -> None:
        assert user.id is not None
        session.add(
            Generation(
                user_id=user.id,
                prompt_data={"scene": "a lighthouse"},
                provider="offline",
                model="offline/render",
                prompt_format="json",
                prompt_sent="{}",
                width=64,
                height=64,
                aspect="1:1",
                n=1,
                status=status,
                created_at=at,
            )
        )

    for days_ago in (1, 2, 3, 45):  # the last one is before the window
        generation(old2, now - timedelta(days=days_ago))
    generation(new1, new1.created_at + timedelta(hours=5))
    generation(new4, new4.created_at + timedelta(hours=1), status="failed")
    generation(new4, new4.created_at + timedelta(hours=20))

    for i, (status, weights) in enumerate(
        [
            ("done", True),
            ("done", True),
            ("deleted", True),
            ("deleted", False),
            ("failed", False),
            ("cancelled", False),
            ("training", False),  # not finished: not counted
        ]
    ):
        assert old2.id is not None
        session.add(
            LoraTraining(
                user_id=old2.id,
                name=f"lora {i}",
                trigger_word="TOK",
                steps=1000,
                status=status,
                lora_url="https://fal.example/weights.safetensors" if weights else None,
            )
        )
    session.commit()
    return admin

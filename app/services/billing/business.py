"""The business metrics on /admin (the product's success measures): MRR, active Pro
subscriptions, free → Pro conversion, time to first analysis and first generation, LoRA
training completion, generations per user. Admin-only, checked here.

Definitions (each figure's label on /admin says the same):
- MRR: every live Stripe subscription (active, trialing or past_due: the states in which
  billing/webhook.py keeps the plan) at its plan's monthly price.
- Conversion: accounts (admins left out) that ever had a paid plan (a Stripe subscription that
  got past "incomplete", or the plan now), out of all accounts; and the same for the accounts
  that signed up in the last `days` days.
- Time to first analysis / generation: for the accounts that signed up in the last `days` days
  and got one, the median time from sign-up to their first succeeded analysis / first done
  generation run; `reached` says how many of the new accounts got there.
- LoRA completion: trainings done out of trainings finished (done, failed or cancelled; a
  deleted LoRA counts as done when it had its weights).
- Generations per user: generation runs in the last `days` days per active account (one with an
  analysis or a generation run in that window), zeros included: the mean and the median.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, union
from sqlmodel import Session, col, select

from app.services.accounts.auth import require_role
from app.services.billing.pricing import PLANS
from app.services.core.models import (
    Analysis,
    Generation,
    LoraTraining,
    Role,
    StripeSubscription,
    User,
    utcnow,
)

LIVE_STATES = ("active", "trialing", "past_due")  # the plan is kept (billing/webhook.py)
NEVER_PAID = ("incomplete", "incomplete_expired")  # the first payment never went through


@dataclass(frozen=True)
class Ratio:
    part: int
    whole: int

    @property
    def percent(self) -> float | None:
        return None if self.whole == 0 else 100 * self.part / self.whole


@dataclass(frozen=True)
class TimeToFirst:
    median: timedelta | None  # None when no new account got there
    reached: int  # new accounts that did it at least once
    accounts: int  # new accounts in the window


@dataclass(frozen=True)
class BusinessMetrics:
    days: int
    mrr_cents: int
    pro_subscriptions: int
    conversion: Ratio  # all time
    recent_conversion: Ratio  # accounts that signed up in the window
    first_analysis: TimeToFirst
    first_generation: TimeToFirst
    lora_completion: Ratio
    generations_mean: float
    generations_median: float
    active_users: int
    generations_histogram: list[tuple[str, int]]  # ("0", 3), ("1", 2), ("2-5", 1)...


HISTOGRAM = (("0", 0, 0), ("1", 1, 1), ("2-5", 2, 5), ("6-20", 6, 20), ("21+", 21, None))


def business_metrics(
    session: Session, *, actor: User | None, days: int = 30, now: datetime | None = None
) -> BusinessMetrics:
    require_role(actor, Role.admin)
    since = _aware(now or utcnow()) - timedelta(days=days)
    mrr, subscriptions = _mrr(session)
    accounts = _accounts(session)
    new_accounts = {uid: created for uid, created in accounts.items() if created >= since}
    paid = _ever_paid(session)
    per_user = _generations_per_active_user(session, since=since)
    counts = sorted(per_user.values())
    return BusinessMetrics(
        days=days,
        mrr_cents=mrr,
        pro_subscriptions=subscriptions,
        conversion=Ratio(len(paid & accounts.keys()), len(accounts)),
        recent_conversion=Ratio(len(paid & new_accounts.keys()), len(new_accounts)),
        first_analysis=_time_to_first(
            session,
            new_accounts,
            select(Analysis.user_id, func.min(Analysis.created_at))
            .where(Analysis.status == "succeeded")
            .group_by(col(Analysis.user_id)),
        ),
        first_generation=_time_to_first(
            session,
            new_accounts,
            select(Generation.user_id, func.min(Generation.created_at))
            .where(Generation.status == "done")
            .group_by(col(Generation.user_id)),
        ),
        lora_completion=_lora_completion(session),
        generations_mean=statistics.fmean(counts) if counts else 0.0,
        generations_median=float(statistics.median(counts)) if counts else 0.0,
        active_users=len(counts),
        generations_histogram=_histogram(counts),
    )


def _mrr(session: Session) -> tuple[int, int]:
    rows = session.exec(
        select(StripeSubscription.plan, func.count())
        .where(col(StripeSubscription.status).in_(LIVE_STATES))
        .group_by(col(StripeSubscription.plan))
    ).all()
    cents = subscriptions = 0
    for plan, count in rows:
        price = PLANS[plan].price_cents if plan in PLANS else 0
        if price > 0:
            cents += price * int(count)
            subscriptions += int(count)
    return cents, subscriptions


def _accounts(session: Session) -> dict[int, datetime]:
    rows = session.exec(select(User.id, User.created_at).where(User.role != Role.admin.value))
    return {int(uid): _aware(created) for uid, created in rows if uid is not None}


def _ever_paid(session: Session) -> set[int]:
    paid_plans = [name for name, plan in PLANS.items() if plan.price_cents > 0]
    subscribed = select(StripeSubscription.user_id).where(
        col(StripeSubscription.plan).in_(paid_plans),
        col(StripeSubscription.status).not_in(NEVER_PAID),
    )
    on_plan = select(User.id).where(col(User.plan).in_(paid_plans))
    return {int(uid) for (uid,) in session.execute(union(subscribed, on_plan)).all()}


def _time_to_first(
    session: Session, new_accounts: dict[int, datetime], query: object
) -> TimeToFirst:
    firsts = {
        int(uid): first
        for uid, first in session.exec(query).all()  # type: ignore[call-overload]
        if uid is not None and int(uid) in new_accounts
    }
    waits = sorted(_aware(first) - new_accounts[uid] for uid, first in firsts.items())
    return TimeToFirst(
        median=_median_duration(waits), reached=len(waits), accounts=len(new_accounts)
    )


def _lora_completion(session: Session) -> Ratio:
    rows = session.exec(
        select(LoraTraining.status, col(LoraTraining.lora_url).is_not(None), func.count())
        .where(col(LoraTraining.status).in_(("done", "failed", "cancelled", "deleted")))
        .group_by(col(LoraTraining.status), col(LoraTraining.lora_url).is_not(None))
    ).all()
    done = finished = 0
    for status, has_weights, count in rows:
        finished += int(count)
        if status == "done" or (status == "deleted" and has_weights):
            done += int(count)
    return Ratio(done, finished)


def _generations_per_active_user(session: Session, *, since: datetime) -> dict[int, int]:
    active = session.execute(
        union(
            select(Analysis.user_id).where(col(Analysis.created_at) >= since),
            select(Generation.user_id).where(col(Generation.created_at) >= since),
        )
    ).all()
    per_user = {int(uid): 0 for (uid,) in active if uid is not None}
    rows = session.exec(
        select(Generation.user_id, func.count())
        .where(col(Generation.created_at) >= since)
        .group_by(col(Generation.user_id))
    ).all()
    for uid, count in rows:
        per_user[int(uid)] = int(count)
    return per_user


def _histogram(counts: list[int]) -> list[tuple[str, int]]:
    tally: Counter[str] = Counter()
    for n in counts:
        label = next(b for b, low, high in HISTOGRAM if n >= low and (high is None or n <= high))
        tally[label] += 1
    return [(label, tally[label]) for label, _, _ in HISTOGRAM]


def _median_duration(waits: list[timedelta]) -> timedelta | None:
    if not waits:
        return None
    middle = len(waits) // 2
    if len(waits) % 2:
        return waits[middle]
    return (waits[middle - 1] + waits[middle]) / 2


def _aware(value: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they are UTC (core/models.py utcnow).
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

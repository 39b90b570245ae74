"""Prices in credits per model and per operation, and the plans (Free, Pro) with their limits.

A price key is "model:<model_id>" (one call of that model) or "op:<operation>" (an action that
is not a model call, or a surcharge on one). Keys without a row in `prices` cost their default:
the model registry's `credits_per_call`, or `OPERATION_DEFAULTS`. An admin's `set_price` writes
a row, which wins from then on; `seed_prices` writes the defaults as rows so the admin table
lists every price.

Plans are code, not data: their limits are enforced on the server (`plan_limits(user)`), and the
monthly grant is one ledger entry per user, plan and month, so running it twice is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, select

from app.services import credits
from app.services.auth import require_role
from app.services.errors import InvalidInputError
from app.services.models import CreditEntry, Price, Role, User, utcnow
from app.services.providers import get_registry

MODEL_PREFIX = "model:"
OPERATION_PREFIX = "op:"
MAX_PRICE = 100_000
# What an operation costs when no admin has priced it. Model calls are priced per model.
OPERATION_DEFAULTS: dict[str, int] = {
    "analysis": 0,  # surcharge on top of the model's price
    "refinement": 0,
    "generation": 4,
    # Image studio, per input image (app/services/jobs/costs.py). Local Pillow operations
    # (resize, convert, filters, thumbnails...) are free; each AI operation adds its price.
    "studio_local": 0,
    "studio_remove_background_local": 2,
    "studio_remove_background_fal": 5,
    "studio_ocr": 1,
}


@dataclass(frozen=True)
class Plan:
    name: str
    display_name: str
    monthly_credits: int
    max_batch: int  # images in one studio job (after zip files are expanded)
    max_concurrent_jobs: int  # studio jobs queued or running at once
    price_cents: int  # per month


PLANS: dict[str, Plan] = {
    "free": Plan(
        name="free",
        display_name="Free",
        monthly_credits=50,
        max_batch=25,
        max_concurrent_jobs=1,
        price_cents=0,
    ),
    "pro": Plan(
        name="pro",
        display_name="Pro",
        monthly_credits=1000,
        max_batch=500,
        max_concurrent_jobs=4,
        price_cents=1200,
    ),
}
DEFAULT_PLAN = "free"


@dataclass(frozen=True)
class PriceRow:
    key: str
    credits: int
    default: int  # what it costs without an admin's price
    custom: bool  # an admin set it
    updated_at: datetime | None
    updated_by: int | None


# -- prices ------------------------------------------------------------------------------------


def default_prices() -> dict[str, int]:
    """Every known key with its default: registered models, then operations."""
    defaults = {
        f"{MODEL_PREFIX}{info.model_id}": info.credits_per_call
        for info in get_registry().list_models()
    }
    defaults.update({f"{OPERATION_PREFIX}{op}": c for op, c in OPERATION_DEFAULTS.items()})
    return defaults


def list_prices(session: Session) -> list[PriceRow]:
    """Every price, known defaults and admin-set rows alike, sorted by key."""
    defaults = default_prices()
    stored = {row.key: row for row in session.exec(select(Price))}
    rows = []
    for key in sorted(defaults.keys() | stored.keys()):
        row = stored.get(key)
        default = defaults.get(key, row.credits if row else 0)
        rows.append(
            PriceRow(
                key=key,
                credits=row.credits if row else default,
                default=default,
                custom=row is not None and row.updated_by is not None,
                updated_at=row.updated_at if row else None,
                updated_by=row.updated_by if row else None,
            )
        )
    return rows


def set_price(session: Session, *, actor: User | None, key: str, credits: int) -> Price:
    """Set a price (admins only). The caller commits; the next paid action uses it."""
    admin = require_role(actor, Role.admin)
    key = _check_key(key)
    if isinstance(credits, bool) or not isinstance(credits, int) or not 0 <= credits <= MAX_PRICE:
        raise InvalidInputError(f"A price must be a whole number of credits from 0 to {MAX_PRICE}.")
    row = session.exec(select(Price).where(Price.key == key)).first()
    if row is None:
        row = Price(key=key, credits=credits)
    row.credits = credits
    row.updated_at = utcnow()
    row.updated_by = admin.id
    session.add(row)
    session.flush()
    return row


def seed_prices(session: Session) -> int:
    """Write a row for every default price that has none yet; returns how many were added.
    Admin-set prices are left alone. The caller commits."""
    existing = set(session.exec(select(Price.key)))
    added = 0
    for key, value in default_prices().items():
        if key not in existing:
            session.add(Price(key=key, credits=value))
            added += 1
    session.flush()
    return added


def price_for_model(session: Session, *, model_id: str, default: int) -> int:
    """Credits for one call of `model_id`: the admin's price, else `default` (pass the model's
    `credits_per_call`)."""
    return _stored(session, f"{MODEL_PREFIX}{model_id}", default)


def price_for_operation(session: Session, *, operation: str) -> int:
    """Credits for an operation ("analysis", "generation", ...): admin price or default."""
    return _stored(session, f"{OPERATION_PREFIX}{operation}", OPERATION_DEFAULTS.get(operation, 0))


def _stored(session: Session, key: str, default: int) -> int:
    value = session.exec(select(Price.credits).where(Price.key == key)).first()
    return default if value is None else int(value)


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if key.startswith(MODEL_PREFIX):
        name = key.removeprefix(MODEL_PREFIX)
        model_id = get_registry().resolve(name)
        if model_id is None:
            if "/" not in name or len(key) > 200:
                raise InvalidInputError(
                    f"No model named {name!r}. Use a model id like 'vendor/model'."
                )
            model_id = name  # a model not registered right now (its key is unset): still priced
        return f"{MODEL_PREFIX}{model_id}"
    if (
        key.startswith(OPERATION_PREFIX)
        and key.removeprefix(OPERATION_PREFIX) in OPERATION_DEFAULTS
    ):
        return key
    ops = ", ".join(sorted(OPERATION_DEFAULTS))
    raise InvalidInputError(
        f"Unknown price {key!r}. Use 'model:<model id>' or 'op:<operation>' ({ops})."
    )


# -- plans -------------------------------------------------------------------------------------


def plan_limits(user: User) -> Plan:
    """The limits of the user's plan (an unknown plan name gets the free limits)."""
    return PLANS.get(user.plan, PLANS[DEFAULT_PLAN])


def monthly_grant_key(*, user_id: int, plan: str, now: datetime) -> str:
    month = now.astimezone(UTC).strftime("%Y-%m")
    return f"monthly:{user_id}:{plan}:{month}"


def grant_monthly_credits(
    session: Session, *, user: User, now: datetime | None = None, plan: str | None = None
) -> CreditEntry | None:
    """Give the user their plan's credits for the month `now` falls in (UTC). Returns the
    month's grant entry (the first one when it was already given), None if the plan grants none.

    Idempotent through the ledger key ("monthly:<user>:<plan>:<YYYY-MM>"): a scheduler, a
    sign-in hook and Stripe's `invoice.paid` may all call it for the same month. `plan`
    overrides the user's current plan (the webhook grants Pro before it saves the plan change).
    """
    assert user.id is not None
    limits = PLANS[plan] if plan is not None else plan_limits(user)
    if limits.monthly_credits <= 0:
        return None
    when = (now or utcnow()).astimezone(UTC)
    return credits.grant_plan(
        session,
        user_id=user.id,
        amount=limits.monthly_credits,
        reason=f"{limits.display_name} plan credits for {when:%B %Y}.",
        idempotency_key=monthly_grant_key(user_id=user.id, plan=limits.name, now=when),
    )

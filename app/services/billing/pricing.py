"""Prices in credits per model and per operation, and the plans (Free, Pro) with their limits.

A price key is "model:<model_id>" (one call of that model), "op:<operation>" (an action that
is not a model call, or a surcharge on one) or "rule:<name>" (the markup rule below). Keys
without a row in `prices` cost their default: the model registry's `credits_per_call`, or
`OPERATION_DEFAULTS`, or `RULE_DEFAULTS`.

Models from a provider's catalogue (any OpenRouter model) have no built-in price: unless an
admin sets one, they cost the markup rule applied to the catalogue's USD prices, reserved on an
estimate of one call, and settled on what the provider reports the call cost (`usage.cost`),
never above what was reserved: credits = ceil(usd * markup_percent / 100 * credits_per_usd),
at least `min_credits`. An admin's `set_price` writes
a row, which wins from then on; `seed_prices` writes the defaults as rows so the admin table
lists every price.

Plans are code, not data: their limits are enforced on the server (`plan_limits(user)`), and the
monthly grant is one ledger entry per user, plan and month, so running it twice is harmless.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from app.services.accounts.auth import require_role
from app.services.analyzer.providers import get_registry
from app.services.billing import credits
from app.services.core.errors import InvalidInputError
from app.services.core.models import CreditEntry, Price, Role, User, utcnow

MODEL_PREFIX = "model:"
OPERATION_PREFIX = "op:"
RULE_PREFIX = "rule:"
MAX_PRICE = 100_000
# The markup rule over catalogue USD prices. 100 credits per USD makes a credit one US cent of
# provider cost; the credit packs sell a credit for 3-5 cents, so a 150 % markup keeps a margin
# even on the cheapest pack. Free models still cost `min_credits` (rate limits are ours to pay).
RULE_DEFAULTS: dict[str, int] = {"credits_per_usd": 100, "markup_percent": 150, "min_credits": 1}
_RULE_MINIMUMS = {"credits_per_usd": 1, "markup_percent": 1, "min_credits": 0}
# One describe call, for the estimate reserved before it runs: the system prompt carries the
# whole JSON Schema (~3-4k tokens) plus the image; the answer and any reasoning ~2k tokens.
ESTIMATE_PROMPT_TOKENS = 4000
ESTIMATE_COMPLETION_TOKENS = 2000
# What an operation costs when no admin has priced it. Model calls are priced per model.
OPERATION_DEFAULTS: dict[str, int] = {
    "analysis": 0,  # surcharge on top of the model's price
    "refinement": 0,
    "generation": 4,
    # Image studio, per input image (app/services/studio/jobs/costs.py). Local Pillow operations
    # (resize, convert, filters, thumbnails...) are free; each AI operation adds its price.
    "studio_local": 0,
    "studio_remove_background_local": 2,
    "studio_remove_background_fal": 5,
    "studio_ocr": 1,
    # One LoRA training on Fal (fal-ai/flux-lora-fast-training: about $2 a run, at the markup
    # rule's 100 credits per USD and 150 %).
    "lora_training": 300,
}


@dataclass(frozen=True)
class Plan:
    name: str
    display_name: str
    monthly_credits: int
    max_batch: int  # images in one studio job (after zip files are expanded)
    max_concurrent_jobs: int  # studio jobs queued or running at once
    price_cents: int  # per month
    # The upload platform (app/services/uploads/), per account:
    max_projects: int
    monthly_uploads: int  # files presigned per calendar month (UTC), over all projects
    max_upload_file_size: int  # bytes; a project's own cap can only be lower
    upload_rate: str  # presign requests per project, in `limits` notation


PLANS: dict[str, Plan] = {
    "free": Plan(
        name="free",
        display_name="Free",
        monthly_credits=50,
        max_batch=25,
        max_concurrent_jobs=1,
        price_cents=0,
        max_projects=3,
        monthly_uploads=1_000,
        max_upload_file_size=64 * 1024 * 1024,
        upload_rate="60/minute",
    ),
    "pro": Plan(
        name="pro",
        display_name="Pro",
        monthly_credits=1000,
        max_batch=500,
        max_concurrent_jobs=4,
        price_cents=1200,
        max_projects=25,
        monthly_uploads=100_000,
        max_upload_file_size=5 * 1024 * 1024 * 1024,
        upload_rate="600/minute",
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


@dataclass(frozen=True)
class MarkupRule:
    credits_per_usd: int
    markup_percent: int
    min_credits: int

    def credits_for_usd(self, usd: float) -> int:
        """Credits for a USD amount: marked up, rounded up, at least `min_credits`."""
        if not math.isfinite(usd) or usd <= 0:
            return self.min_credits
        raw = usd * self.markup_percent / 100 * self.credits_per_usd
        # The 1e-9 keeps float noise (0.30000000000000004) from adding a whole credit.
        return min(MAX_PRICE, max(self.min_credits, math.ceil(raw - 1e-9)))


@dataclass(frozen=True)
class ModelQuote:
    """What a model call reserves, and whether it is settled on the provider's reported cost."""

    credits: int
    by_cost: bool


# -- prices ------------------------------------------------------------------------------------


def default_prices() -> dict[str, int]:
    """Every known key with its default: registered models, then operations."""
    defaults = {
        f"{MODEL_PREFIX}{info.model_id}": info.credits_per_call
        for info in get_registry().list_models()
    }
    defaults.update({f"{OPERATION_PREFIX}{op}": c for op, c in OPERATION_DEFAULTS.items()})
    defaults.update({f"{RULE_PREFIX}{name}": c for name, c in RULE_DEFAULTS.items()})
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
    least = (
        _RULE_MINIMUMS.get(key.removeprefix(RULE_PREFIX), 0) if key.startswith(RULE_PREFIX) else 0
    )
    if credits < least:
        raise InvalidInputError(f"{key.removeprefix(RULE_PREFIX)} must be at least {least}.")
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


def has_model_price(session: Session, *, model_id: str) -> bool:
    """Whether a row prices this model (an admin's, or a seeded default)."""
    key = f"{MODEL_PREFIX}{model_id}"
    return session.exec(select(Price.id).where(Price.key == key)).first() is not None


def markup_rule(session: Session) -> MarkupRule:
    """The admin's markup rule over catalogue prices (defaults where none was set)."""
    rows = session.exec(
        select(Price.key, Price.credits).where(col(Price.key).startswith(RULE_PREFIX))
    )
    stored = {key: value for key, value in rows}  # noqa: C416 (rows are Row objects)
    values = {
        name: max(_RULE_MINIMUMS[name], int(stored.get(f"{RULE_PREFIX}{name}", default)))
        for name, default in RULE_DEFAULTS.items()
    }
    return MarkupRule(**values)


def estimate_usd(
    *,
    prompt_usd: float | None,
    completion_usd: float | None,
    image_usd: float | None = None,
    request_usd: float | None = None,
) -> float | None:
    """USD for one typical describe call at these list prices; None when the tokens' prices
    are unknown (such a model gets no automatic price)."""
    if prompt_usd is None or completion_usd is None:
        return None
    return (
        prompt_usd * ESTIMATE_PROMPT_TOKENS
        + completion_usd * ESTIMATE_COMPLETION_TOKENS
        + (image_usd or 0.0)
        + (request_usd or 0.0)
    )


def quote_model(
    session: Session, *, model_id: str, default: int, usd_per_call: float | None = None
) -> ModelQuote:
    """What one call of `model_id` reserves: the admin's price (flat), else for a catalogue
    model (`usd_per_call` known) the markup rule on its estimate (settled on the real cost),
    else `default` (the registry's flat `credits_per_call`)."""
    stored = session.exec(select(Price.credits).where(Price.key == f"{MODEL_PREFIX}{model_id}"))
    value = stored.first()
    if value is not None:
        return ModelQuote(credits=int(value), by_cost=False)
    if usd_per_call is not None:
        return ModelQuote(credits=markup_rule(session).credits_for_usd(usd_per_call), by_cost=True)
    return ModelQuote(credits=default, by_cost=False)


def charge_for_call(session: Session, *, quote: ModelQuote, cost_usd: float | None) -> int:
    """Credits to commit for a finished call: the provider's reported cost through the markup
    rule when the quote is cost-based and a cost came back, never above what was reserved."""
    if not quote.by_cost or cost_usd is None:
        return quote.credits
    return min(quote.credits, markup_rule(session).credits_for_usd(cost_usd))


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
    ) or (key.startswith(RULE_PREFIX) and key.removeprefix(RULE_PREFIX) in RULE_DEFAULTS):
        return key
    ops = ", ".join(sorted(OPERATION_DEFAULTS))
    rules = ", ".join(RULE_DEFAULTS)
    raise InvalidInputError(
        f"Unknown price {key!r}. Use 'model:<model id>', 'op:<operation>' ({ops}) "
        f"or 'rule:<name>' ({rules})."
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

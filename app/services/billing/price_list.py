"""What JSONCraft sells, as the landing and /pricing pages show it: plans, credit packs, and what
each action costs. Everything is read from where it is defined and enforced (`pricing.PLANS`,
`billing.PACKS`, the admin's price table and the model registry): no price is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.services.analyzer.providers import get_registry
from app.services.billing import billing, pricing
from app.settings import Settings

# Operations on sale, as a person would name them (keys of pricing.OPERATION_DEFAULTS).
# Image generation joins the list when the app generates images.
OPERATION_LABELS = {
    "studio_local": "Studio: resize, convert, compress, filters (per image)",
    "studio_remove_background_local": "Studio: background removal, offline (per image)",
    "studio_remove_background_fal": "Studio: background removal, Fal.ai (per image)",
    "studio_ocr": "Studio: text recognition (per image)",
    "lora_training": "LoRA training on Fal.ai (per training)",
}


@dataclass(frozen=True)
class PlanOffer:
    id: str
    name: str
    price: str  # "$0 / month", "$12 / month"
    monthly_credits: int
    perks: tuple[str, ...]
    paid: bool


@dataclass(frozen=True)
class PackOffer:
    id: str
    credits: int
    price: str
    per_credit: str  # "5.0¢ per credit"


@dataclass(frozen=True)
class ActionPrice:
    label: str
    credits: int
    cost: str  # "Free", "1 credit", "3 credits"


@dataclass(frozen=True)
class PriceList:
    plans: list[PlanOffer]
    packs: list[PackOffer]
    actions: list[ActionPrice]
    purchases_enabled: bool


def money(cents: int, currency: str = "usd") -> str:
    symbol = "$" if currency.lower() == "usd" else f"{currency.upper()} "
    return f"{symbol}{cents // 100}" if cents % 100 == 0 else f"{symbol}{cents / 100:.2f}"


def plan_offers() -> list[PlanOffer]:
    return [
        PlanOffer(
            id=plan.name,
            name=plan.display_name,
            price=money(plan.price_cents) + " / month",
            monthly_credits=plan.monthly_credits,
            perks=(
                f"{plan.monthly_credits} credits every month",
                f"Studio batches of up to {plan.max_batch} images",
                _jobs_at_a_time(plan.max_concurrent_jobs),
                "Offline analyzer, gallery, editor and REST API",
            ),
            paid=plan.price_cents > 0,
        )
        for plan in sorted(pricing.PLANS.values(), key=lambda p: p.price_cents)
    ]


def _jobs_at_a_time(n: int) -> str:
    return f"{n} studio job{'s' if n != 1 else ''} at a time"


def pack_offers() -> list[PackOffer]:
    return [
        PackOffer(
            id=pack.id,
            credits=pack.credits,
            price=money(pack.amount_cents, pack.currency),
            per_credit=f"{pack.amount_cents / pack.credits:.1f}¢ per credit",
        )
        for pack in sorted(billing.PACKS.values(), key=lambda p: p.credits)
    ]


def action_prices(session: Session) -> list[ActionPrice]:
    """Each usable model at the admin's price (else the model's default), then operations."""
    rows = [
        _action(
            f"{model.info.display_name} (per analysis)",
            pricing.price_for_model(
                session, model_id=model.info.model_id, default=model.info.credits_per_call
            ),
        )
        for model in get_registry().models()
        if model.is_available()  # a model whose key is unset isn't for sale here
    ]
    rows += [
        _action(label, pricing.price_for_operation(session, operation=op))
        for op, label in OPERATION_LABELS.items()
        if op in pricing.OPERATION_DEFAULTS
    ]
    return rows


def _action(label: str, credits: int) -> ActionPrice:
    cost = "Free" if credits == 0 else f"{credits} credit{'s' if credits != 1 else ''}"
    return ActionPrice(label=label, credits=credits, cost=cost)


def price_list(session: Session, *, settings: Settings | None = None) -> PriceList:
    return PriceList(
        plans=plan_offers(),
        packs=pack_offers(),
        actions=action_prices(session),
        purchases_enabled=billing.billing_enabled(settings),
    )

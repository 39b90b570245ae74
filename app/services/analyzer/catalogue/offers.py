"""What the analyzer's picker offers, and what admins see and change of the catalogue.

The picker lists the registered models (the offline analyzer, the built-in OpenRouter models,
the OpenAI-compatible ones) and then one page of the catalogue models on offer that match the
search: a few hundred entries never travel to the browser at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.services.accounts.auth import require_role
from app.services.analyzer.catalogue import store
from app.services.analyzer.catalogue.entries import OPENAI_COMPATIBLE, OPENROUTER
from app.services.analyzer.catalogue.lookup import openrouter_info, price_note
from app.services.analyzer.catalogue.refresh import RefreshResult, refresh_all
from app.services.analyzer.providers import Model, ModelInfo, get_registry, openrouter
from app.services.billing import pricing
from app.services.core.errors import NotFoundError, UserFacingError
from app.services.core.models import Role, User
from app.settings import Settings

PICKER_PAGE = 30
ADMIN_PAGE = 25
_LABELS = {OPENROUTER: "OpenRouter", OPENAI_COMPATIBLE: "OpenAI-compatible endpoint"}


@dataclass(frozen=True)
class PickerModel:
    info: ModelInfo
    credits: int
    unavailable: str  # why it can't be picked now, or ""


@dataclass(frozen=True)
class PickerPage:
    models: list[PickerModel]
    more: bool  # other offered models match: type more to narrow the list


def _matches(info: ModelInfo, words: list[str]) -> bool:
    text = f"{info.model_id} {info.display_name} {' '.join(info.aliases)}".casefold()
    return all(word in text for word in words)


def picker_page(
    session: Session,
    *,
    settings: Settings,
    query: str = "",
    keep: str = "",
    limit: int = PICKER_PAGE,
) -> PickerPage:
    """Registered models matching `query`, then offered catalogue models, at most `limit`
    in all; `keep` (the selected id) is always included so the picker can show it."""
    words = query[: store.MAX_QUERY].casefold().split()
    registry = get_registry()
    chosen: list[Model] = [m for m in registry.models() if _matches(m.info, words)]
    seen = {m.info.model_id.casefold() for m in registry.models()}
    rows = store.offered_page(session, query=query, limit=limit + len(seen) + 1)
    catalogue = [r for r in rows if r.source == OPENROUTER and r.model_id.casefold() not in seen]
    more = len(chosen) + len(catalogue) > limit
    models = [_option(session, m.info, m.unavailable_reason()) for m in chosen]
    for row in catalogue[: max(0, limit - len(models))]:
        model = openrouter.OpenRouterModel(openrouter_info(row), settings=settings)
        models.append(_option(session, model.info, model.unavailable_reason()))
    if keep and not any(m.info.model_id == keep for m in models):
        try:
            kept: Model | None = registry.get_model(keep)
        except UserFacingError:  # no longer listed: simply not shown
            kept = None
        if kept is not None:
            models.insert(0, _option(session, kept.info, kept.unavailable_reason()))
    return PickerPage(models=models, more=more)


def _option(session: Session, info: ModelInfo, unavailable: str | None) -> PickerModel:
    quote = pricing.quote_model(
        session,
        model_id=info.model_id,
        default=info.credits_per_call,
        usd_per_call=info.usd_per_call,
    )
    return PickerModel(info=info, credits=quote.credits, unavailable=unavailable or "")


# -- admins ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdminRow:
    source: str
    model_id: str
    name: str
    list_price: str
    vision: bool
    offered: bool
    choice: str  # "default" | "offered" | "hidden" (the admin's choice)
    credits: int
    price_kind: str  # "set" (a row in the price table), "built-in" (flat), "markup" (the rule)


@dataclass(frozen=True)
class CatalogueStatus:
    summary: str
    listed: int


def status(session: Session, *, actor: User | None) -> CatalogueStatus:
    require_role(actor, Role.admin)
    parts = []
    total = 0
    for s in store.summaries(session):
        total += s.listed
        when = f" · refreshed {_when(s.fetched_at)}" if s.fetched_at else ""
        images = f", {s.vision} take images" if s.source == OPENROUTER else ""
        parts.append(f"{_LABELS.get(s.source, s.source)}: {s.listed} models{images}{when}")
    if not parts:
        return CatalogueStatus(
            summary="Not fetched yet: the picker offers the built-in models only.", listed=0
        )
    return CatalogueStatus(summary=". ".join(parts) + ".", listed=total)


def refresh(*, actor: User | None, settings: Settings) -> list[RefreshResult]:
    """The admin's refresh button: every configured catalogue, now. Takes no session: the
    fetch can take seconds, and the refresh writes in its own transactions."""
    require_role(actor, Role.admin)
    return refresh_all(settings)


def admin_rows(
    session: Session, *, actor: User | None, query: str = "", limit: int = ADMIN_PAGE
) -> list[AdminRow]:
    require_role(actor, Role.admin)
    rows = store.search(session, query=query, source=OPENROUTER, limit=limit)
    registry = get_registry()
    out = []
    for row in rows:
        # A built-in model with the same id is the one that runs: show its price.
        registered = registry.resolve(row.model_id)
        info = (
            registry.get_model(registered).info if registered is not None else openrouter_info(row)
        )
        quote = pricing.quote_model(
            session,
            model_id=info.model_id,
            default=info.credits_per_call,
            usd_per_call=info.usd_per_call,
        )
        custom = pricing.has_model_price(session, model_id=info.model_id)
        out.append(
            AdminRow(
                source=row.source,
                model_id=row.model_id,
                name=row.name,
                list_price=price_note(row),
                vision=row.vision,
                offered=store.is_offered(row),
                choice="default"
                if row.offered is None
                else ("offered" if row.offered else "hidden"),
                credits=quote.credits,
                price_kind="set" if custom else ("markup" if quote.by_cost else "built-in"),
            )
        )
    return out


def set_offered(
    session: Session, *, actor: User | None, model_id: str, offered: bool | None
) -> None:
    """Offer (True) or hide (False) a model in the picker, or follow the default (None)."""
    require_role(actor, Role.admin)
    if store.set_offered(session, source=OPENROUTER, model_id=model_id, offered=offered) is None:
        raise NotFoundError("That model is not in the catalogue: refresh it first.")


def _when(value: datetime) -> str:
    return value.strftime("%d %b %Y %H:%M")

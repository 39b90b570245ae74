"""`/admin` model catalogue: refresh OpenRouter's list, see its size, choose which models the
analyzer offers. Prices go through the admin price table (AdminState.save_price), whose
`rule:*` rows hold the markup rule. Every handler goes through
app/services/analyzer/catalogue/offers.py, which refuses anyone but an admin."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from app.services.analyzer.catalogue import offers
from app.services.billing import pricing
from app.services.core.models import User
from app.settings import get_settings
from app.state.base import as_signed_in, run_service, user_message
from app.state.session import SessionState

_CHOICES = {"default": None, "offered": True, "hidden": False}


def _view(session: Session, user: User, query: str) -> dict[str, Any]:
    status = offers.status(session, actor=user)
    rows = [
        {
            "id": r.model_id,
            "name": r.name,
            "list_price": r.list_price,
            "vision": r.vision,
            "offered": r.offered,
            "choice": r.choice,
            "credits": str(r.credits),
            "price_kind": r.price_kind,
        }
        for r in offers.admin_rows(session, actor=user, query=query)
    ]
    return {"summary": status.summary, "rows": rows}


class AdminCatalogueState(SessionState):
    catalogue_summary: str = ""
    catalogue_query: str = ""
    catalogue_rows: list[dict[str, Any]] = []
    refreshing: bool = False

    async def _reload(self) -> None:
        query = self.catalogue_query
        found = await run_service(as_signed_in, self.token, lambda s, u: _view(s, u, query))
        self.catalogue_summary, self.catalogue_rows = found["summary"], found["rows"]

    @rx.event
    async def load_catalogue(self):  # type: ignore[no-untyped-def]
        try:
            await self._reload()
        except Exception as e:  # non-admins: the service refused them
            return rx.toast.error(user_message(e))
        return None

    @rx.event
    async def refresh_catalogue(self):  # type: ignore[no-untyped-def]
        if self.refreshing:
            return
        self.refreshing = True
        yield
        try:
            actor = await run_service(as_signed_in, self.token, lambda _s, u: u)
            results = await run_service(offers.refresh, actor=actor, settings=get_settings())
            await self._reload()
        except Exception as e:  # permissions and provider failures come back as messages
            self.refreshing = False
            yield rx.toast.error(user_message(e))
            return
        self.refreshing = False
        failed = [r.error for r in results if r.error]
        if failed:
            yield rx.toast.error("; ".join(failed))
        else:
            listed = sum(r.listed for r in results)
            yield rx.toast.success(f"Model catalogue refreshed: {listed} models.")

    @rx.event
    async def search_catalogue(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        self.catalogue_query = str(form.get("q", ""))[:100]
        try:
            await self._reload()
        except Exception as e:  # shown as a toast
            return rx.toast.error(user_message(e))
        return None

    @rx.event
    async def save_model_price(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        model_id = str(form.get("model", ""))
        try:
            amount = int(str(form.get("credits", "")).strip())
        except ValueError:
            return rx.toast.error("A price is a whole number of credits.")
        try:
            await run_service(
                as_signed_in,
                self.token,
                lambda s, u: pricing.set_price(s, actor=u, key=f"model:{model_id}", credits=amount),
            )
            await self._reload()
        except Exception as e:  # bad input and permissions come back as messages
            return rx.toast.error(user_message(e))
        return rx.toast.success(f"Price saved: {model_id} costs {amount} credits.")

    @rx.event
    async def choose(self, model_id: str, choice: str):  # type: ignore[no-untyped-def]
        if choice not in _CHOICES:
            return rx.toast.error("Choose default, offered or hidden.")
        offered = _CHOICES[choice]
        try:
            await run_service(
                as_signed_in,
                self.token,
                lambda s, u: offers.set_offered(
                    s, actor=u, model_id=str(model_id), offered=offered
                ),
            )
            await self._reload()
        except Exception as e:  # shown as a toast
            return rx.toast.error(user_message(e))
        return rx.toast.success(f"{model_id}: {choice}.")

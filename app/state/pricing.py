"""Plans, credit packs and prices (landing page and `/pricing`), and buying them.

Buying reuses the checkout the `/credits` page uses (billing.create_checkout_session for packs,
billing.create_subscription_checkout for plans); Stripe sends the person back to `/credits`,
which watches the balance until the webhook lands. A visitor who isn't signed in is sent to sign
up first, and comes back to `/pricing?buy=...`, which then starts that checkout.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import reflex as rx

from app import routes
from app.services.billing import billing, price_list
from app.services.core.db import session_scope
from app.services.core.errors import InvalidInputError
from app.settings import get_settings
from app.state.base import as_signed_in, run_service, user_message
from app.state.session import SessionState


def _prices() -> dict[str, Any]:
    with session_scope() as session:
        return asdict(price_list.price_list(session))


def _checkout(token: str, offer: str) -> str:
    kind, _, name = offer.partition(":")
    app_url = get_settings().app_url
    urls = {
        "success_url": f"{app_url}{routes.CREDITS}?checkout=success",
        "cancel_url": f"{app_url}{routes.PRICING}?checkout=cancelled",
    }
    if kind == "pack":
        return as_signed_in(
            token,
            lambda s, user: billing.create_checkout_session(s, user=user, pack_id=name, **urls),
        )
    if kind == "plan":
        return as_signed_in(
            token,
            lambda s, user: billing.create_subscription_checkout(s, user=user, plan=name, **urls),
        )
    raise InvalidInputError("Pick a plan or a credit pack.")


class PricingState(SessionState):
    plans: list[dict[str, Any]] = []
    packs: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    purchases_enabled: bool = False

    @rx.event
    async def load_prices(self) -> None:
        found = await run_service(_prices)
        self.plans, self.packs = found["plans"], found["packs"]
        self.actions, self.purchases_enabled = found["actions"], found["purchases_enabled"]

    @rx.event
    async def load_pricing(self):  # type: ignore[no-untyped-def]
        await self._refresh()
        await self.load_prices()
        params = self.router.url.query_parameters
        if params.get("checkout") == "cancelled":
            return rx.toast.info("Checkout cancelled: nothing was charged.")
        offer = params.get("buy", "")
        if offer and self.signed_in:  # back from signing up: carry on to checkout
            return await self.buy(offer)
        return None

    @rx.event
    async def buy(self, offer: str):  # type: ignore[no-untyped-def]
        if not self.purchases_enabled:
            return rx.toast.info("Purchases aren't set up on this server: an admin grants credits.")
        await self._refresh()
        if not self.signed_in:
            return rx.redirect(routes.signup_url(routes.pricing_buy_url(offer)))
        try:
            url = await run_service(_checkout, self.token, offer)
        except Exception as e:  # unknown offer, already on that plan, Stripe down
            return rx.toast.error(user_message(e))
        return rx.redirect(url)  # Stripe's hosted checkout, in this tab

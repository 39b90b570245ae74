"""`/pricing`: the plans and credit packs for sale, what each action costs, and buy buttons."""

from __future__ import annotations

import reflex as rx

from app.components.pricing import action_prices_table, packs_grid, plans_grid, purchases_note
from app.components.shell import page_shell
from app.state.pricing import PricingState as P


def pricing_page() -> rx.Component:
    return page_shell(
        purchases_note(P.purchases_enabled),
        rx.heading("Plans", size="5", as_="h2"),
        plans_grid(P.plans, P.buy, P.purchases_enabled),
        rx.heading("Credit packs", size="5", as_="h2"),
        rx.text(
            "Credits never expire. Buying one needs an account: you sign up first and come "
            "straight back to checkout.",
            size="2",
            color_scheme="gray",
        ),
        packs_grid(P.packs, P.buy, P.purchases_enabled),
        rx.heading("What things cost", size="5", as_="h2"),
        action_prices_table(P.actions),
        title="Pricing",
        subtitle="Start free. Paid models and AI operations use credits from your plan or a pack; "
        "what each costs is listed below.",
    )
